"""工程质量安全周报 — one week (Monday to Sunday, Beijing time) of a project or of a programme (the
projects of one district and year the user may see): rectification orders new, closed and overdue,
per contractor; progress of the work items by site, with the stops in force.

Orders are read through the rectification domain's own visibility rule, so a contractor's weekly
shows its own orders only. Each part is its own function; parts for the domains still being built
(inspections and grades, failed samples) live with those domains' loaders."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from inspection.actor import Actor
from inspection.audit.service import latest_checkpoint
from inspection.errors import NotFound, ValidationFailed
from inspection.messages import t
from inspection.projects.access import project_access, visible_project_ids
from inspection.projects.rules import WorkItemStatus
from inspection.projects.tables import Project, Site, WorkItem
from inspection.rectification.access import visible_where
from inspection.rectification.rules import OPEN, OrderState, is_overdue
from inspection.rectification.tables import RectificationOrder, WorkStop
from inspection.reports import rules
from inspection.reports.loaders.base import ReportData, letterhead, org_rows, site_names
from inspection.reports.loaders.inspection import inspections_part
from inspection.reports.loaders.ledger import failed_samples_part
from inspection.samples.queries import SampleQueries

RO = RectificationOrder
DONE = {WorkItemStatus.completed.value, WorkItemStatus.accepted.value}


@dataclass(frozen=True)
class Week:
    monday: date
    sunday: date
    start: datetime  # Monday 00:00 Beijing
    end: datetime  # the next Monday 00:00 Beijing
    as_of: datetime  # the end of the week, or now while the week is still running

    @classmethod
    def holding(cls, day: date, now: datetime) -> Week:
        monday, sunday = rules.week_of(day)
        start, end = rules.day_start(monday), rules.day_start(sunday + timedelta(days=1))
        if start > now:
            raise ValidationFailed(t("reports.week_has_not_begun_yet"), field="week")
        return cls(monday, sunday, start, end, min(end, now))


def _in(value: datetime | None, week: Week) -> bool:
    return value is not None and week.start <= value < week.end


async def orders_part(actor: Actor, project_ids: list[UUID], week: Week) -> dict[str, Any]:
    """New, closed and overdue orders of the week, in total and per contractor."""
    where = await visible_where(actor)
    rows: list[dict[str, Any]] = []
    if where is not None and project_ids:
        rows = await (
            RO.select(
                RO.id,
                RO.project,
                RO.site,
                RO.work_item,
                RO.kind,
                RO.severity,
                RO.description,
                RO.contractor,
                RO.status,
                RO.issued_at,
                RO.deadline,
                RO.closed_at,
            )
            .where(where & RO.project.is_in(project_ids) & RO.issued_at.is_not_null() & (RO.issued_at < week.end))
            .order_by(RO.issued_at)
            .order_by(RO.id)
        )
    orgs = await org_rows(r["contractor"] for r in rows)
    sites = await site_names({r["site"] for r in rows if r["site"]})

    def shown(r: dict[str, Any]) -> dict[str, Any]:
        overdue_days = (week.as_of - r["deadline"]).days if r["deadline"] is not None else 0
        return {
            "kind": r["kind"],
            "severity": r["severity"],
            "description": r["description"],
            "contractor": orgs[r["contractor"]]["name"] if r["contractor"] in orgs else "",
            "site": sites.get(r["site"], ""),
            "status": r["status"],
            "issued_at": r["issued_at"],
            "deadline": r["deadline"],
            "closed_at": r["closed_at"],
            "overdue_days": overdue_days,
        }

    new = [r for r in rows if _in(r["issued_at"], week)]
    closed = [r for r in rows if r["status"] == OrderState.closed.value and _in(r["closed_at"], week)]
    overdue = [r for r in rows if is_overdue(OrderState(r["status"]), r["deadline"], week.as_of)]
    still_open = [r for r in rows if OrderState(r["status"]) in OPEN]
    per_contractor: dict[UUID, dict[str, Any]] = {}
    for bucket, items in (("new", new), ("closed", closed), ("overdue", overdue), ("open", still_open)):
        for r in items:
            entry = per_contractor.setdefault(
                r["contractor"],
                {"contractor": shown(r)["contractor"], "new": 0, "closed": 0, "overdue": 0, "open": 0},
            )
            entry[bucket] += 1
    return {
        "totals": {"new": len(new), "closed": len(closed), "overdue": len(overdue), "open": len(still_open)},
        "contractors": sorted(per_contractor.values(), key=lambda e: e["contractor"]),
        "new": [shown(r) for r in new],
        "overdue": sorted((shown(r) for r in overdue), key=lambda e: -e["overdue_days"]),
    }


async def progress_part(project_ids: list[UUID], week: Week) -> list[dict[str, Any]]:
    """Per site: work items by status, the share finished, and the work stops in force."""
    if not project_ids:
        return []
    sites = await (
        Site.select(Site.id, Site.name, Site.project.name.as_alias("project"), Site.households)
        .where(Site.project.is_in(project_ids) & Site.deleted.eq(False))
        .order_by(Site.project.code)
        .order_by(Site.name)
    )
    items = await WorkItem.select(WorkItem.site, WorkItem.status).where(
        WorkItem.project.is_in(project_ids) & WorkItem.deleted.eq(False)
    )
    stops = await WorkStop.select(WorkStop.site).where(
        WorkStop.project.is_in(project_ids)
        & WorkStop.deleted.eq(False)
        & (WorkStop.started_at < week.as_of)
        & (WorkStop.resumed_at.is_null() | (WorkStop.resumed_at > week.as_of))
    )
    counts: dict[UUID, dict[str, int]] = {}
    for it in items:
        c = counts.setdefault(it["site"], {s.value: 0 for s in WorkItemStatus})
        c[it["status"]] = c.get(it["status"], 0) + 1
    stopped: dict[UUID, int] = {}
    for st in stops:
        stopped[st["site"]] = stopped.get(st["site"], 0) + 1
    out = []
    for s in sites:
        c = counts.get(s["id"], {st.value: 0 for st in WorkItemStatus})
        total = sum(c.values())
        done = sum(v for k, v in c.items() if k in DONE)
        out.append(
            {
                "project": s["project"],
                "site": s["name"],
                "households": s["households"],
                "total": total,
                "by_status": c,
                "done_share": rules.percent(done, total),
                "stops": stopped.get(s["id"], 0),
            }
        )
    return out


async def audit_anchor(as_of: datetime) -> dict[str, Any] | None:
    """The audit log's last signed checkpoint up to the report's moment: printed on paper, it pins
    the log's state outside the database (a later rewrite of the log no longer matches it)."""
    found = await latest_checkpoint(as_of)
    if found is None:
        return None
    return {"number": found.id, "at": found.at, "root": found.root, "entries": found.entries}


