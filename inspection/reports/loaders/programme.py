"""老旧小区改造工作周通报 and 月度考评通报: a programme's week ranked (areas, projects, contractors,
the best and the worst named), and a finalised month's ranking with its commendations (通报表扬:
graded 优秀) and criticisms (通报批评: graded 不合格, with the indicators that cost most).

The figures come from the programme domain's own services (the weekly ranking computed as a month
is, the month from its frozen revision), so a report shows exactly what the portal shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID, uuid5

from inspection.actor import Actor
from inspection.errors import Conflict
from inspection.messages import t
from inspection.programme import schemas as ps
from inspection.programme.rules import Month
from inspection.programme.service import ProgrammeService
from inspection.projects.tables import Organisation
from inspection.reports import rules
from inspection.reports.loaders.base import ReportData, org_rows
from inspection.reports.render import Letterhead, logo_for

KIND_NAMES = {"area": "街道（社区）", "project": "项目", "contractor": "施工单位", "supervisor": "监理单位"}
SHOWN_KINDS = ("area", "project", "contractor", "supervisor")


async def _letterhead(actor: Actor, programme: str) -> Letterhead:
    orgs = await org_rows([actor.organisation_id])
    org = orgs.get(actor.organisation_id) if actor.organisation_id else None
    if org is None and actor.organisation_id is not None:
        found = (
            await Organisation.select(Organisation.name, Organisation.credit_code)
            .where(Organisation.id == actor.organisation_id)
            .first()
        )
        org = found
    return Letterhead(
        organisation=org["name"] if org else "",
        project=programme,
        project_code="",
        logo=logo_for(org["credit_code"]) if org else None,
    )


def _table(subjects: list[ps.SubjectOut], indicators: list[ps.IndicatorInfo], kind: str) -> dict[str, Any]:
    rows = [s for s in subjects if s.kind == kind]
    graded = [s for s in rows if s.grade]
    return {
        "kind": kind,
        "name": KIND_NAMES[kind],
        "rows": [
            {
                "rank": s.rank,
                "name": s.name,
                "sites": s.sites,
                "score": s.score,
                "grade": s.grade or "不参评",
                "capped": bool(s.capped_by),
                "points": [s.indicators[i.code].points for i in indicators],
            }
            for s in rows
        ],
        "best": graded[0].name if graded else "",
        "worst": graded[-1].name if len(graded) > 1 else "",
    }


def _weakest(subject: ps.SubjectOut, indicators: list[ps.IndicatorInfo], n: int = 2) -> list[str]:
    """The indicators that cost the subject most points (weight × shortfall), for a criticism."""
    lost = []
    for i in indicators:
        points = subject.indicators[i.code].points
        if points is not None:
            lost.append((float(i.weight) * (100 - float(points)), i.name))
    return [name for cost, name in sorted(lost, reverse=True)[:n] if cost > 0]


def _header(indicators: list[ps.IndicatorInfo]) -> list[dict[str, str]]:
    return [{"code": i.code, "name": i.short or i.name, "weight": i.weight} for i in indicators]


async def load_weekly_bulletin(
    programmes: ProgrammeService, actor: Actor, programme_id: UUID, day: date | None
) -> ReportData:
    week = await programmes.weekly(actor, programme_id, day)
    tables = [_table(week.subjects, week.indicators, k) for k in SHOWN_KINDS]
    context = {
        "programme": week.programme_name,
        "week": {"monday": week.monday, "sunday": week.sunday, "as_of": week.as_of},
        "indicators": _header(week.indicators),
        "tables": [t for t in tables if t["rows"]],
    }
    head = await _letterhead(actor, week.programme_name)
    return ReportData(
        kind="programme_weekly",
        subject_id=uuid5(programme_id, f"week:{week.monday.isoformat()}"),
        project_id=None,
        title=rules.kind_info("programme_weekly").title,
        letterhead=head,
        context=context,
    )


async def load_monthly_bulletin(
    programmes: ProgrammeService, actor: Actor, programme_id: UUID, month: str
) -> ReportData:
    evaluation = await programmes.evaluation(actor, programme_id, month)
    if evaluation.status != "finalised":
        raise Conflict(
            t("reports.not_finalised_yet_bulletin_prints_finalised", label=Month.parse(evaluation.month).label),
            field="month",
        )
    subjects = evaluation.subjects
    tables = [_table(subjects, evaluation.indicators, k) for k in SHOWN_KINDS]
    praised = [{"kind": KIND_NAMES[s.kind], "name": s.name, "score": s.score} for s in subjects if s.grade == "优秀"]
    criticised = [
        {"kind": KIND_NAMES[s.kind], "name": s.name, "score": s.score, "weakest": _weakest(s, evaluation.indicators)}
        for s in subjects
        if s.grade == "不合格"
    ]
    counts = {
        g: sum(1 for s in subjects if s.grade == g and s.kind == "contractor")
        for g in ("优秀", "良好", "合格", "不合格")
    }
    context = {
        "programme": evaluation.programme_name,
        "month": Month.parse(evaluation.month).label,
        "revision": evaluation.revision,
        "reason": evaluation.reason,
        "finalised_at": evaluation.finalised_at,
        "finalised_by": evaluation.finalised_by,
        "indicators": _header(evaluation.indicators),
        "tables": [t for t in tables if t["rows"]],
        "praised": praised,
        "criticised": criticised,
        "contractor_grades": counts,
    }
    head = await _letterhead(actor, evaluation.programme_name)
    return ReportData(
        kind="programme_monthly",
        subject_id=uuid5(programme_id, f"month:{evaluation.month}"),
        project_id=None,
        title=rules.kind_info("programme_monthly").title,
        letterhead=replace(head),
        context=context,
    )
