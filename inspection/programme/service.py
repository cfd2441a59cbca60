"""Programme supervision's use cases in one object for the API, the portal, the CLI and the
scheduler: the structure (structure.py), the monthly evaluation (evaluation.py), the weekly
ranking, credit lists (credit.py), the survey (survey.py) and the daily digest (digest.py)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from inspection.actor import Actor
from inspection.clock import Clock
from inspection.documents import local_day, week_of
from inspection.errors import ValidationFailed
from inspection.programme import credit, digest, evaluation, structure
from inspection.programme import schemas as s
from inspection.programme.access import programme_view
from inspection.programme.rules import Period, day_problem
from inspection.programme.scoring import SubjectKind
from inspection.programme.survey import SurveyService
from inspection.settings import Settings


class ProgrammeService:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.survey = SurveyService(clock)

    # Structure

    async def create_area(self, actor: Actor, data: s.AreaCreate) -> s.AreaOut:
        return await structure.create_area(actor, self.clock, data)

    async def list_areas(self, actor: Actor) -> list[s.AreaOut]:
        return await structure.list_areas(actor)

    async def create_programme(self, actor: Actor, data: s.ProgrammeCreate) -> s.ProgrammeOut:
        return await structure.create_programme(actor, self.clock, data)

    async def list_programmes(self, actor: Actor) -> list[s.ProgrammeOut]:
        return await structure.list_programmes(actor)

    async def get_programme(self, actor: Actor, programme_id: UUID) -> s.ProgrammeOut:
        return await structure.get_programme(actor, programme_id)

    async def update_programme(self, actor: Actor, programme_id: UUID, data: s.ProgrammeUpdate) -> s.ProgrammeOut:
        return await structure.update_programme(actor, self.clock, programme_id, data)

    async def create_batch(self, actor: Actor, programme_id: UUID, data: s.ProgrammeBatchCreate) -> s.BatchOut:
        return await structure.create_batch(actor, self.clock, programme_id, data)

    async def placements(self, actor: Actor, programme_id: UUID) -> s.PlacementPage:
        return await structure.list_placements(actor, programme_id)

    async def place_project(self, actor: Actor, project_id: UUID, data: s.PlacementIn) -> s.PlacementOut:
        return await structure.place_project(actor, self.clock, project_id, data)

    async def appoint(self, actor: Actor, data: s.OfficeCreate) -> s.OfficeOut:
        return await structure.appoint(actor, self.clock, data)

    async def offices(self, actor: Actor) -> list[s.OfficeOut]:
        return await structure.list_offices(actor)

    async def dismiss(self, actor: Actor, office_id: UUID) -> None:
        await structure.dismiss(actor, self.clock, office_id)

    # Monthly evaluation

    async def evaluation(self, actor: Actor, programme_id: UUID, month: str, compare: bool = False) -> s.EvaluationOut:
        return await evaluation.get(actor, self.clock, programme_id, month, compare)

    async def finalise(self, actor: Actor, programme_id: UUID, month: str, note: str = "") -> s.EvaluationOut:
        return await evaluation.finalise(actor, self.clock, programme_id, month, note)

    async def revise(self, actor: Actor, programme_id: UUID, month: str, reason: str) -> s.EvaluationOut:
        return await evaluation.revise(actor, self.clock, programme_id, month, reason)

    async def revisions(self, actor: Actor, programme_id: UUID, month: str) -> list[s.RevisionOut]:
        return await evaluation.revisions(actor, programme_id, month)

    async def revision(self, actor: Actor, programme_id: UUID, month: str, number: int) -> s.EvaluationOut:
        return await evaluation.revision(actor, programme_id, month, number)

    async def drilldown(
        self, actor: Actor, programme_id: UUID, month: str, kind: SubjectKind, subject: UUID, indicator: str
    ) -> s.DrillOut:
        return await evaluation.drilldown(actor, self.clock, programme_id, month, kind, subject, indicator)

    # Weekly ranking (周通报)

    async def weekly(self, actor: Actor, programme_id: UUID, week: date | None = None) -> s.WeeklyOut:
        """The week (Monday to Sunday, Beijing time) holding `week`, scored and ranked as a month is."""
        view = await programme_view(actor, programme_id)
        now = self.clock.now()
        day = week or local_day(now)
        problem = day_problem(day, local_day(now))
        if problem:
            raise ValidationFailed(problem, field="week")
        monday, sunday = week_of(day)
        period = Period.of_days(monday, sunday, now)
        data = await evaluation.compute(programme_id, period)
        shown = await evaluation.visible_subjects(view, data["subjects"])
        import msgspec

        return s.WeeklyOut(
            programme_id=programme_id,
            programme_name=str(view.programme["name"]),
            monday=monday,
            sunday=sunday,
            as_of=period.as_of,
            indicators=msgspec.convert(data["indicators"], list[s.IndicatorInfo]),
            subjects=msgspec.convert(shown, list[s.SubjectOut]),
        )

    # Credit

    async def credit_lists(self) -> s.CreditLists:
        return await credit.lists()

    async def credit_history(self, actor: Actor, organisation_id: UUID) -> list[s.CreditMonth]:
        return await credit.history(actor, organisation_id)

    # Daily digest

    async def digest(self, actor: Actor, area_id: UUID, day: date | None = None) -> s.DigestOut:
        return await digest.for_office(actor, self.clock, area_id, day)
