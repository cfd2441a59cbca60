"""Credit (信用): an organisation's monthly grades over time (from the finalised months' current
revisions), the recommended list (推荐名录) and the watch list (重点关注名单) by the rules in
rules.toml. The lists are public: names, grades and months only."""

from __future__ import annotations

from uuid import UUID

from inspection.actor import Actor
from inspection.errors import NotFound
from inspection.messages import t
from inspection.programme import schemas as s
from inspection.programme.access import scope_of
from inspection.programme.rules import Month, credit_rules, is_recommended, is_watched, monthly_grades
from inspection.programme.tables import CreditGrade
from inspection.projects.tables import Organisation


async def _current_grades(organisation_id: UUID | None = None) -> list[dict[str, object]]:
    where = CreditGrade.current.eq(True) & CreditGrade.deleted.eq(False)
    if organisation_id is not None:
        where &= CreditGrade.organisation == organisation_id
    return await CreditGrade.select(  # type: ignore[no-any-return]
        CreditGrade.organisation,
        CreditGrade.month,
        CreditGrade.kind,
        CreditGrade.grade,
        CreditGrade.score,
        CreditGrade.organisation.name.as_alias("name"),
    ).where(where)


def _months(rows: list[dict[str, object]]) -> dict[Month, str]:
    return monthly_grades((Month.parse(str(r["month"])), str(r["grade"])) for r in rows)


async def lists() -> s.CreditLists:
    """As of the latest month any programme has finalised; a month an organisation was not graded
    in breaks its run (see rules.toml [credit])."""
    rule = credit_rules()
    rows = await _current_grades()
    if not rows:
        return s.CreditLists(
            as_of=None, recommended=[], watch=[], recommended_rule=_recommended_rule(), watch_rule=_watch_rule()
        )
    as_of = max(Month.parse(str(r["month"])) for r in rows)
    by_org: dict[UUID, list[dict[str, object]]] = {}
    for r in rows:
        by_org.setdefault(r["organisation"], []).append(r)  # type: ignore[arg-type]
    recommended, watch = [], []
    window = as_of.back(max(rule.recommended_months, rule.watch_within))
    for org, org_rows in by_org.items():
        grades = _months(org_rows)
        entry = s.CreditEntry(
            organisation_id=org,
            name=str(org_rows[0]["name"]),
            kind=str(org_rows[0]["kind"]),
            months=[s.CreditMonth(month=str(m), grade=grades[m]) for m in window if m in grades],
        )
        if is_recommended(grades, as_of, rule):
            recommended.append(entry)
        if is_watched(grades, as_of, rule):
            watch.append(entry)
    return s.CreditLists(
        as_of=str(as_of),
        recommended=sorted(recommended, key=lambda e: e.name),
        watch=sorted(watch, key=lambda e: e.name),
        recommended_rule=_recommended_rule(),
        watch_rule=_watch_rule(),
    )


def _recommended_rule() -> str:
    r = credit_rules()
    return f"连续 {r.recommended_months} 个月月度考评为“{r.recommended_grade}”的单位"


def _watch_rule() -> str:
    r = credit_rules()
    return f"近 {r.watch_within} 个月中有 {r.watch_times} 个月及以上月度考评为“{r.watch_grade}”的单位"


async def history(actor: Actor, organisation_id: UUID) -> list[s.CreditMonth]:
    """An organisation's grade month by month (the worst of its programmes'), latest first: for its
    own people, the area offices and administrators."""
    if not await Organisation.exists().where(Organisation.id == organisation_id):
        raise NotFound(t("programme.organisation_does_not_exist", organisation_id=organisation_id))
    if not (actor.organisation_id == organisation_id or (await scope_of(actor)).any):
        raise NotFound(t("programme.organisation_not_one_yours", organisation_id=organisation_id))
    rows = await _current_grades(organisation_id)
    grades = _months(rows)
    scores: dict[Month, list[float]] = {}
    for r in rows:
        if r["score"] is not None and r["grade"] == grades.get(Month.parse(str(r["month"]))):
            scores.setdefault(Month.parse(str(r["month"])), []).append(float(r["score"]))  # type: ignore[arg-type]
    return [
        s.CreditMonth(month=str(m), grade=g, score=f"{min(scores[m]):.1f}" if m in scores else None)
        for m, g in sorted(grades.items(), reverse=True)
    ]
