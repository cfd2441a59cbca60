"""The records behind the evaluation: one aggregate query per indicator over a programme's projects
and a period, grouped by (project, site, contractor) so the rollup (scoring.py) can attribute each
group to every subject it counts for; the same filters list the records behind a figure (the
drill-down); and the programme's structure the rollup needs.

Each aggregate reads only the period's rows, through the programme's placements, and returns a
few thousand groups however many records there are: memory stays flat. Times are compared in SQL
as stored (UTC); on SQLite they are ISO strings in UTC, which order as the instants do."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from piccolo.querystring import QueryString as Q

from inspection import db
from inspection.checklists.scoring import FAILED, PASSED
from inspection.checklists.tables import ChecklistTemplate
from inspection.programme.rules import Period, satisfied_min
from inspection.programme.scoring import AmountRow, Facts, RatioRow, SafetyRow, Structure
from inspection.programme.tables import Area, Programme, ProjectPlacement
from inspection.projects.rules import Role
from inspection.projects.tables import Organisation
from inspection.samples.rules import Verdict


def _uuid(value: Any) -> UUID | None:
    if value is None or isinstance(value, UUID):
        return value
    return UUID(str(value))


def _at(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _days(later: str, earlier: str) -> str:
    """SQL for the days from `earlier` to `later` (both timestamps), as a real number."""
    if db.is_sqlite():
        return f"(julianday({later}) - julianday({earlier}))"
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"


def _least(*parts: str) -> str:
    return f"{'MIN' if db.is_sqlite() else 'LEAST'}({', '.join(parts)})"


def _greatest(*parts: str) -> str:
    return f"{'MAX' if db.is_sqlite() else 'GREATEST'}({', '.join(parts)})"


@dataclass(frozen=True)
class Spec:
    """One indicator's records: where they are (`source`, with its joins), which of them count
    (`where`), who they belong to (`keys`: project, site, contractor expressions), what the
    aggregate adds up per group, and what the drill-down shows of each record (its id, its time,
    and two values the indicator's `describe` turns into words)."""

    table: str
    source: str | Q
    keys: tuple[str, ...]
    where: Q
    aggregate: Q
    detail: Q
    order: str


def _spec(code: str, period: Period) -> Spec:
    start, as_of = period.start, period.as_of
    if code == "safety_score":
        return Spec(
            "inspection",
            "inspection i",
            ("i.project", "i.site", "i.contractor", "i.template_code"),
            Q(
                "i.deleted = {} AND i.kind = {} AND i.status = {} AND i.total IS NOT NULL AND i.site IS NOT NULL"
                " AND i.submitted_at >= {} AND i.submitted_at < {}",
                False,
                "safety",
                "submitted",
                start,
                as_of,
            ),
            Q("SUM(i.total), COUNT(*)"),
            Q("i.id, i.submitted_at, i.template_code, i.total"),
            "i.submitted_at",
        )
    if code == "first_pass":
        # A lot's first inspection is the earliest current one of its template on its work item
        # (an inspection with no work item is a lot of its own); a later one is a re-inspection.
        return Spec(
            "inspection",
            "inspection i",
            ("i.project", "i.site", "i.contractor"),
            Q(
                "i.deleted = {} AND i.kind = {} AND i.status = {} AND i.grade IN ({}, {})"
                " AND i.submitted_at >= {} AND i.submitted_at < {}"
                " AND NOT EXISTS (SELECT 1 FROM inspection e WHERE e.work_item = i.work_item"
                " AND e.template_code = i.template_code AND e.kind = i.kind AND e.status = i.status AND e.deleted = {}"
                " AND (e.submitted_at < i.submitted_at OR (e.submitted_at = i.submitted_at AND e.id < i.id)))",
                False,
                "quality",
                "submitted",
                PASSED,
                FAILED,
                start,
                as_of,
                False,
            ),
            Q("SUM(CASE WHEN i.grade = {} THEN 1 ELSE 0 END), COUNT(*)", PASSED),
            Q("i.id, i.submitted_at, i.template_code, i.grade"),
            "i.submitted_at",
        )
    if code == "on_time":
        # due in the period (the current deadline); on time: answered by the deadline in the
        # first round (never sent back) and accepted
        return Spec(
            "rectification_order",
            "rectification_order o",
            ("o.project", "o.site", "o.contractor"),
            Q(
                "o.deleted = {} AND o.issued_at IS NOT NULL AND o.status <> {}"
                " AND o.deadline >= {} AND o.deadline < {}",
                False,
                "cancelled",
                start,
                as_of,
            ),
            Q(
                "SUM(CASE WHEN o.deadline_round = 1 AND EXISTS (SELECT 1 FROM order_response r"
                ' WHERE r."order" = o.id AND r.review = {} AND r.responded_at <= o.deadline) THEN 1 ELSE 0 END),'
                " COUNT(*)",
                "accepted",
            ),
            Q(
                "o.id, o.deadline, o.description, CASE WHEN o.deadline_round = 1 AND EXISTS (SELECT 1 FROM"
                ' order_response r WHERE r."order" = o.id AND r.review = {} AND r.responded_at <= o.deadline)'
                " THEN 1 ELSE 0 END",
                "accepted",
            ),
            "o.deadline",
        )
    if code == "overdue_days":
        # from the current deadline until the contractor's answer in that round (or the order's
        # cancellation, or the end of the period), inside the period. The answer is looked up once
        # per order, and only for orders still unresolved when the period began (an answer comes
        # before the order is closed, so one closed or cancelled earlier cannot overlap it).
        source = Q(
            "(SELECT o.id, o.project, o.site, o.contractor, o.deadline, o.description, o.cancelled_at,"
            ' (SELECT MIN(r.responded_at) FROM order_response r WHERE r."order" = o.id'
            " AND r.round = o.deadline_round) AS answered"
            " FROM rectification_order o WHERE o.deleted = {} AND o.issued_at IS NOT NULL"
            " AND o.deadline IS NOT NULL AND o.deadline < {}"
            " AND (o.closed_at IS NULL OR o.closed_at > {}) AND (o.cancelled_at IS NULL OR o.cancelled_at > {})) o",
            False,
            as_of,
            start,
            start,
        )
        end = _least("COALESCE(o.answered, o.cancelled_at, {})", "{}")
        begin = _greatest("o.deadline", "{}")
        days = Q(_days(end, begin), as_of, as_of, start)
        return Spec(
            "rectification_order",
            source,
            ("o.project", "o.site", "o.contractor"),
            Q(f"{end} > {begin}", as_of, as_of, start),
            Q("SUM({})", days),
            Q("o.id, o.deadline, o.description, {}", days),
            "o.deadline",
        )
    if code == "stop_work":
        return Spec(
            "rectification_order",
            "rectification_order o",
            ("o.project", "o.site", "o.contractor"),
            Q(
                "o.deleted = {} AND o.kind = {} AND o.status <> {} AND o.issued_at >= {} AND o.issued_at < {}",
                False,
                "stop_work",
                "cancelled",
                start,
                as_of,
            ),
            Q("COUNT(*)"),
            Q("o.id, o.issued_at, o.description, o.status"),
            "o.issued_at",
        )
    if code == "failed_samples":
        # original samples (retests are the same failure's follow-up), on the batch's site
        return Spec(
            "sample",
            "sample s JOIN material_batch b ON b.id = s.batch",
            ("s.project", "b.site", "s.contractor"),
            Q(
                "s.deleted = {} AND s.is_retest = {} AND s.verdict = {} AND s.judged_at >= {} AND s.judged_at < {}",
                False,
                False,
                Verdict.failed.value,
                start,
                as_of,
            ),
            Q("COUNT(*)"),
            Q("s.id, s.judged_at, b.material, s.label_code"),
            "s.judged_at",
        )
    if code == "complaints_upheld":
        # turned into a rectification order (a complaint dismissed with a reason is not upheld),
        # counted against that order's contractor
        return Spec(
            "complaint",
            "complaint c JOIN rectification_order o ON o.id = c.order_id",
            ("c.project", "c.site", "o.contractor"),
            Q(
                "c.deleted = {} AND c.status = {} AND c.triaged_at >= {} AND c.triaged_at < {}",
                False,
                "ordered",
                start,
                as_of,
            ),
            Q("COUNT(*)"),
            Q("c.id, c.triaged_at, c.topic, o.description"),
            "c.triaged_at",
        )
    if code == "satisfaction":
        # households' current answers given by the end of the period; the drill-down shows each
        # site's counts, never a household's answer
        return Spec(
            "site",
            "survey_answer a",
            ("a.project", "a.site"),
            Q("a.deleted = {} AND a.received_at < {}", False, as_of),
            Q("SUM(CASE WHEN a.overall >= {} THEN 1 ELSE 0 END), COUNT(*)", satisfied_min()),
            Q("NULL, MAX(a.received_at), SUM(CASE WHEN a.overall >= {} THEN 1 ELSE 0 END), COUNT(*)", satisfied_min()),
            "a.site",
        )
    raise ValueError(f"no query for indicator {code!r} (inspection/programme/figures.py)")


async def _aggregate(spec: Spec, programme: UUID) -> list[tuple[Any, ...]]:
    keys = ", ".join(spec.keys)
    return await db.fetch_tuples(
        f"SELECT {keys}, {{}} FROM {{}} JOIN project_placement pp ON pp.project = {spec.keys[0]}"  # noqa: S608
        f" AND pp.programme = {{}} AND pp.deleted = {{}} WHERE {{}} GROUP BY {keys}",
        spec.aggregate,
        Q(spec.source) if isinstance(spec.source, str) else spec.source,
        programme,
        False,
        spec.where,
    )


async def template_groups() -> dict[str, str]:
    """JGJ 59 summary line (scoring group) of each safety template code, from the latest version."""
    rows = await ChecklistTemplate.select(
        ChecklistTemplate.code, ChecklistTemplate.version_number, ChecklistTemplate.content
    ).where(ChecklistTemplate.kind == "safety")
    latest: dict[str, tuple[int, str]] = {}
    for r in rows:
        if r["code"] not in latest or r["version_number"] > latest[r["code"]][0]:
            group = json.loads(r["content"]).get("scoring", {}).get("group", "")
            latest[r["code"]] = (r["version_number"], group)
    return {code: group for code, (_, group) in latest.items() if group}


async def _facts(code: str, programme: UUID, period: Period) -> list[Any]:
    spec = _spec(code, period)
    rows = await _aggregate(spec, programme)
    if code == "safety_score":
        groups = await template_groups()
        return [
            SafetyRow(_uuid(p), _uuid(s), _uuid(c), groups[t], t, round(float(total) * 100), int(n))  # type: ignore[arg-type]
            for p, s, c, t, total, n in rows
            if t in groups
        ]
    if code == "satisfaction":
        return [RatioRow(_uuid(p), _uuid(s), None, int(h or 0), int(n)) for p, s, h, n in rows]  # type: ignore[arg-type]
    if code in ("first_pass", "on_time"):
        return [RatioRow(_uuid(p), _uuid(s), _uuid(c), int(h or 0), int(n)) for p, s, c, h, n in rows]  # type: ignore[arg-type]
    if code == "overdue_days":
        # whole seconds: the same figure on both databases
        return [
            AmountRow(_uuid(p), _uuid(s), _uuid(c), round(float(d) * 86400), per=86400)  # type: ignore[arg-type]
            for p, s, c, d in rows
            if d
        ]
    return [AmountRow(_uuid(p), _uuid(s), _uuid(c), int(n)) for p, s, c, n in rows]  # type: ignore[arg-type]


async def gather(programme: UUID, period: Period, codes: Sequence[str]) -> Facts:
    """Every indicator's facts: one aggregate query each."""
    return {code: await _facts(code, programme, period) for code in codes}


@dataclass(frozen=True)
class Record:
    """One record behind a figure, as the drill-down lists it."""

    table: str
    id: UUID | None
    project: UUID
    site: UUID | None
    contractor: UUID | None
    at: datetime | None
    a: Any
    b: Any


async def records(code: str, period: Period, project_ids: Sequence[UUID], limit: int) -> tuple[list[Record], bool]:
    """The records behind an indicator in these projects (the same filters as its aggregate), the
    latest first, at most `limit`; and whether there were more."""
    if not project_ids:
        return [], False
    spec = _spec(code, period)
    keys = ", ".join(spec.keys[:3])
    marks = ", ".join("{}" for _ in project_ids)
    group = f" GROUP BY {', '.join(spec.keys)}" if code == "satisfaction" else ""
    rows = await db.fetch_tuples(
        f"SELECT {keys}, {{}} FROM {{}} WHERE {spec.keys[0]} IN ({marks}) AND {{}}{group}"  # noqa: S608
        f" ORDER BY {spec.order} DESC LIMIT {int(limit) + 1}",
        spec.detail,
        Q(spec.source) if isinstance(spec.source, str) else spec.source,
        *project_ids,
        spec.where,
    )
    out = []
    for row in rows[:limit]:
        if code == "satisfaction":
            project, site, rid, at, a, b = row
            contractor = None
        else:
            project, site, contractor, rid, at, a, b = row
        out.append(Record(spec.table, _uuid(rid), _uuid(project), _uuid(site), _uuid(contractor), _at(at), a, b))  # type: ignore[arg-type]
    return out, len(rows) > limit


async def structure(programme: UUID) -> Structure:
    """The programme's projects, their sites, contractors and supervision companies, and areas."""
    prog = await Programme.select(Programme.area).where(Programme.id == programme).first()
    if prog is None:
        raise ValueError(f"programme {programme} does not exist")
    placements = await ProjectPlacement.select(
        ProjectPlacement.project, ProjectPlacement.area, ProjectPlacement.project.name.as_alias("name")
    ).where(
        (ProjectPlacement.programme == programme)
        & ProjectPlacement.deleted.eq(False)
        & (ProjectPlacement.project.deleted == False)  # noqa: E712 - a SQL comparison
    )
    areas = await Area.select(Area.id, Area.name, Area.level, Area.parent).where(Area.deleted.eq(False))
    placed = "JOIN project_placement pp ON pp.project = {}.project AND pp.programme = {{}} AND pp.deleted = {{}}"
    sites = await db.fetch_tuples(
        f"SELECT s.id, s.project FROM site s {placed.format('s')} WHERE s.deleted = {{}}",  # noqa: S608
        programme,
        False,
        False,
    )
    work = await db.fetch_tuples(
        f"SELECT DISTINCT w.site, w.contractor FROM work_item w {placed.format('w')}"  # noqa: S608
        " WHERE w.deleted = {} AND w.contractor IS NOT NULL",
        programme,
        False,
        False,
    )
    supervisors = await db.fetch_tuples(
        "SELECT DISTINCT m.project, u.organisation FROM membership m"  # noqa: S608
        f' JOIN app_user u ON u.id = m."user" {placed.format("m")}'
        " WHERE m.deleted = {} AND m.role = {} AND u.organisation IS NOT NULL",
        programme,
        False,
        False,
        Role.supervisor.value,
    )
    site_contractors: dict[UUID, set[UUID]] = {}
    for site, contractor in work:
        site_contractors.setdefault(_uuid(site), set()).add(_uuid(contractor))  # type: ignore[arg-type]
    project_supervisors: dict[UUID, set[UUID]] = {}
    for project, org in supervisors:
        project_supervisors.setdefault(_uuid(project), set()).add(_uuid(org))  # type: ignore[arg-type]
    org_ids = {c for cs in site_contractors.values() for c in cs}
    org_ids |= {o for os in project_supervisors.values() for o in os}
    orgs = (
        await Organisation.select(Organisation.id, Organisation.name).where(Organisation.id.is_in(list(org_ids)))
        if org_ids
        else []
    )
    return Structure(
        root_area=prog["area"],
        area_parent={a["id"]: a["parent"] for a in areas},
        area_names={a["id"]: a["name"] for a in areas},
        area_levels={a["id"]: a["level"] for a in areas},
        project_area={p["project"]: p["area"] for p in placements},
        project_names={p["project"]: p["name"] for p in placements},
        project_supervisors={k: frozenset(v) for k, v in project_supervisors.items()},
        site_project={_uuid(s): _uuid(p) for s, p in sites},  # type: ignore[misc]
        site_contractors={k: frozenset(v) for k, v in site_contractors.items()},
        organisation_names={o["id"]: o["name"] for o in orgs},
    )


Describe = Callable[[Record], tuple[str, str]]
