"""The office side: the programme dashboard (总览) and a project's page, for supervisors, owners,
inspectors and the authority. A contractor landing here is sent to its orders."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.di import Provide
from litestar.params import FromPath

from api.portal.charts import PALETTE, Series, stacked_bars
from api.portal.common import (
    PROJECT_REPORTS,
    Me,
    Svc,
    notice_numbers,
    place_labels,
    programme_reports,
    report_links,
)
from api.portal.conflicts import service_of as conflicts_of
from api.portal.panels import dashboard_panels, project_panels
from api.portal.session import current_viewer
from api.portal.templating import redirect, render
from inspection.complaints.rules import ComplaintState
from inspection.errors import NotFound
from inspection.rectification.rules import OPEN

ORDER_SERIES = [Series("逾期", PALETTE["bad"]), Series("未逾期", PALETTE["warn"])]


def _by_contractor_chart(counts: Any, title: str) -> Any:
    rows = [
        (c.contractor_name or "（未命名）", [c.overdue, max(c.open - c.overdue, 0)])
        for c in sorted(counts.contractors, key=lambda c: (-c.open, c.contractor_name or ""))
        if c.open
    ]
    return stacked_bars(rows, ORDER_SERIES, title)


class OfficePages(Controller):
    path = "/portal"
    dependencies = {"viewer": Provide(current_viewer)}

    @get("/", name="portal-home")
    async def home(self, request: Request[Any, Any, Any], viewer: Me, services: Svc) -> Response[Any]:
        if viewer.is_contractor:
            return redirect(request, "/portal/orders/")
        actor = viewer.actor
        projects = (await services.projects.list_projects(actor, None, None, limit=500, offset=0)).items
        totals = await services.rectification.counts(actor)
        per_project = []
        for p in projects:
            c = await services.rectification.counts(actor, p.id)
            per_project.append((p, c.totals))
        overdue = await services.rectification.list_orders(actor, overdue=True, limit=10)
        new_complaints = 0
        for p in projects:
            try:
                new_complaints += (
                    await services.complaints.list_complaints(actor, p.id, ComplaintState.new, limit=1)
                ).new
            except NotFound:  # a role that does not triage complaints in that project
                continue
        return render(
            request,
            "dashboard.html",
            projects=per_project,
            totals=totals.totals,
            chart=_by_contractor_chart(totals, "各施工单位未闭合整改单"),
            contractors=totals.contractors,
            overdue=overdue,
            numbers=await notice_numbers(services, overdue.items),
            places=await place_labels(
                services, actor, [(o.site_id, o.building_id, o.work_item_id) for o in overdue.items]
            ),
            new_complaints=new_complaints,
            reports=programme_reports(request.app, projects),
            sections=await dashboard_panels(services, actor, [p.id for p in projects]),
        )

    @get("/projects/{project_id:uuid}", name="portal-project")
    async def project(
        self, request: Request[Any, Any, Any], project_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[str]:
        actor = viewer.actor
        project = await services.projects.get_project(actor, project_id)
        sites = (await services.projects.list_sites(actor, project_id, limit=500, offset=0)).items
        work = (await services.projects.list_work_items(actor, project_id, None, limit=500, offset=0)).items
        counts = await services.rectification.counts(actor, project_id)
        open_orders = []
        for state in sorted(OPEN):
            open_orders += (
                await services.rectification.list_orders(actor, project_id=project_id, status=state, limit=500)
            ).items
        open_orders.sort(key=lambda o: (not o.overdue, o.deadline is None, o.deadline))
        complaints = None
        try:
            complaints = await services.complaints.list_complaints(actor, project_id, ComplaintState.new, limit=1)
        except NotFound:
            complaints = None
        by_site: dict[UUID, list[Any]] = {}
        for w in work:
            by_site.setdefault(w.site_id, []).append(w)
        return render(
            request,
            "project.html",
            project=project,
            sites=sites,
            work_by_site=by_site,
            counts=counts,
            chart=_by_contractor_chart(counts, "各施工单位未闭合整改单"),
            orders=open_orders,
            numbers=await notice_numbers(services, open_orders),
            places=await place_labels(
                services, actor, [(o.site_id, o.building_id, o.work_item_id) for o in open_orders]
            ),
            complaints=complaints,
            conflicts=await conflicts_of(services).count_open(actor, project_id),
            reports=report_links(request.app, PROJECT_REPORTS, project_id),
            sections=await project_panels(services, actor, project_id, request.app),
        )
