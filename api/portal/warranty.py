"""竣工验收 and 保修 pages: the owner records a joint acceptance (participants, signatures, photos; the
blockers listed with links when it cannot pass), a project's warranty register and claims, claims
reported by resident supervisors, the property company or the owner, and the contractor's answer.
Every write goes through WarrantyService exactly as api/warranty.py's controllers call it."""

from __future__ import annotations

import re
from contextlib import ExitStack
from datetime import date
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath

from api.evidence import UPLOAD_ROUTE_CEILING
from api.portal.common import (
    PROJECT_REPORTS,
    Me,
    Svc,
    organisation_names,
    place_labels,
    report_links,
    store_photos,
)
from api.portal.errors import portal_error
from api.portal.forms import Form, UploadedFile, read_form
from api.portal.session import check_csrf, current_viewer
from api.portal.templating import redirect, render
from inspection.blockers import acceptance_blockers
from inspection.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from inspection.messages import t
from inspection.messages.decoding import explain
from inspection.projects.access import project_access
from inspection.projects.rules import OrgKind, Role
from inspection.reports.loaders.base import user_names
from inspection.warranty import schemas as ws
from inspection.warranty.rules import REQUIRED_PARTIES, AcceptanceParty, ClaimState

ORDER_LINK = re.compile(r"/portal/orders/([0-9a-f-]{36})")
ACCEPTANCE_PDF = ("acceptance", "竣工联合验收记录", "/api/v1/reports/acceptances/{}.pdf")
MAX_PARTICIPANTS = 12
SPARE_ROWS = 2  # for a utility operator or a second representative
MAX_ACCEPTANCE_PHOTOS = 9
MAX_CLAIM_PHOTOS = 9
# the form's text fields: six of the acceptance's own and four per participant row
ACCEPTANCE_FIELDS = 8 + 4 * MAX_PARTICIPANTS


def _blank_rows() -> list[dict[str, str]]:
    """The rows the form starts with: each party the rules require, as many times as required."""
    rows = [{"party": p.value} for p, n in REQUIRED_PARTIES.items() for _ in range(n)]
    rows += [{"party": ""} for _ in range(min(SPARE_ROWS, MAX_PARTICIPANTS - len(rows)))]
    return rows


def _convert(raw: dict[str, Any], shape: type[Any]) -> Any:
    """A form's values as the API's request body, refused with the field named as the API does."""
    try:
        return msgspec.convert(raw, shape)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = message.rpartition("`$.")[2].rstrip("`") if "`$." in message else ""
        raise ValidationFailed(explain(message.split(" - at `")[0]), field=path or "body") from None


def _local_path(link: str, base: str) -> str:
    return link[len(base) :] if base and link.startswith(base) else link


async def _reporting_parties(actor: Any, project_id: UUID) -> list[str]:
    """The parties the viewer may report a claim as (the service checks it again)."""
    access = await project_access(actor, project_id)
    parties = []
    if access.has(Role.resident_supervisor):
        parties.append("resident")
    if actor.is_admin or actor.organisation_kind == OrgKind.property.value:
        parties.append("property")
    if access.has(Role.owner):
        parties.append("owner")
    return parties


