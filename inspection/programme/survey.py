"""Use cases of the residents' satisfaction survey (满意度调查 / 效果评价): what a site's survey asks,
a household's answer from the site's public notice page (no sign-in; rate-limited per client
address as complaints are), a paper form entered by street or community staff, the results per
site, project or contractor (counts, averages and shares), and the answers themselves for the
office roles only.

One answer per household (楼栋-单元-室): a later one replaces the earlier (kept as a count on the
answer and an entry in the audit log, never its content). The survey is open once the site (or its
whole project) passed joint acceptance, or during works where the programme allows it."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID

from inspection import db
from inspection.actor import Actor
from inspection.audit import service as audit
from inspection.clock import Clock
from inspection.errors import Conflict, NotFound, RateLimited, ValidationFailed
from inspection.messages import t
from inspection.programme import schemas as s
from inspection.programme.access import office_sees_project, project_area, scope_of
from inspection.programme.rules import (
    RULES_FILE,
    Category,
    answers_problem,
    household_key,
    household_problem,
    normalise_room,
    questions,
    satisfied_min,
)
from inspection.programme.tables import ProjectPlacement, SurveyAnswer
from inspection.projects.access import project_access
from inspection.projects.ratelimit import RateCounter, Window
from inspection.projects.tables import Building, Organisation, Project, Site, WorkItem
from inspection.records import Write, new_id, write
from inspection.rectification.rules import ISSUING_ROLES
from inspection.warranty.tables import Acceptance

TABLE = SurveyAnswer._meta.tablename

# A resident answering is nobody the system knows: the service writes their answer as this actor,
# whose name marks those rows in the audit log.
PUBLIC = Actor(user_id=None, username="public:survey", is_admin=True, device_id="public-web")


def load_rate_rule() -> Window:
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))["survey"]["rate_limit"]
    return Window(max_events=int(data["max_per_window"]), seconds=float(data["window_s"]))


def _dec(value: Fraction | None, places: int = 1) -> str | None:
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class SiteSurvey:
    """What the public survey page needs about a site."""

    site_id: UUID
    site_name: str
    project_id: UUID
    project_name: str
    buildings: list[dict[str, Any]]
    categories: list[Category]
    open: bool
    stage: str  # during | after
    why_closed: str


async def _site(site_id: UUID) -> dict[str, Any]:
    site = (
        await Site.select(*Site.all_columns(), Site.project.deleted.as_alias("project_deleted"))
        .where((Site.id == site_id) & Site.deleted.eq(False))
        .first()
    )
    if site is None or site["project_deleted"]:
        raise NotFound(t("programme.site_has_no_public_notice", site_id=site_id))
    return site  # type: ignore[no-any-return]


async def _accepted(site: dict[str, Any]) -> bool:
    """Joint acceptance passed for the site, or for its whole project."""
    return await Acceptance.exists().where(
        (Acceptance.project == site["project"])
        & (Acceptance.result == "passed")
        & Acceptance.deleted.eq(False)
        & ((Acceptance.site == site["id"]) | Acceptance.site.is_null())
    )


async def _during_works_allowed(project_id: UUID) -> bool:
    row = (
        await ProjectPlacement.select(ProjectPlacement.programme.survey_during_works.as_alias("allowed"))
        .where((ProjectPlacement.project == project_id) & ProjectPlacement.deleted.eq(False))
        .first()
    )
    return bool(row and row["allowed"])


async def site_survey(site_id: UUID) -> SiteSurvey:
    site = await _site(site_id)
    project = await Project.select(Project.name).where(Project.id == site["project"]).first()
    buildings = await Building.select(Building.id, Building.name, Building.units, Building.floors).where(
        (Building.site == site_id) & Building.deleted.eq(False)
    )
    work_types = {
        w["work_type"]
        for w in await WorkItem.select(WorkItem.work_type).where(
            (WorkItem.site == site_id) & WorkItem.deleted.eq(False)
        )
    }
    accepted = await _accepted(site)
    during = not accepted and await _during_works_allowed(site["project"])
    return SiteSurvey(
        site_id=site_id,
        site_name=site["name"],
        project_id=site["project"],
        project_name=project["name"] if project else "",
        buildings=sorted(buildings, key=lambda b: (len(b["name"]), b["name"])),
        categories=questions().for_work_types(work_types),
        open=accepted or during,
        stage="after" if accepted else "during",
        why_closed="" if accepted or during else "本小区尚未完成竣工联合验收，验收后开放满意度调查。",
    )


class SurveyService:
    def __init__(self, clock: Clock, rate: Window | None = None) -> None:
        self.clock = clock
        self.rate = rate or load_rate_rule()
        self.rates = RateCounter(clock)

    async def check_rate(self, client: str) -> None:
        """Count this answer under the client's address; refuse once the window is full."""
        key = f"survey:{client}"
        wait = await self.rates.wait_s(key, self.rate)
        if wait is not None:
            raise RateLimited(t("programme.too_many_answers_from_address_try"), retry_after=wait)
        await self.rates.record([key])

    async def submit(self, site_id: UUID, data: s.SurveyIn) -> s.SurveyReceipt:
        """A household's answer from the public page; the caller has passed `check_rate`."""
        survey = await site_survey(site_id)
        if not survey.open:
            raise Conflict(t("programme.survey_closed_until_acceptance"), field="site_id")
        async with write(PUBLIC, self.clock) as w:
            return await self._store(w, survey, data, channel="online", entered_by=None, form_number="")

    async def enter_paper(self, actor: Actor, site_id: UUID, data: s.PaperSurveyIn) -> s.SurveyReceipt:
        """A paper form, entered by the street or community office (or the programme office) of the
        site's area. Paper forms are accepted whether or not the online survey is open."""
        survey = await site_survey(site_id)
        if not await office_sees_project(actor, survey.project_id):
            raise NotFound(t("programme.site_not_area_yours", site_id=site_id))
        async with write(actor, self.clock) as w:
            return await self._store(
                w, survey, data, channel="paper", entered_by=actor.user_id, form_number=data.form_number.strip()
            )

    async def _store(
        self, w: Write, survey: SiteSurvey, data: s.SurveyIn, *, channel: str, entered_by: UUID | None, form_number: str
    ) -> s.SurveyReceipt:
        building = next((b for b in survey.buildings if b["id"] == data.building_id), None)
        if building is None:
            raise ValidationFailed(t("programme.building_not_site"), field="building_id")
        room = normalise_room(data.room)
        problem = household_problem(
            data.unit, room, building_units=building["units"], building_floors=building["floors"]
        ) or answers_problem(data.overall, data.answers, data.comment, survey.categories, questions())
        if problem:
            raise ValidationFailed(problem[1], field=problem[0])
        household = household_key(building["id"], data.unit, room)
        earlier = (
            await SurveyAnswer.select(SurveyAnswer.id, SurveyAnswer.replaced)
            .where((SurveyAnswer.site == survey.site_id) & (SurveyAnswer.household == household))
            .first()
        )
        replaced = 0
        if earlier is not None:
            # The answer never reaches a tablet, so the earlier row can go: the audit log says it
            # was replaced (not what either answer said) and the new row counts the replacements.
            await db.raw("DELETE FROM survey_answer WHERE id = {}", earlier["id"])
            replaced = earlier["replaced"] + 1
        row = await w.insert(
            SurveyAnswer,
            {
                "id": new_id(),
                "project": survey.project_id,
                "site": survey.site_id,
                "building": building["id"],
                "unit": data.unit,
                "room": room,
                "household": household,
                "overall": data.overall,
                "answers": json.dumps(dict(sorted(data.answers.items())), ensure_ascii=False),
                "comment": data.comment.strip(),
                "channel": channel,
                "stage": survey.stage,
                "received_at": w.now,
                "entered_by": entered_by,
                "form_number": form_number,
                "replaced": replaced,
            },
            [],  # never to tablets: residents' answers are for the office roles only
            audit_values=False,
        )
        if earlier is not None:
            await audit.append(w, "replace", TABLE, row["id"], {"replaces": str(earlier["id"]), "channel": channel})
        return s.SurveyReceipt(received_at=row["received_at"], replaced=earlier is not None)

    # Results: counts, averages and shares only

    async def _aggregate(self, where: Any) -> tuple[int, int, int, Fraction | None, dict[str, list[int]]]:
        rows = await SurveyAnswer.select(SurveyAnswer.overall, SurveyAnswer.answers).where(
            where & SurveyAnswer.deleted.eq(False)
        )
        n = len(rows)
        satisfied = sum(1 for r in rows if r["overall"] >= satisfied_min())
        total = sum(r["overall"] for r in rows)
        per_category: dict[str, list[int]] = {}
        for r in rows:
            for code, value in json.loads(r["answers"] or "{}").items():
                per_category.setdefault(code, []).append(int(value))
        return n, satisfied, total, (Fraction(total, n) if n else None), per_category

    async def _results(self, scope: str, subject: UUID, name: str, where: Any, households: int) -> s.SurveyResults:
        n, satisfied, _, average, per_category = await self._aggregate(where)
        return s.SurveyResults(
            scope=scope,
            id=subject,
            name=name,
            answers=n,
            households=households,
            response_rate=_dec(Fraction(100 * n, households)) if households else None,
            overall_average=_dec(average, 2),
            satisfied_share=_dec(Fraction(100 * satisfied, n)) if n else None,
            categories=[
                s.CategoryResult(
                    code=c.code,
                    text=c.text,
                    answers=len(per_category.get(c.code, [])),
                    average=_dec(Fraction(sum(per_category[c.code]), len(per_category[c.code])), 2)
                    if per_category.get(c.code)
                    else None,
                )
                for c in questions().categories
                if c.code in per_category
            ],
        )

    async def site_results(self, site_id: UUID) -> s.SurveyResults:
        """Public (the notice page shows it): aggregates only, never an answer."""
        site = await _site(site_id)
        return await self._results("site", site_id, site["name"], SurveyAnswer.site == site_id, site["households"])

    async def project_results(self, actor: Actor, project_id: UUID) -> s.SurveyResults:
        await project_access(actor, project_id)
        project = await Project.select(Project.name).where(Project.id == project_id).first()
        households = await Site.select(Site.households).where((Site.project == project_id) & Site.deleted.eq(False))
        return await self._results(
            "project",
            project_id,
            project["name"] if project else "",
            SurveyAnswer.project == project_id,
            sum(h["households"] for h in households),
        )

    async def contractor_results(self, actor: Actor, organisation_id: UUID) -> s.SurveyResults:
        """The sites a contractor works on, in the projects the actor may see (a contractor: its own)."""
        scope = await scope_of(actor)
        if not (actor.is_admin or scope.any or actor.organisation_id == organisation_id):
            raise NotFound(t("programme.organisation_not_one_yours", organisation_id=organisation_id))
        org = await Organisation.select(Organisation.name).where(Organisation.id == organisation_id).first()
        if org is None:
            raise NotFound(t("programme.organisation_does_not_exist", organisation_id=organisation_id))
        sites = await WorkItem.select(WorkItem.site, WorkItem.project).where(
            (WorkItem.contractor == organisation_id) & WorkItem.deleted.eq(False)
        )
        visible = await _readable_projects(actor, {w["project"] for w in sites})
        site_ids = sorted({w["site"] for w in sites if w["project"] in visible}, key=str)
        households = (
            await Site.select(Site.households).where(Site.id.is_in(site_ids) & Site.deleted.eq(False))
            if site_ids
            else []
        )
        return await self._results(
            "contractor",
            organisation_id,
            org["name"],
            SurveyAnswer.site.is_in(site_ids or [UUID(int=0)]),
            sum(h["households"] for h in households),
        )

    # The answers themselves: the office roles only

    async def answers(self, actor: Actor, site_id: UUID, limit: int = 100, offset: int = 0) -> s.SurveyAnswerPage:
        site = await _site(site_id)
        if not await may_read_answers(actor, site["project"]):
            raise NotFound(t("programme.site_has_no_answers_you_may", site_id=site_id))
        where = (SurveyAnswer.site == site_id) & SurveyAnswer.deleted.eq(False)
        rows = await (
            SurveyAnswer.select(*SurveyAnswer.all_columns(), SurveyAnswer.building.name.as_alias("building_name"))
            .where(where)
            .order_by(SurveyAnswer.received_at, ascending=False)
            .limit(limit)
            .offset(offset)
        )
        return s.SurveyAnswerPage(
            items=[
                s.SurveyAnswerOut(
                    id=r["id"],
                    site_id=r["site"],
                    building=r["building_name"] or "",
                    unit=r["unit"],
                    room=r["room"],
                    overall=r["overall"],
                    answers=json.loads(r["answers"] or "{}"),
                    comment=r["comment"],
                    channel=r["channel"],
                    stage=r["stage"],
                    received_at=r["received_at"],
                    form_number=r["form_number"],
                    replaced=r["replaced"],
                )
                for r in rows
            ],
            total=await SurveyAnswer.count().where(where),
        )


