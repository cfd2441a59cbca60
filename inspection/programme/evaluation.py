"""Use cases of the monthly evaluation (月考评): compute a month from the records (any month, any
time), finalise it (the programme office freezes its figures as revision 1), correct it (a new
revision with its reason; the old figures are kept and the audit log says who, when and why),
read a revision, and list the records behind one subject's indicator.

A finalised month is read from its current revision, never recomputed: records that change
afterwards do not move its figures. The organisations' grades of the current revision are kept
per month (credit_grade) for the credit lists."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.audit import service as audit
from inspection.clock import Clock
from inspection.documents import canonical_json
from inspection.errors import Conflict, NotFound, ValidationFailed
from inspection.messages import t
from inspection.programme import figures
from inspection.programme import schemas as s
from inspection.programme.access import ProgrammeView, programme_view, require_programme_office
from inspection.programme.rules import Month, Period, month_problem, rule_data
from inspection.programme.scoring import (
    Attribution,
    EvaluationRules,
    Structure,
    SubjectKind,
    evaluate,
    evaluation_json,
    parse_rules,
)
from inspection.programme.tables import CreditGrade, EvaluationRevision
from inspection.records import Write, write

REVISION = EvaluationRevision._meta.tablename
DRILL_LIMIT = 500


def rules_digest() -> str:
    return hashlib.sha256(json.dumps(rule_data(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def indicator_info(rules: EvaluationRules) -> list[dict[str, Any]]:
    return [
        {
            "code": r.code,
            "name": r.name,
            "short": r.short,
            "unit": r.unit,
            "measure": r.measure.value,
            "weight": str(r.weight),
            "full_at": str(float(r.full_at)).removesuffix(".0"),
            "zero_at": str(float(r.zero_at)).removesuffix(".0"),
        }
        for r in rules.indicators
    ]


def parse_month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError:
        raise ValidationFailed(t("programme.bad_month", value=text), field="month") from None


async def compute(programme_id: UUID, period: Period, rules: EvaluationRules | None = None) -> dict[str, Any]:
    """The evaluation of a period from the records now: {as_of, indicators, subjects}."""
    rules = rules or parse_rules()
    structure = await figures.structure(programme_id)
    facts = await figures.gather(programme_id, period, [r.code for r in rules.indicators])
    results = evaluate(structure, facts, rules)
    return {
        "as_of": period.as_of.isoformat(),
        "indicators": indicator_info(rules),
        "subjects": evaluation_json(results, rules),
    }


def content_sha256(figures_json: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(figures_json)).hexdigest()


def _visible(view: ProgrammeView, structure: Structure, subjects: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A street office sees its areas, its projects, and the organisations working on them."""
    if view.areas is None:
        return list(subjects)
    projects = {p for p, a in structure.project_area.items() if view.sees_area(a)}
    orgs: set[str] = set()
    for site, project in structure.site_project.items():
        if project in projects:
            orgs |= {str(c) for c in structure.site_contractors.get(site, ())}
    for project in projects:
        orgs |= {str(o) for o in structure.project_supervisors.get(project, ())}
    ids = {str(p) for p in projects} | {str(a) for a in view.areas}
    return [
        sub
        for sub in subjects
        if (sub["kind"] in (SubjectKind.project.value, SubjectKind.area.value) and sub["id"] in ids)
        or (sub["kind"] in (SubjectKind.contractor.value, SubjectKind.supervisor.value) and sub["id"] in orgs)
    ]