class WarrantyPages(Controller):
    path = "/portal"
    dependencies = {"viewer": Provide(current_viewer)}

    # The register, the claims and the acceptances of a project

    async def _register_page(
        self, request: Request[Any, Any, Any], viewer: Any, services: Any, project_id: UUID, **extra: Any
    ) -> Response[str]:
        actor = viewer.actor
        project = await services.projects.get_project(actor, project_id)
        register = await services.warranty.register(actor, project_id, limit=500)
        claims = (await services.warranty.list_claims(actor, project_id)).items
        acceptances = await services.warranty.list_acceptances(actor, project_id)
        items = {i.id: i for i in register.items}
        sites = {
            s.id: s.name for s in (await services.projects.list_sites(actor, project_id, limit=500, offset=0)).items
        }
        orgs = await organisation_names(services, actor, {c.contractor_id for c in claims})
        access = await project_access(actor, project_id)
        return render(
            request,
            "warranty.html",
            status_code=extra.pop("status_code", 200),
            project=project,
            items=register.items,
            today=services.warranty.today(),
            sites=sites,
            claims=claims,
            claim_items=items,
            orgs=orgs,
            acceptances=acceptances,
            may_accept=access.has(Role.owner),
            parties=await _reporting_parties(actor, project_id),
            open_items=[i for i in register.items if not i.expired],
            photo_limit=services.settings.storage.max_upload_bytes,
            max_photos=MAX_CLAIM_PHOTOS,
            reports=report_links(request.app, [r for r in PROJECT_REPORTS if r[0] == "warranty"], project_id),
            error=extra.pop("error", None),
            form=extra.pop("form", {}),
            done=request.query_params.get("done"),
        )

    @get("/projects/{project_id:uuid}/warranty", name="portal-warranty")
    async def register(
        self, request: Request[Any, Any, Any], project_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[str]:
        return await self._register_page(request, viewer, services, project_id)

    @post("/projects/{project_id:uuid}/warranty/claims", request_max_body_size=UPLOAD_ROUTE_CEILING, status_code=303)
    async def report_claim(
        self, request: Request[Any, Any, Any], project_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        """报修: a defect on an item under warranty, with where it is and photos."""
        actor = viewer.actor
        form = Form()
        with ExitStack() as stack:
            try:
                await read_form(request, stack, max_files=MAX_CLAIM_PHOTOS, into=form)
            except DomainError as exc:
                return await self._claim_refused(request, viewer, services, project_id, exc, form)
            check_csrf(request, form.fields)
            await services.projects.get_project(actor, project_id)  # 404 before any photo is kept
            try:
                if form.get("reporter_party") not in await _reporting_parties(actor, project_id):
                    raise Forbidden(t("portal.warranty_claim_not_yours_to_report"))
                shas = await store_photos(services, actor, form.files, project_id)
                data = _convert(
                    {
                        "warranty_item_id": form.get("warranty_item_id"),
                        "reporter_party": form.get("reporter_party"),
                        "location": form.get("location").strip(),
                        "description": form.get("description").strip(),
                        "photos": shas,
                    },
                    ws.ClaimCreate,
                )
                claim = await services.warranty.report_claim(actor, data)
            except DomainError as exc:
                return await self._claim_refused(request, viewer, services, project_id, exc, form)
        return redirect(request, f"/portal/warranty/claims/{claim.id}?done=report")

    async def _claim_refused(
        self,
        request: Request[Any, Any, Any],
        viewer: Any,
        services: Any,
        project_id: UUID,
        exc: DomainError,
        form: Form,
    ) -> Response[str]:
        if isinstance(exc, NotFound):
            raise exc
        return await self._register_page(
            request, viewer, services, project_id, status_code=exc.status, error=portal_error(exc), form=form.fields
        )

    # One claim and the contractor's answer

    async def _claim_page(
        self, request: Request[Any, Any, Any], viewer: Any, services: Any, claim_id: UUID, **extra: Any
    ) -> Response[str]:
        actor = viewer.actor
        claim = await services.warranty.get_claim(actor, claim_id)
        project = await services.projects.get_project(actor, claim.project_id)
        item = next(
            (
                i
                for i in (await services.warranty.register(actor, claim.project_id, limit=500, offset=0)).items
                if i.id == claim.warranty_item_id
            ),
            None,
        )
        place = ""
        if item is not None:
            place = (await place_labels(services, actor, [(item.site_id, None, item.work_item_id)])).get(
                (item.site_id, None, item.work_item_id), ""
            )
        orgs = await organisation_names(services, actor, {claim.contractor_id})
        people = await user_names([claim.reporter_id])
        may_answer = (
            claim.status is ClaimState.open
            and viewer.is_contractor
            and viewer.actor.organisation_id == claim.contractor_id
        )
        return render(
            request,
            "warranty_claim.html",
            status_code=extra.pop("status_code", 200),
            claim=claim,
            project=project,
            item=item,
            place=place,
            contractor=orgs.get(claim.contractor_id, ""),
            reporter=people.get(claim.reporter_id, "") if claim.reporter_id else "",
            may_answer=may_answer,
            error=extra.pop("error", None),
            form=extra.pop("form", {}),
            done=request.query_params.get("done"),
        )

    @get("/warranty/claims/{claim_id:uuid}", name="portal-warranty-claim")
    async def claim(
        self, request: Request[Any, Any, Any], claim_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[str]:
        return await self._claim_page(request, viewer, services, claim_id)

    @post("/warranty/claims/{claim_id:uuid}/answer", status_code=303)
    async def answer(
        self, request: Request[Any, Any, Any], claim_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        """The contractor takes the claim on, or disputes it (the service opens a warranty order)."""
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        try:
            if form.get("accept") not in ("yes", "no"):
                raise ValidationFailed(t("portal.warranty_claim_choose_answer"), field="accept")
            data = _convert({"accept": form.get("accept") == "yes", "text": form.get("text").strip()}, ws.ClaimAnswer)
            await services.warranty.answer_claim(viewer.actor, claim_id, data)
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            return await self._claim_page(
                request, viewer, services, claim_id, status_code=exc.status, error=portal_error(exc), form=form.fields
            )
        return redirect(request, f"/portal/warranty/claims/{claim_id}?done=answer")

    # Joint acceptance

    async def _acceptance_form(
        self, request: Request[Any, Any, Any], viewer: Any, services: Any, project_id: UUID, **extra: Any
    ) -> Response[str]:
        actor = viewer.actor
        project = await services.projects.get_project(actor, project_id)
        sites = (await services.projects.list_sites(actor, project_id, limit=500, offset=0)).items
        form = extra.pop("form", {})
        site_raw = form.get("site_id", "")
        site_id = next((s.id for s in sites if str(s.id) == site_raw), None)
        blockers = extra.pop("blockers", None)
        if blockers is None:
            base = services.settings.public_base_url
            blockers = [
                {"message": str(b.description), "link": _local_path(b.link, base)}
                for b in await acceptance_blockers(project_id, site_id)
            ]
        # an open order's blocker shows the number its notice went out under
        order_ids = {}
        for b in blockers:
            found = ORDER_LINK.fullmatch(b["link"])
            if found:
                order_ids[b["link"]] = UUID(found.group(1))
        numbers = await services.reports.notice_numbers(list(order_ids.values())) if order_ids else {}
        blockers = [{**b, "number": numbers.get(order_ids.get(b["link"]), "")} for b in blockers]  # type: ignore[arg-type]
        rows = _blank_rows()
        for i, row in enumerate(rows):
            for key in ("party", "name", "opinion", "signed"):
                if f"{key}_{i}" in form:
                    row[key] = form[f"{key}_{i}"]
        return render(
            request,
            "acceptance_new.html",
            status_code=extra.pop("status_code", 200),
            project=project,
            sites=sites,
            rows=rows,
            parties=list(AcceptanceParty),
            blockers=blockers,
            today=services.warranty.today().isoformat(),
            error=extra.pop("error", None),
            form=form,
        )

    @get("/projects/{project_id:uuid}/acceptance", name="portal-acceptance-new")
    async def acceptance_form(
        self, request: Request[Any, Any, Any], project_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[str]:
        await self._owner_only(viewer.actor, project_id)
        return await self._acceptance_form(request, viewer, services, project_id, form=dict(request.query_params))

    @staticmethod
    async def _owner_only(actor: Any, project_id: UUID) -> None:
        """The form is the owner's (others: 404 when not a member, 403 when a member), checked
        before any photo is kept; the service checks it again when recording."""
        if not (await project_access(actor, project_id)).has(Role.owner):
            raise Forbidden(t("warranty.owner_records_acceptance"))

    @post("/projects/{project_id:uuid}/acceptance", request_max_body_size=UPLOAD_ROUTE_CEILING, status_code=303)
    async def record_acceptance(
        self, request: Request[Any, Any, Any], project_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        actor = viewer.actor
        form = Form()
        with ExitStack() as stack:
            try:
                await read_form(
                    request,
                    stack,
                    max_files=MAX_PARTICIPANTS + MAX_ACCEPTANCE_PHOTOS,
                    max_fields=ACCEPTANCE_FIELDS,
                    into=form,
                )
            except DomainError as exc:
                return await self._acceptance_refused(request, viewer, services, project_id, exc, form)
            check_csrf(request, form.fields)
            await self._owner_only(actor, project_id)
            try:
                data = await self._acceptance_body(services, actor, project_id, form)
                acceptance = await services.warranty.record_acceptance(actor, data)
            except DomainError as exc:
                return await self._acceptance_refused(request, viewer, services, project_id, exc, form)
        return redirect(request, f"/portal/acceptances/{acceptance.id}?done=record")

    @staticmethod
    async def _acceptance_body(services: Any, actor: Any, project_id: UUID, form: Form) -> ws.AcceptanceCreate:
        photos = [f for f in form.files if f.field == "photos"]
        if len(photos) > MAX_ACCEPTANCE_PHOTOS:
            raise ValidationFailed(
                t("portal.send_at_most_photos_at_once", max_files=MAX_ACCEPTANCE_PHOTOS), field="photos"
            )
        signatures: dict[int, UploadedFile] = {}
        for f in form.files:
            if f.field.startswith("signature_") and f.field[10:].isdigit():
                signatures[int(f.field[10:])] = f
        participants = []
        for i in range(MAX_PARTICIPANTS):
            name = form.get(f"name_{i}").strip()
            if not name:
                continue
            signature = None
            if i in signatures:
                signature = (await store_photos(services, actor, [signatures[i]], project_id))[0]
            participants.append(
                {
                    "party": form.get(f"party_{i}"),
                    "name": name,
                    "signed": form.get(f"signed_{i}") == "on" or signature is not None,
                    "signature": signature,
                    "opinion": form.get(f"opinion_{i}").strip(),
                }
            )
        try:
            date.fromisoformat(form.get("accepted_on"))
        except ValueError:
            raise ValidationFailed(t("portal.pick_date"), field="accepted_on") from None
        return _convert(  # type: ignore[no-any-return]
            {
                "project_id": str(project_id),
                "site_id": form.get("site_id") or None,
                "accepted_on": form.get("accepted_on"),
                "result": form.get("result"),
                "remarks": form.get("remarks").strip(),
                "participants": participants,
                "photos": await store_photos(services, actor, photos, project_id),
            },
            ws.AcceptanceCreate,
        )

    async def _acceptance_refused(
        self,
        request: Request[Any, Any, Any],
        viewer: Any,
        services: Any,
        project_id: UUID,
        exc: DomainError,
        form: Form,
    ) -> Response[str]:
        if isinstance(exc, NotFound):
            raise exc
        blockers = None
        if isinstance(exc, Conflict) and exc.extra.get("blockers"):
            base = services.settings.public_base_url
            blockers = [
                {"message": str(b["message"]), "link": _local_path(b["link"], base)} for b in exc.extra["blockers"]
            ]
        return await self._acceptance_form(
            request,
            viewer,
            services,
            project_id,
            status_code=exc.status,
            error=portal_error(exc),
            form=form.fields,
            blockers=blockers,
        )

    @get("/acceptances/{acceptance_id:uuid}", name="portal-acceptance")
    async def acceptance(
        self, request: Request[Any, Any, Any], acceptance_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[str]:
        actor = viewer.actor
        a = await services.warranty.get_acceptance(actor, acceptance_id)
        project = await services.projects.get_project(actor, a.project_id)
        site = None
        if a.site_id:
            site = await services.projects.get_site(actor, a.site_id)
        sites = {
            s.id: s.name for s in (await services.projects.list_sites(actor, a.project_id, limit=500, offset=0)).items
        }
        return render(
            request,
            "acceptance.html",
            a=a,
            project=project,
            site=site,
            sites=sites,
            reports=report_links(request.app, [ACCEPTANCE_PDF], acceptance_id),
            done=request.query_params.get("done"),
        )