async def summary_until(site_ids: list[UUID], until: datetime) -> dict[str, Any]:
    """Counts and shares of the answers on these sites received before `until`, as plain data for a
    document (the acceptance record prints the residents' evaluation as of the acceptance day)."""
    if not site_ids:
        return {"answers": 0}
    rows = await SurveyAnswer.select(SurveyAnswer.overall).where(
        SurveyAnswer.site.is_in(site_ids) & SurveyAnswer.deleted.eq(False) & (SurveyAnswer.received_at < until)
    )
    n = len(rows)
    satisfied = sum(1 for r in rows if r["overall"] >= satisfied_min())
    households = await Site.select(Site.households).where(Site.id.is_in(site_ids))
    total = sum(h["households"] for h in households)
    return {
        "answers": n,
        "households": total,
        "response_rate": _dec(Fraction(100 * n, total)) if total else None,
        "satisfied_share": _dec(Fraction(100 * satisfied, n)) if n else None,
        "overall_average": _dec(Fraction(sum(r["overall"] for r in rows), n), 2) if n else None,
    }


async def may_read_answers(actor: Actor, project_id: UUID) -> bool:
    """An area office covering the project, or the project's office side (who triage complaints)."""
    if actor.is_admin or await office_sees_project(actor, project_id):
        return True
    try:
        access = await project_access(actor, project_id)
    except NotFound:
        return False
    return bool(access.roles & ISSUING_ROLES)


async def _readable_projects(actor: Actor, project_ids: Iterable[UUID]) -> set[UUID]:
    out = set()
    for pid in project_ids:
        try:
            await project_access(actor, pid)
        except NotFound:
            if await project_area(pid) is None or not await office_sees_project(actor, pid):
                continue
        out.add(pid)
    return out