async def _weekly(actor: Actor, project_ids: list[UUID], week: Week, samples: SampleQueries) -> dict[str, Any]:
    return {
        "week": {"monday": week.monday, "sunday": week.sunday, "as_of": week.as_of},
        "audit": await audit_anchor(week.as_of),
        "orders": await orders_part(actor, project_ids, week),
        "inspections": await inspections_part(actor, project_ids, week.start, week.end),
        "samples": await failed_samples_part(samples, actor, project_ids, week.start, week.end),
        "progress": await progress_part(project_ids, week),
    }


async def load_project_weekly(
    samples: SampleQueries, actor: Actor, project_id: UUID, day: date, now: datetime
) -> ReportData:
    await project_access(actor, project_id)  # NotFound unless a member
    week = Week.holding(day, now)
    project = await Project.select().where(Project.id == project_id).first()
    assert project is not None
    context = await _weekly(actor, [project_id], week, samples)
    context["scope"] = {"programme": "", "projects": [project["name"]]}
    return ReportData(
        kind="weekly",
        subject_id=project_id,
        project_id=project_id,
        title=rules.kind_info("weekly").title,
        letterhead=await letterhead(project, actor.organisation_id),
        context=context,
    )


def programme_id(district: str, year: int) -> UUID:
    """A stable id for a programme (the projects of one district and year), for the register."""
    return uuid5(NAMESPACE_URL, f"siteinspect:programme:{district}:{year}")


async def load_programme_weekly(
    samples: SampleQueries, actor: Actor, district: str, year: int, day: date, now: datetime
) -> ReportData:
    if not district.strip():
        raise ValidationFailed(t("reports.name_district_programme"), field="district")
    visible = await visible_project_ids(actor)
    where = (Project.district == district) & (Project.year == year) & Project.deleted.eq(False)
    if visible is not None:
        where &= Project.id.is_in(visible or [UUID(int=0)])
    projects = await Project.select().where(where).order_by(Project.code)
    if not projects:
        raise NotFound(t("reports.no_project_yours", district=district, year=year))
    week = Week.holding(day, now)
    ids = [p["id"] for p in projects]
    context = await _weekly(actor, ids, week, samples)
    context["scope"] = {"programme": f"{district}{year}年老旧小区改造", "projects": [p["name"] for p in projects]}
    head = await letterhead(projects[0], actor.organisation_id)
    return ReportData(
        kind="weekly",
        subject_id=programme_id(district, year),
        project_id=None,
        title=rules.kind_info("weekly").title,
        letterhead=replace(head, project=f"{district}{year}年改造计划", project_code=""),
        context=context,
    )
