"""检查记录 pages: the inspections a user may read, filtered as the API filters them, and one
inspection with its items, photos, score and grade, the orders it opened and its PDF; there the
issuer sends the drafts it opened out as one 整改通知单 per contractor, with one deadline."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery

from api.portal.common import (
    INSPECTION_REPORT,
    Me,
    Svc,
    end_of_day,
    may_issue,
    notice_numbers,
    organisation_names,
    place_labels,
    report_links,
)
from api.portal.errors import portal_error
from api.portal.forms import read_form
from api.portal.session import check_csrf, current_viewer
from api.portal.templating import redirect, render
from inspection.checklists import catalogue
from inspection.checklists.templates import visible_items
from inspection.errors import DomainError, NotFound, ValidationFailed
from inspection.messages import t
from inspection.rectification import schemas as rs
from inspection.rectification.rules import OrderKind, OrderState, Severity, rule_deadline
from inspection.reports.loaders.base import user_names
from inspection.reports.loaders.inspection import answer_text

KINDS = {"safety": "安全检查（JGJ 59）", "quality": "质量验收（GB 50300）", "passfail": "专项检查"}
STATUSES = {"draft": "填写中", "submitted": "已提交", "superseded": "已修订"}
GRADES = ("优良", "合格", "不合格")
RESULTS = {"pass": "合格", "fail": "不合格", "na": "不适用", "info": "记录"}
PAGE = 100


def _day(raw: str | None, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(t("portal.pick_date"), field=field) from None


def _uuid(raw: str | None) -> UUID | None:
    try:
        return UUID(raw) if raw else None
    except ValueError:
        return None


class InspectionPages(Controller):
    path = "/portal/inspections"
    dependencies = {"viewer": Provide(current_viewer)}

    @get("/", name="portal-inspections")
    async def list_inspections(
        self,
        request: Request[Any, Any, Any],
        viewer: Me,
        services: Svc,
        project_id: FromQuery[str | None] = None,
        site_id: FromQuery[str | None] = None,
        work_item_id: FromQuery[str | None] = None,
        inspector_id: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        template_code: FromQuery[str | None] = None,
        grade: FromQuery[str | None] = None,
        submitted_from: FromQuery[str | None] = None,
        submitted_to: FromQuery[str | None] = None,
        has_open_orders: FromQuery[str | None] = None,
        offset: FromQuery[int] = 0,
    ) -> Response[str]:
        """Unknown filter values are dropped rather than refused: a filter form never errors."""
        actor = viewer.actor
        tz = services.rectification.book.calendar.tz
        chosen: dict[str, Any] = {
            "project_id": _uuid(project_id),
            "site_id": _uuid(site_id),
            "work_item_id": _uuid(work_item_id),
            "inspector_id": _uuid(inspector_id),
            "status": status if status in STATUSES else None,
            "kind": kind if kind in KINDS else None,
            "template_code": template_code or None,
            "grade": grade if grade in GRADES else None,
            "has_open_orders": {"yes": True, "no": False}.get(has_open_orders or ""),
        }
        error = None
        try:
            start = _day(submitted_from, "submitted_from")
            end = _day(submitted_to, "submitted_to")
        except ValidationFailed as exc:
            error, start, end = portal_error(exc), None, None
        page = await services.checklists.list(
            actor,
            **chosen,
            submitted_from=datetime.combine(start, time(0), tzinfo=tz) if start else None,
            submitted_to=datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz) if end else None,
            limit=PAGE,
            offset=max(0, min(offset, 1_000_000)),
        )
        projects = (await services.projects.list_projects(actor, None, None, limit=500, offset=0)).items
        sites: list[Any] = []
        work: list[Any] = []
        people: dict[UUID, str] = {}
        if chosen["project_id"] is not None:
            sites = (await services.projects.list_sites(actor, chosen["project_id"], limit=500, offset=0)).items
            work = (
                await services.projects.list_work_items(actor, chosen["project_id"], None, limit=500, offset=0)
            ).items
            people = {
                m.user_id: m.display_name
                for m in (await services.projects.list_members(actor, chosen["project_id"], limit=500, offset=0)).items
            }
        titles = {t.code: t.title for t in await services.checklists.list_templates(actor)}
        rows = page.items
        places = await place_labels(services, actor, [(i.site, i.building, i.work_item) for i in rows])
        names = await user_names([i.inspector for i in rows])
        return render(
            request,
            "inspections.html",
            page=page,
            rows=rows,
            places=places,
            names=names,
            titles=titles,
            projects=projects,
            sites=sites,
            work=work,
            people=people,
            chosen=chosen,
            submitted_from=submitted_from or "",
            submitted_to=submitted_to or "",
            offset=max(0, offset),
            page_size=PAGE,
            kinds=KINDS,
            statuses=STATUSES,
            grades=GRADES,
            error=error,
            query=request.url.query or "",
        )

    async def _detail(
        self, request: Request[Any, Any, Any], viewer: Any, services: Any, inspection_id: UUID, **extra: Any
    ) -> Response[str]:
        actor = viewer.actor
        detail = await services.checklists.get(actor, inspection_id)
        i = detail.inspection
        project = await services.projects.get_project(actor, i.project)
        template = catalogue.template_of(await catalogue.get_version(i.template))
        answers = {a.item_code: a for a in detail.answers}
        score = detail.score or {}
        results = score.get("items", {})
        shown = visible_items(template, {c: a.value for c, a in answers.items()})
        sections = []
        for section in template.sections:
            items = []
            for item in (it for it in template.items if it.section == section.code and it.code in shown):
                a = answers.get(item.code)
                r = results.get(item.code, {})
                verdict = r.get("result") or (a.result if a else "")
                items.append(
                    {
                        "code": item.code,
                        "text": item.text,
                        "found": answer_text(item, a),
                        "result": verdict,
                        "result_label": RESULTS.get(verdict, ""),
                        "reason": r.get("reason", ""),
                        "note": a.note if a else "",
                        "photos": a.photos if a else [],
                        "points": item.points if template.kind == "safety" and item.scored else None,
                        "score": r.get("score"),
                    }
                )
            if items:
                sections.append({"title": section.title, "items": items})
        places = await place_labels(services, actor, [(i.site, i.building, i.work_item)])
        names = await user_names([i.inspector])
        orders = [await services.rectification.get_order(actor, o.id) for o in detail.orders]
        numbers = await notice_numbers(services, [d.order for d in orders])
        by_answer = {a.id: a.item_code for a in detail.answers}
        # the drafts it opened, one group per contractor: each group goes out as one notice
        drafts: dict[UUID, list[Any]] = {}
        for d in orders:
            # a stop-work draft goes out alone, from its own page
            if d.order.status is OrderState.draft and d.order.kind is not OrderKind.stop_work:
                drafts.setdefault(d.order.contractor_id, []).append(d.order)
        issuer = bool(drafts) and await may_issue(actor, i.project)
        contractors = await organisation_names(services, actor, {d.order.contractor_id for d in orders})
        now = services.clock.now()
        book = services.rectification.book
        groups = []
        for contractor_id, group in drafts.items():
            # the latest deadline the rules allow for every order of the group (the strictest)
            allowed = min(
                rule_deadline(now, book.deadline_rule(OrderKind(o.kind), Severity(o.severity)), book.calendar)
                for o in group
            )
            groups.append(
                {
                    "contractor_id": contractor_id,
                    "contractor": contractors.get(contractor_id, ""),
                    "orders": group,
                    "allowed": allowed.astimezone(book.calendar.tz).date().isoformat(),
                }
            )
        return render(
            request,
            "inspection.html",
            status_code=extra.pop("status_code", 200),
            detail=detail,
            i=i,
            project=project,
            checklist=template,
            kind_label=KINDS.get(template.kind, ""),
            status_label=STATUSES.get(i.status, ""),
            sections=sections,
            score=score,
            place=places.get((i.site, i.building, i.work_item), ""),
            inspector=names.get(i.inspector, ""),
            orders=[d.order for d in orders],
            numbers=numbers,
            items_of=by_answer,
            groups=groups if issuer else [],
            contractors=contractors,
            today=services.clock.today().isoformat(),
            reports=report_links(request.app, [INSPECTION_REPORT], i.id) if i.status != "draft" else [],
            error=extra.pop("error", None),
            error_group=extra.pop("error_group", None),
            form=extra.pop("form", {}),
            done=request.query_params.get("done"),
        )

    @get("/{inspection_id:uuid}", name="portal-inspection")
    async def inspection(
        self, request: Request[Any, Any, Any], inspection_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[str]:
        return await self._detail(request, viewer, services, inspection_id)

    @post("/{inspection_id:uuid}/issue", status_code=303)
    async def issue(
        self, request: Request[Any, Any, Any], inspection_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        """下发: the drafts ticked in one contractor's group, with the deadline picked for them."""
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        actor = viewer.actor
        detail = await services.checklists.get(actor, inspection_id)  # 404 unless readable
        mine = {o.id for o in detail.orders}
        # one checkbox per draft, named after it (a form keeps one value per name)
        chosen = [u for u in (_uuid(k.removeprefix("order-")) for k in form.fields if k.startswith("order-")) if u]
        try:
            if not chosen:
                raise ValidationFailed(t("portal.tick_one_order"), field="orders")
            if any(u not in mine for u in chosen):
                raise NotFound(t("portal.order_not_of_inspection"), field="orders")
            if not form.get("deadline").strip():
                raise ValidationFailed(t("portal.choose_deadline"), field="deadline")
            deadline = end_of_day(form.get("deadline"), services.rectification.book.calendar.tz)
            await services.rectification.issue_notice(
                actor,
                rs.NoticeIssue(
                    order_ids=chosen, deadline=deadline.isoformat(), deadline_reason=form.get("deadline_reason").strip()
                ),
            )
        except DomainError as exc:
            if isinstance(exc, NotFound) and exc.field != "orders":
                raise
            return await self._detail(
                request,
                viewer,
                services,
                inspection_id,
                status_code=exc.status,
                error=portal_error(exc),
                error_group=form.get("group"),
                form=form.fields,
            )
        return redirect(request, f"/portal/inspections/{inspection_id}?done=issued")
