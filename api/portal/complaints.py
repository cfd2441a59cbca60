"""居民投诉 for the office: a project's complaints, one complaint with its photos and the resident's
contact, and triage into a rectification order or a dismissal with a reason."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery

from api.portal.common import Me, Svc, end_of_day
from api.portal.errors import title_for
from api.portal.forms import read_form
from api.portal.session import check_csrf, current_viewer
from api.portal.templating import redirect, render
from inspection.complaints import schemas as cs
from inspection.complaints.rules import ComplaintState
from inspection.errors import DomainError, NotFound, ValidationFailed
from inspection.messages import t
from inspection.rectification.rules import OrderKind, Severity


def _version(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


class ComplaintPages(Controller):
    path = "/portal"
    dependencies = {"viewer": Provide(current_viewer)}

    @get("/projects/{project_id:uuid}/complaints", name="portal-complaints")
    async def list_complaints(
        self,
        request: Request[Any, Any, Any],
        project_id: FromPath[UUID],
        viewer: Me,
        services: Svc,
        status: FromQuery[ComplaintState | None] = None,
    ) -> Response[str]:
        project = await services.projects.get_project(viewer.actor, project_id)
        page = await services.complaints.list_complaints(viewer.actor, project_id, status, limit=200)
        return render(request, "complaints.html", project=project, page=page, status=status.value if status else "")

    async def _detail(
        self, request: Request[Any, Any, Any], viewer: Any, services: Any, complaint_id: UUID, **ctx: Any
    ) -> Response[str]:
        complaint = await services.complaints.get_complaint(viewer.actor, complaint_id)
        found = (
            await services.projects.list_work_items(
                viewer.actor, complaint.project_id, complaint.site_id, limit=500, offset=0
            )
        ).items
        in_site = await services.projects.list_buildings(viewer.actor, complaint.site_id, limit=500, offset=0)
        buildings = {b.id: b.name for b in in_site.items}
        # each work item once, named with its building: several buildings have a 屋面防水改造 each
        work = [
            {"id": w.id, "label": " · ".join(x for x in (buildings.get(w.building_id, ""), w.name) if x)}
            for w in {w.id: w for w in found}.values()
        ]
        work.sort(key=lambda w: str(w["label"]))
        return render(
            request,
            "complaint.html",
            status_code=ctx.pop("status_code", 200),
            complaint=complaint,
            work=work,
            kinds=[k for k in OrderKind if k is not OrderKind.stop_work],
            severities=list(Severity),
            today=services.clock.today().isoformat(),
            error=ctx.pop("error", None),
            form=ctx.pop("form", {}),
        )

    @get("/complaints/{complaint_id:uuid}", name="portal-complaint")
    async def complaint(
        self, request: Request[Any, Any, Any], complaint_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[str]:
        return await self._detail(request, viewer, services, complaint_id)

    @post("/complaints/{complaint_id:uuid}/triage", status_code=303)
    async def triage(
        self, request: Request[Any, Any, Any], complaint_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        version = _version(form.get("version"))
        try:
            if form.get("move") == "order":
                work_raw = form.get("work_item_id")
                try:
                    kind = OrderKind(form.get("kind") or "quality")
                    severity = Severity(form.get("severity") or "general")
                    work_item_id = UUID(work_raw) if work_raw else None
                except ValueError:
                    raise ValidationFailed(t("portal.choose_kind_severity_work_from_lists"), field="kind") from None
                if not form.get("description").strip():
                    raise ValidationFailed(t("portal.describe_what_contractor_must_put_right"), field="description")
                deadline = None
                if form.get("deadline").strip():
                    deadline = end_of_day(form.get("deadline"), services.rectification.book.calendar.tz)
                done = await services.complaints.to_order(
                    viewer.actor,
                    complaint_id,
                    cs.ToOrderBody(
                        version=version,
                        kind=kind,
                        severity=severity,
                        description=form.get("description").strip(),
                        work_item_id=work_item_id,
                        deadline=deadline,
                        deadline_reason=form.get("deadline_reason").strip(),
                    ),
                )
                return redirect(request, f"/portal/orders/{done.order_id}?done=from-complaint")
            if form.get("move") == "dismiss":
                if not form.get("reason").strip():
                    raise ValidationFailed(t("portal.say_why_complaint_dismissed"), field="reason")
                await services.complaints.dismiss(
                    viewer.actor, complaint_id, cs.DismissBody(version=version, reason=form.get("reason").strip())
                )
                return redirect(request, f"/portal/complaints/{complaint_id}")
            raise ValidationFailed(t("portal.choose_open_order_dismiss"), field="move")
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            return await self._detail(
                request,
                viewer,
                services,
                complaint_id,
                status_code=exc.status,
                error=f"{title_for(exc.status)}：{exc.detail}",
                form=form.fields,
            )