async def visible_subjects(view: ProgrammeView, subjects: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    if view.areas is None:
        return list(subjects)
    return _visible(view, await figures.structure(view.id), subjects)


async def _current(programme_id: UUID, month: Month) -> dict[str, Any] | None:
    return await (  # type: ignore[no-any-return]
        EvaluationRevision.select(
            *EvaluationRevision.all_columns(), EvaluationRevision.finalised_by.display_name.as_alias("by_name")
        )
        .where(
            (EvaluationRevision.programme == programme_id)
            & (EvaluationRevision.month == str(month))
            & EvaluationRevision.current.eq(True)
            & EvaluationRevision.deleted.eq(False)
        )
        .first()
    )


def _out(
    view: ProgrammeView,
    structure: Structure,
    month: Month,
    data: dict[str, Any],
    revision: dict[str, Any] | None,
    differs: bool | None = None,
) -> s.EvaluationOut:
    import msgspec

    return s.EvaluationOut(
        programme_id=view.id,
        programme_name=str(view.programme["name"]),
        month=str(month),
        status="finalised" if revision else "live",
        revision=revision["revision"] if revision else None,
        finalised_at=revision["finalised_at"] if revision else None,
        finalised_by=(revision.get("by_name") or "") if revision else "",
        reason=revision["reason"] if revision else "",
        as_of=datetime.fromisoformat(data["as_of"]),
        differs_from_records=differs,
        indicators=msgspec.convert(data["indicators"], list[s.IndicatorInfo]),
        subjects=msgspec.convert(_visible(view, structure, data["subjects"]), list[s.SubjectOut]),
    )


async def get(
    actor: Actor, clock: Clock, programme_id: UUID, month_text: str, compare: bool = False
) -> s.EvaluationOut:
    """A month's evaluation: its frozen figures once finalised, else computed from the records now.
    With `compare`, a finalised month also says whether the records would now give other figures."""
    view = await programme_view(actor, programme_id)
    month = parse_month(month_text)
    now = clock.now()
    problem = month_problem(month, now)
    if problem:
        raise ValidationFailed(problem, field="month")
    structure = await figures.structure(programme_id)
    revision = await _current(programme_id, month)
    if revision is not None:
        frozen = json.loads(revision["figures"])
        differs = None
        if compare:
            differs = (
                content_sha256(await compute(programme_id, Period.of_month(month, now))) != revision["content_sha256"]
            )
        return _out(view, structure, month, frozen, revision, differs)
    return _out(view, structure, month, await compute(programme_id, Period.of_month(month, now)), None)


async def _freeze(
    w: Write, programme_id: UUID, month: Month, number: int, data: dict[str, Any], reason: str
) -> dict[str, Any]:
    digest = content_sha256(data)
    row = await w.insert(
        EvaluationRevision,
        {
            "programme": programme_id,
            "month": str(month),
            "revision": number,
            "figures": canonical_json(data).decode(),
            "content_sha256": digest,
            "rules_sha256": rules_digest(),
            "reason": reason,
            "finalised_by": w.actor.user_id,
            "finalised_at": w.now,
            "current": True,
        },
        [],
        audit_values=False,  # the figures are in the row; the log keeps what identifies them
    )
    await audit.append(
        w,
        "finalise" if number == 1 else "revise",
        REVISION,
        row["id"],
        {"month": str(month), "revision": number, "reason": reason, "content_sha256": digest},
    )
    for sub in data["subjects"]:
        if sub["kind"] not in (SubjectKind.contractor.value, SubjectKind.supervisor.value):
            continue
        await w.insert(
            CreditGrade,
            {
                "organisation": UUID(sub["id"]),
                "programme": programme_id,
                "revision": row["id"],
                "month": str(month),
                "kind": sub["kind"],
                "score": float(sub["score"]) if sub["score"] is not None else None,
                "grade": sub["grade"],
                "current": True,
            },
            [],
        )
    return row


async def finalise(actor: Actor, clock: Clock, programme_id: UUID, month_text: str, note: str = "") -> s.EvaluationOut:
    """定稿: the programme office freezes a finished month's figures as revision 1."""
    month = parse_month(month_text)
    view = await require_programme_office(actor, programme_id)
    problem = month_problem(month, clock.now(), finalising=True)
    if problem:
        raise Conflict(problem, field="month")
    # computed before the write transaction: it holds every other writer while it lasts, and the
    # records of a finished month hardly change in the seconds a city-wide computation takes
    data = await compute(programme_id, Period.of_month(month, clock.now()))
    async with write(actor, clock) as w:
        await require_programme_office(actor, programme_id)
        if await _current(programme_id, month) is not None:
            raise Conflict(t("programme.already_finalised_correct_revision", label=month.label), field="month")
        await _freeze(w, programme_id, month, 1, data, note.strip())
    return await get(actor, clock, view.id, str(month))


async def revise(actor: Actor, clock: Clock, programme_id: UUID, month_text: str, reason: str) -> s.EvaluationOut:
    """更正: recompute a finalised month from the records now, as the next revision with its reason.
    The earlier revision stays readable; only the new one counts (figures and credit grades)."""
    month = parse_month(month_text)
    if not reason.strip():
        raise ValidationFailed(t("programme.say_why_month_corrected"), field="reason")
    await require_programme_office(actor, programme_id)
    if await _current(programme_id, month) is None:
        raise Conflict(t("programme.not_finalised_yet_finalise_first", label=month.label), field="month")
    data = await compute(programme_id, Period.of_month(month, clock.now()))  # outside the write: see finalise
    async with write(actor, clock) as w:
        await require_programme_office(actor, programme_id)
        current = await _current(programme_id, month)
        if current is None:
            raise Conflict(t("programme.not_finalised_yet_finalise_first", label=month.label), field="month")
        await w.update(
            EvaluationRevision,
            current["id"],
            {"current": False},
            [],
            current={k: v for k, v in current.items() if k != "by_name"},
            action="supersede",
        )
        grades = await CreditGrade.select(CreditGrade.id).where(
            (CreditGrade.revision == current["id"]) & CreditGrade.current.eq(True)
        )
        for g in grades:
            await w.update(CreditGrade, g["id"], {"current": False}, [], action="supersede")
        await _freeze(w, programme_id, month, current["revision"] + 1, data, reason.strip())
    return await get(actor, clock, programme_id, str(month))


async def revisions(actor: Actor, programme_id: UUID, month_text: str) -> list[s.RevisionOut]:
    await programme_view(actor, programme_id)
    month = parse_month(month_text)
    rows = await (
        EvaluationRevision.select(
            EvaluationRevision.revision,
            EvaluationRevision.current,
            EvaluationRevision.finalised_at,
            EvaluationRevision.reason,
            EvaluationRevision.content_sha256,
            EvaluationRevision.finalised_by.display_name.as_alias("by_name"),
        )
        .where((EvaluationRevision.programme == programme_id) & (EvaluationRevision.month == str(month)))
        .order_by(EvaluationRevision.revision)
    )
    return [
        s.RevisionOut(
            revision=r["revision"],
            current=r["current"],
            finalised_at=r["finalised_at"],
            finalised_by=r["by_name"] or "",
            reason=r["reason"],
            content_sha256=r["content_sha256"],
        )
        for r in rows
    ]


async def revision(actor: Actor, programme_id: UUID, month_text: str, number: int) -> s.EvaluationOut:
    """An earlier (or the current) revision's frozen figures."""
    view = await programme_view(actor, programme_id)
    month = parse_month(month_text)
    row = await (
        EvaluationRevision.select(
            *EvaluationRevision.all_columns(), EvaluationRevision.finalised_by.display_name.as_alias("by_name")
        )
        .where(
            (EvaluationRevision.programme == programme_id)
            & (EvaluationRevision.month == str(month))
            & (EvaluationRevision.revision == number)
        )
        .first()
    )
    if row is None:
        raise NotFound(t("programme.has_no_revision", label=month.label, number=number))
    structure = await figures.structure(programme_id)
    return _out(view, structure, month, json.loads(row["figures"]), row)


def subject_projects(structure: Structure, kind: SubjectKind, subject: UUID) -> list[UUID]:
    """The projects whose records can count for a subject."""
    if kind is SubjectKind.project:
        return [subject] if subject in structure.project_area else []
    if kind is SubjectKind.area:
        return sorted((p for p in structure.project_area if subject in structure.areas_of(p)), key=str)
    if kind is SubjectKind.supervisor:
        return sorted((p for p, orgs in structure.project_supervisors.items() if subject in orgs), key=str)
    return sorted(
        {structure.site_project[site] for site, orgs in structure.site_contractors.items() if subject in orgs}
        & set(structure.project_area),
        key=str,
    )


async def drilldown(
    actor: Actor, clock: Clock, programme_id: UUID, month_text: str, kind: SubjectKind, subject: UUID, indicator: str
) -> s.DrillOut:
    """The records behind one subject's indicator in a month (as they are now), latest first."""
    view = await programme_view(actor, programme_id)
    month = parse_month(month_text)
    rules = parse_rules()
    rule = next((r for r in rules.indicators if r.code == indicator), None)
    if rule is None:
        raise ValidationFailed(t("programme.no_such_indicator"), field="indicator")
    structure = await figures.structure(programme_id)
    shown = _visible(view, structure, [{"kind": kind.value, "id": str(subject)}])
    projects = subject_projects(structure, kind, subject)
    name = structure.name_of(kind, subject)
    if not shown or not (projects or name):
        raise NotFound(t("programme.no_such_programme", value=kind.value))
    period = Period.of_month(month, clock.now())
    found, truncated = await figures.records(indicator, period, projects, DRILL_LIMIT)
    attribution = Attribution(structure)
    rows = [r for r in found if (kind, subject) in (attribution.of(r.project, r.site, r.contractor) or ())]
    sites = await _site_names({r.site for r in rows})
    return s.DrillOut(
        indicator=indicator,
        indicator_name=rule.name,
        subject_kind=kind.value,
        subject_id=subject,
        subject_name=name,
        month=str(month),
        rows=[describe(indicator, r, sites, structure.organisation_names) for r in rows],
        truncated=truncated,
    )


async def _site_names(ids: set[UUID | None]) -> dict[UUID, str]:
    from inspection.projects.tables import Site

    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {r["id"]: r["name"] for r in await Site.select(Site.id, Site.name).where(Site.id.is_in(wanted))}


def describe(indicator: str, r: figures.Record, sites: dict[UUID, str], orgs: Any) -> s.DrillRow:
    """One record in words (Chinese: what a reader of the drill-down sees)."""
    from inspection.documents import label

    if indicator == "safety_score":
        what, counted = f"安全检查 {r.a}", f"{float(r.b):.1f} 分"
    elif indicator == "first_pass":
        what, counted = f"检验批验收 {r.a}", "一次验收合格" if r.b == "合格" else "一次验收不合格"
    elif indicator == "on_time":
        what, counted = f"整改单：{str(r.a)[:60]}", "按期闭合" if int(r.b or 0) else "未按期闭合"
    elif indicator == "overdue_days":
        what, counted = f"整改单：{str(r.a)[:60]}", f"逾期 {float(r.b or 0):.1f} 天"
    elif indicator == "stop_work":
        what, counted = f"停工通知：{str(r.a)[:60]}", label("order_state", str(r.b))
    elif indicator == "failed_samples":
        what, counted = f"送检样品 {r.b}（{label('material', str(r.a))}）", "不合格"
    elif indicator == "complaints_upheld":
        what, counted = f"居民投诉转整改：{str(r.b)[:60]}", "属实"
    else:
        what, counted = "居民满意度调查", f"满意 {int(r.a or 0)} / {int(r.b or 0)} 户"
    return s.DrillRow(
        record_table=r.table,
        record_id=r.id if indicator != "satisfaction" else r.site,
        label=what,
        site=sites.get(r.site, "") if r.site else "",
        contractor=orgs.get(r.contractor, "") if r.contractor else "",
        at=r.at,
        counted=counted,
    )


async def finalised_months(programme_id: UUID) -> list[str]:
    rows = await EvaluationRevision.select(EvaluationRevision.month).where(
        (EvaluationRevision.programme == programme_id) & EvaluationRevision.current.eq(True)
    )
    return sorted({r["month"] for r in rows}, reverse=True)
