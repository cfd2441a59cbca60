"""The daily digest (日督导): for an area, the day's inspections, failures by hazard type, major
hazards and stop-work orders, new and overdue orders by contractor, hold points waiting and
complaints received, over the projects placed in the area and below. The scheduler sends
yesterday's to every area office through the notification outbox (in-app feed, e-mail, webhook);
the portal shows any day's."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from inspection.actor import SYSTEM, Actor
from inspection.alerts.runner import JobContext
from inspection.checklists import catalogue
from inspection.checklists.supervision import plans
from inspection.checklists.tables import Inspection, SupervisionPointState
from inspection.clock import Clock, FixedClock
from inspection.complaints.tables import Complaint
from inspection.documents import day_start, local_day
from inspection.errors import NotFound, ValidationFailed
from inspection.messages import t
from inspection.notifications.kinds import Kind, Mode
from inspection.notifications.outbox import Note, hold_note, modes, notify_note
from inspection.programme import schemas as s
from inspection.programme.access import area_parents, scope_of
from inspection.programme.rules import DigestFigures, ancestors, day_problem, digest_message
from inspection.programme.tables import Area, AreaOffice, ProjectPlacement
from inspection.projects.tables import Organisation
from inspection.records import write
from inspection.rectification.tables import OrderResponse, RectificationOrder

RULE = Kind.daily_digest.value
RO = RectificationOrder


async def projects_in(area_id: UUID) -> list[UUID]:
    parents = await area_parents()
    rows = await ProjectPlacement.select(ProjectPlacement.project, ProjectPlacement.area).where(
        ProjectPlacement.deleted.eq(False) & (ProjectPlacement.project.deleted == False)  # noqa: E712
    )
    return [r["project"] for r in rows if area_id in ancestors(parents, r["area"])]


async def _names(ids: set[UUID]) -> dict[UUID, str]:
    if not ids:
        return {}
    rows = await Organisation.select(Organisation.id, Organisation.name).where(Organisation.id.is_in(list(ids)))
    return {r["id"]: r["name"] for r in rows}


def _ranked(counts: Counter[UUID], names: dict[UUID, str]) -> list[tuple[str, int]]:
    return sorted(((names.get(k, "（未命名）"), n) for k, n in counts.items()), key=lambda p: (-p[1], p[0]))


async def figures(project_ids: list[UUID], day: date, now: datetime) -> DigestFigures:
    """The day's figures (Beijing day); states at the end of the day, or now while it runs."""
    start = day_start(day)
    end = min(day_start(day + timedelta(days=1)), now)
    if not project_ids:
        return DigestFigures(0, 0, [], 0, 0, 0, 0, [], [], 0, 0)
    IN = Inspection
    inspections = await IN.select(IN.template, IN.score).where(
        IN.project.is_in(project_ids)
        & IN.deleted.eq(False)
        & IN.status.is_in(["submitted", "superseded"])
        & (IN.revision == 1)
        & (IN.submitted_at >= start)
        & (IN.submitted_at < end)
    )
    hazards: Counter[str] = Counter()
    failed = majors = 0
    for r in inspections:
        template = catalogue.template_of(await catalogue.get_version(r["template"]))
        items = (json.loads(r["score"]) if r["score"] else {}).get("items", {})
        for code, result in items.items():
            if result.get("result") == "fail" and code in template.by_code:
                item = template.by_code[code]
                failed += 1
                hazards.update(item.hazard_tags or ("其他",))
                majors += bool(item.major_hazard)
    orders = await RO.select(
        RO.id, RO.kind, RO.contractor, RO.issued_at, RO.deadline, RO.deadline_round, RO.closed_at, RO.cancelled_at
    ).where(RO.project.is_in(project_ids) & RO.deleted.eq(False) & RO.issued_at.is_not_null() & (RO.issued_at < end))
    new = [o for o in orders if o["issued_at"] >= start]
    late_candidates = [
        o
        for o in orders
        if o["deadline"] is not None
        and o["deadline"] < end
        and (o["closed_at"] is None or o["closed_at"] > end)
        and (o["cancelled_at"] is None or o["cancelled_at"] > end)
    ]
    answered: set[UUID] = set()
    if late_candidates:
        responses = await OrderResponse.select(OrderResponse.order, OrderResponse.round).where(
            OrderResponse.order.is_in([o["id"] for o in late_candidates]) & (OrderResponse.responded_at < end)
        )
        rounds = {(r["order"], r["round"]) for r in responses}
        answered = {o["id"] for o in late_candidates if (o["id"], o["deadline_round"]) in rounds}
    overdue = [o for o in late_candidates if o["id"] not in answered]
    names = await _names({o["contractor"] for o in new + overdue})
    hold = {(p.code, q.code) for p in plans().values() for q in p.points if q.kind == "hold"}
    SP = SupervisionPointState
    points = await SP.select(SP.plan_code, SP.point_code, SP.decided_at).where(
        SP.project.is_in(project_ids) & SP.deleted.eq(False) & SP.started_at.is_not_null() & (SP.started_at < end)
    )
    waiting = sum(
        1
        for p in points
        if (p["plan_code"], p["point_code"]) in hold and (p["decided_at"] is None or p["decided_at"] > end)
    )
    complaints = await Complaint.count().where(
        Complaint.project.is_in(project_ids)
        & Complaint.deleted.eq(False)
        & (Complaint.received_at >= start)
        & (Complaint.received_at < end)
    )
    return DigestFigures(
        inspections=len(inspections),
        failed_items=failed,
        by_hazard=sorted(hazards.items(), key=lambda p: (-p[1], p[0])),
        major_hazards=majors,
        stop_work_orders=sum(1 for o in new if o["kind"] == "stop_work"),
        new_orders=len(new),
        overdue_orders=len(overdue),
        new_by_contractor=_ranked(Counter(o["contractor"] for o in new), names),
        overdue_by_contractor=_ranked(Counter(o["contractor"] for o in overdue), names),
        hold_points_waiting=waiting,
        complaints=complaints,
    )


