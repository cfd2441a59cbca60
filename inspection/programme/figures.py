"""The records behind the evaluation: one aggregate query per indicator over a programme's projects
and a period, grouped by (project, site, contractor) so the rollup (scoring.py) can attribute each
group to every subject it counts for; and the programme's structure the rollup needs.

Each query reads only the period's rows, through the programme's placements, and returns a few
thousand groups however many records there are: memory stays flat. Times are compared in SQL as
stored (UTC); on SQLite they are ISO strings in UTC, which order as the instants do."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any
from uuid import UUID

from inspection import db
from inspection.checklists.scoring import FAILED, PASSED
from inspection.checklists.tables import ChecklistTemplate
from inspection.programme.rules import Period, satisfied_min
from inspection.programme.scoring import AmountRow, Facts, RatioRow, SafetyRow, Structure
from inspection.programme.tables import Area, Programme, ProjectPlacement
from inspection.projects.rules import Role
from inspection.projects.tables import Organisation

# Every query joins the programme's placements: only its projects, and no list of ids to send.
_IN_PROGRAMME = (
    "JOIN project_placement pp ON pp.project = {alias}.project AND pp.programme = {{}} AND pp.deleted = {{}}"
)


def _placed(alias: str) -> str:
    return _IN_PROGRAMME.format(alias=alias)


def _uuid(value: Any) -> UUID | None:
    if value is None or isinstance(value, UUID):
        return value
    return UUID(str(value))


def _days(later: str, earlier: str) -> str:
    """SQL for the days from `earlier` to `later` (both timestamps), as a real number."""
    if db.is_sqlite():
        return f"(julianday({later}) - julianday({earlier}))"
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"


def _least(*parts: str) -> str:
    return f"{'MIN' if db.is_sqlite() else 'LEAST'}({', '.join(parts)})"


def _greatest(*parts: str) -> str:
    return f"{'MAX' if db.is_sqlite() else 'GREATEST'}({', '.join(parts)})"


async def template_groups() -> dict[str, str]:
    """JGJ 59 summary line (scoring group) of each safety template code, from the latest version."""
    import json

    rows = await ChecklistTemplate.select(
        ChecklistTemplate.code, ChecklistTemplate.version_number, ChecklistTemplate.content
    ).where(ChecklistTemplate.kind == "safety")
    latest: dict[str, tuple[int, str]] = {}
    for r in rows:
        if r["code"] not in latest or r["version_number"] > latest[r["code"]][0]:
            group = json.loads(r["content"]).get("scoring", {}).get("group", "")
            latest[r["code"]] = (r["version_number"], group)
    return {code: group for code, (_, group) in latest.items() if group}


async def safety(programme: UUID, period: Period) -> list[SafetyRow]:
    """JGJ 59 sub-table scores submitted in the period, per site, contractor and table."""
    groups = await template_groups()
    rows = await db.fetch_tuples(
        "SELECT i.project, i.site, i.contractor, i.template_code, SUM(i.total), COUNT(*) FROM inspection i "  # noqa: S608
        + _placed("i")
        + " WHERE i.deleted = {} AND i.kind = {} AND i.status = {} AND i.total IS NOT NULL AND i.site IS NOT NULL"
        " AND i.submitted_at >= {} AND i.submitted_at < {}"
        " GROUP BY i.project, i.site, i.contractor, i.template_code",
        programme,
        False,
        False,
        "safety",
        "submitted",
        period.start,
        period.as_of,
    )
    out = []
    for project, site, contractor, code, total, count in rows:
        if code in groups:
            out.append(
                SafetyRow(
                    _uuid(project),  # type: ignore[arg-type]
                    _uuid(site),  # type: ignore[arg-type]
                    _uuid(contractor),
                    groups[code],
                    code,
                    Fraction(str(total)),
                    int(count),
                )
            )
    return out


async def first_pass(programme: UUID, period: Period) -> list[RatioRow]:
    """Quality lots (GB 50300) first inspected in the period, and those passing then. A lot's first
    inspection is the earliest current one of its template on its work item; an inspection with no
    work item is a lot of its own."""
    rows = await db.fetch_tuples(
        "SELECT i.project, i.site, i.contractor, SUM(CASE WHEN i.grade = {} THEN 1 ELSE 0 END), COUNT(*)"  # noqa: S608
        " FROM inspection i "
        + _placed("i")
        + " WHERE i.deleted = {} AND i.kind = {} AND i.status = {} AND i.grade IN ({}, {})"
        " AND i.submitted_at >= {} AND i.submitted_at < {}"
        " AND NOT EXISTS (SELECT 1 FROM inspection e WHERE e.work_item = i.work_item"
        " AND e.template_code = i.template_code AND e.kind = i.kind AND e.status = i.status AND e.deleted = {}"
        " AND (e.submitted_at < i.submitted_at OR (e.submitted_at = i.submitted_at AND e.id < i.id)))"
        " GROUP BY i.project, i.site, i.contractor",
        PASSED,
        programme,
        False,
        False,
        "quality",
        "submitted",
        PASSED,
        FAILED,
        period.start,
        period.as_of,
        False,
    )
    return [RatioRow(_uuid(p), _uuid(s), _uuid(c), int(h or 0), int(n)) for p, s, c, h, n in rows]  # type: ignore[arg-type]


async def on_time(programme: UUID, period: Period) -> list[RatioRow]:
    """Orders due in the period (their current deadline), and those put right on time: answered
    by the deadline in their first round (never sent back) and accepted."""
    rows = await db.fetch_tuples(
        "SELECT o.project, o.site, o.contractor,"  # noqa: S608
        " SUM(CASE WHEN o.deadline_round = 1 AND EXISTS (SELECT 1 FROM order_response r"
        ' WHERE r."order" = o.id AND r.review = {} AND r.responded_at <= o.deadline) THEN 1 ELSE 0 END),'
        " COUNT(*) FROM rectification_order o "
        + _placed("o")
        + " WHERE o.deleted = {} AND o.issued_at IS NOT NULL AND o.status <> {}"
        " AND o.deadline >= {} AND o.deadline < {}"
        " GROUP BY o.project, o.site, o.contractor",
        "accepted",
        programme,
        False,
        False,
        "cancelled",
        period.start,
        period.as_of,
    )
    return [RatioRow(_uuid(p), _uuid(s), _uuid(c), int(h or 0), int(n)) for p, s, c, h, n in rows]  # type: ignore[arg-type]


async def overdue_days(programme: UUID, period: Period) -> list[AmountRow]:
    """Order-days overdue inside the period: from the current deadline until the contractor's
    answer in that round (or the order's cancellation, or the end of the period)."""
    answered = (
        '(SELECT MIN(r.responded_at) FROM order_response r WHERE r."order" = o.id AND r.round = o.deadline_round)'
    )
    stop = f"COALESCE({answered}, o.cancelled_at, {{}})"
    end = _least(stop, "{}")
    begin = _greatest("o.deadline", "{}")
    rows = await db.fetch_tuples(
        f"SELECT o.project, o.site, o.contractor, SUM({_days(end, begin)}) FROM rectification_order o "  # noqa: S608
        + _placed("o")
        + " WHERE o.deleted = {} AND o.issued_at IS NOT NULL AND o.deadline IS NOT NULL AND o.deadline < {}"
        f" AND {end} > {begin}"
        " GROUP BY o.project, o.site, o.contractor",
        period.as_of,
        period.as_of,
        period.start,
        programme,
        False,
        False,
        period.as_of,
        period.as_of,
        period.as_of,
        period.start,
    )
    return [
        AmountRow(_uuid(p), _uuid(s), _uuid(c), Fraction(round(float(d) * 86400), 86400))  # type: ignore[arg-type]
        for p, s, c, d in rows
        if d
    ]


async def stop_work(programme: UUID, period: Period) -> list[AmountRow]:
    """Stop-work orders (停工通知) issued in the period, not cancelled."""
    rows = await db.fetch_tuples(
        "SELECT o.project, o.site, o.contractor, COUNT(*) FROM rectification_order o "  # noqa: S608
        + _placed("o")
        + " WHERE o.deleted = {} AND o.kind = {} AND o.status <> {} AND o.issued_at >= {} AND o.issued_at < {}"
        " GROUP BY o.project, o.site, o.contractor",
        programme,
        False,
        False,
        "stop_work",
        "cancelled",
        period.start,
        period.as_of,
    )
    return [AmountRow(_uuid(p), _uuid(s), _uuid(c), Fraction(int(n))) for p, s, c, n in rows]  # type: ignore[arg-type]


async def failed_samples(programme: UUID, period: Period) -> list[AmountRow]:
    """Original samples (not retests) judged failed in the period, on the batch's site."""
    rows = await db.fetch_tuples(
        "SELECT s.project, b.site, s.contractor, COUNT(*) FROM sample s JOIN material_batch b ON b.id = s.batch "  # noqa: S608
        + _placed("s")
        + " WHERE s.deleted = {} AND s.is_retest = {} AND s.verdict = {} AND s.judged_at >= {} AND s.judged_at < {}"
        " GROUP BY s.project, b.site, s.contractor",
        programme,
        False,
        False,
        False,
        "failed",
        period.start,
        period.as_of,
    )
    return [AmountRow(_uuid(p), _uuid(s), _uuid(c), Fraction(int(n))) for p, s, c, n in rows]  # type: ignore[arg-type]


async def complaints_upheld(programme: UUID, period: Period) -> list[AmountRow]:
    """Residents' complaints turned into a rectification order in the period, by that order's
    contractor (a complaint dismissed with a reason is not upheld)."""
    rows = await db.fetch_tuples(
        "SELECT c.project, c.site, o.contractor, COUNT(*) FROM complaint c"  # noqa: S608
        " JOIN rectification_order o ON o.id = c.order_id "
        + _placed("c")
        + " WHERE c.deleted = {} AND c.status = {} AND c.triaged_at >= {} AND c.triaged_at < {}"
        " GROUP BY c.project, c.site, o.contractor",
        programme,
        False,
        False,
        "ordered",
        period.start,
        period.as_of,
    )
    return [AmountRow(_uuid(p), _uuid(s), _uuid(c), Fraction(int(n))) for p, s, c, n in rows]  # type: ignore[arg-type]


async def satisfaction(programme: UUID, period: Period) -> list[RatioRow]:
    """Households' current answers given by the end of the period, and those satisfied."""
    rows = await db.fetch_tuples(
        "SELECT a.project, a.site, SUM(CASE WHEN a.overall >= {} THEN 1 ELSE 0 END), COUNT(*)"  # noqa: S608
        " FROM survey_answer a "
        + _placed("a")
        + " WHERE a.deleted = {} AND a.received_at < {} GROUP BY a.project, a.site",
        satisfied_min(),
        programme,
        False,
        False,
        period.as_of,
    )
    return [RatioRow(_uuid(p), _uuid(s), None, int(h or 0), int(n)) for p, s, h, n in rows]  # type: ignore[arg-type]


QUERIES: dict[str, Callable[[UUID, Period], Any]] = {
    "safety_score": safety,
    "first_pass": first_pass,
    "on_time": on_time,
    "overdue_days": overdue_days,
    "stop_work": stop_work,
    "failed_samples": failed_samples,
    "complaints_upheld": complaints_upheld,
    "satisfaction": satisfaction,
}


async def gather(programme: UUID, period: Period, codes: list[str]) -> Facts:
    """Every indicator's facts; an indicator of rules.toml without a query here is an error."""
    missing = [c for c in codes if c not in QUERIES]
    if missing:
        raise ValueError(f"no query for indicator(s) {', '.join(missing)} (inspection/programme/figures.py)")
    return {code: await QUERIES[code](programme, period) for code in codes}


async def structure(programme: UUID) -> Structure:
    """The programme's projects, their sites, contractors and supervision companies, and areas."""
    prog = await Programme.select(Programme.area).where(Programme.id == programme).first()
    if prog is None:
        raise ValueError(f"programme {programme} does not exist")
    placements = await ProjectPlacement.select(
        ProjectPlacement.project, ProjectPlacement.area, ProjectPlacement.project.name.as_alias("name")
    ).where((ProjectPlacement.programme == programme) & ProjectPlacement.deleted.eq(False))
    areas = await Area.select(Area.id, Area.name, Area.level, Area.parent).where(Area.deleted.eq(False))
    sites = await db.fetch_tuples(
        "SELECT s.id, s.project FROM site s " + _placed("s") + " WHERE s.deleted = {}",  # noqa: S608
        programme,
        False,
        False,
    )
    work = await db.fetch_tuples(
        "SELECT DISTINCT w.site, w.contractor FROM work_item w "  # noqa: S608
        + _placed("w")
        + " WHERE w.deleted = {} AND w.contractor IS NOT NULL",
        programme,
        False,
        False,
    )
    supervisors = await db.fetch_tuples(
        'SELECT DISTINCT m.project, u.organisation FROM membership m JOIN app_user u ON u.id = m."user" '  # noqa: S608
        + _placed("m")
        + " WHERE m.deleted = {} AND m.role = {} AND u.organisation IS NOT NULL",
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
    org_ids = {c for cs in site_contractors.values() for c in cs} | {
        o for os in project_supervisors.values() for o in os
    }
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