def _out(area: dict[str, Any], day: date, projects: int, f: DigestFigures) -> s.DigestOut:
    def counts(pairs: list[tuple[str, int]]) -> list[s.NamedCount]:
        return [s.NamedCount(name=n, count=c) for n, c in pairs]

    return s.DigestOut(
        area_id=area["id"],
        area_name=area["name"],
        day=day,
        projects=projects,
        inspections=f.inspections,
        failed_items=f.failed_items,
        by_hazard=counts(f.by_hazard),
        major_hazards=f.major_hazards,
        stop_work_orders=f.stop_work_orders,
        new_orders=f.new_orders,
        overdue_orders=f.overdue_orders,
        new_by_contractor=counts(f.new_by_contractor),
        overdue_by_contractor=counts(f.overdue_by_contractor),
        hold_points_waiting=f.hold_points_waiting,
        complaints=f.complaints,
        message=digest_message(area["name"], day, f),
    )


async def for_office(actor: Actor, clock: Clock, area_id: UUID, day: date | None = None) -> s.DigestOut:
    """Any day's digest of an area the actor works for (default: yesterday)."""
    now = clock.now()
    today = local_day(now)
    day = day or today - timedelta(days=1)
    problem = day_problem(day, today)
    if problem:
        raise ValidationFailed(problem, field="day")
    scope = await scope_of(actor)
    area = await Area.select(Area.id, Area.name).where((Area.id == area_id) & Area.deleted.eq(False)).first()
    if area is None or not scope.covers(area_id):
        raise NotFound(t("programme.area_does_not_exist_not_yours", area_id=area_id))
    projects = await projects_in(area_id)
    return _out(area, day, len(projects), await figures(projects, day, now))


async def send(ctx: JobContext) -> int:
    """Yesterday's digest to each area office's people, once per area and day (notify_once)."""
    day = ctx.today - timedelta(days=1)
    offices = await AreaOffice.select(AreaOffice.area, AreaOffice.user, AreaOffice.area.name.as_alias("name")).where(
        AreaOffice.deleted.eq(False) & (AreaOffice.area.deleted == False)  # noqa: E712
    )
    by_area: dict[UUID, tuple[str, set[UUID]]] = {}
    for o in offices:
        by_area.setdefault(o["area"], (o["name"], set()))[1].add(o["user"])
    made = 0
    for area_id, (name, users) in sorted(by_area.items(), key=lambda kv: str(kv[0])):
        projects = await projects_in(area_id)
        if not projects:
            continue
        f = await figures(projects, day, ctx.now)
        message = digest_message(name, day, f)
        async with write(SYSTEM, FixedClock(ctx.now)):
            # as each chose for 日督导汇总: at once, in their own daily digest, or not at all
            for user, mode in (await modes(sorted(users, key=str), Kind.daily_digest)).items():
                note = Note(
                    recipient=("user", user),
                    kind=RULE,
                    subject_table=Area._meta.tablename,
                    subject_id=area_id,
                    rule=RULE,
                    occurrence=day.toordinal(),
                    threshold=0,
                    project_id=None,
                    message=message,
                )
                if mode is Mode.immediate:
                    made += await notify_note(note, ctx.now)
                elif mode is Mode.digest:
                    await hold_note(note, user, ctx.now)
    ctx.stats[RULE] = made
    return made
