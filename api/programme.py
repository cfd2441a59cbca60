"""Programme supervision over HTTP: areas, programmes and batches, where projects sit, area offices,
the monthly evaluation (finalise, correct, revisions, the records behind a figure), the weekly
ranking, credit lists, the residents' survey (results, answers, paper forms), the daily digest,
and the weekly and monthly bulletins as PDF."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from api.deps import PROVIDERS, Limit, Offset, ProgrammeDep, ReportsDep
from api.reports import PDF, _answer
from inspection.actor import Actor
from inspection.programme import schemas as s
from inspection.programme.scoring import SubjectKind
from inspection.reports.loaders.programme import load_monthly_bulletin, load_weekly_bulletin

Me = NamedDependency[Actor]
MonthQuery = Annotated[str, QueryParameter(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM (Beijing time)")]
Indicator = Annotated[str, QueryParameter(min_length=1, max_length=40, pattern=r"^[a-z_]+$")]


class AreaController(Controller):
    path = "/areas"
    dependencies = {"programme": PROVIDERS["programme"]}
    tags = ["programme"]

    @get("/", operation_id="list_areas")
    async def list_(self, actor: Me, programme: ProgrammeDep) -> list[s.AreaOut]:
        """行政区划: the whole tree (reference data, as every tablet receives it)."""
        return await programme.list_areas(actor)

    @post("/", operation_id="create_area")
    async def create(self, data: JSONBody[s.AreaCreate], actor: Me, programme: ProgrammeDep) -> s.AreaOut:
        """An area below one the actor's programme office works for (administrators: anywhere)."""
        return await programme.create_area(actor, data)


class ProgrammeController(Controller):
    path = "/programmes"
    dependencies = {"programme": PROVIDERS["programme"]}
    tags = ["programme"]

    @get("/", operation_id="list_programmes")
    async def list_(self, actor: Me, programme: ProgrammeDep) -> list[s.ProgrammeOut]:
        """The programmes of the areas the actor's offices work for."""
        return await programme.list_programmes(actor)

    @post("/", operation_id="create_programme")
    async def create(self, data: JSONBody[s.ProgrammeCreate], actor: Me, programme: ProgrammeDep) -> s.ProgrammeOut:
        """年度改造计划 of an area, by its programme office."""
        return await programme.create_programme(actor, data)

    @get("/{programme_id:str}", operation_id="get_programme")
    async def get_one(self, programme_id: FromPath[UUID], actor: Me, programme: ProgrammeDep) -> s.ProgrammeOut:
        return await programme.get_programme(actor, programme_id)

    @patch("/{programme_id:str}", operation_id="update_programme")
    async def update(
        self,
        programme_id: FromPath[UUID],
        data: JSONBody[s.ProgrammeUpdate],
        actor: Me,
        programme: ProgrammeDep,
    ) -> s.ProgrammeOut:
        return await programme.update_programme(actor, programme_id, data)

    @post("/{programme_id:str}/batches", operation_id="create_batch")
    async def create_batch(
        self,
        programme_id: FromPath[UUID],
        data: JSONBody[s.ProgrammeBatchCreate],
        actor: Me,
        programme: ProgrammeDep,
    ) -> s.BatchOut:
        return await programme.create_batch(actor, programme_id, data)

    @get("/{programme_id:str}/projects", operation_id="list_placements")
    async def placements(self, programme_id: FromPath[UUID], actor: Me, programme: ProgrammeDep) -> s.PlacementPage:
        """The programme's projects with their batch and area (a street office: its street's);
        for the programme office also the projects no programme holds yet."""
        return await programme.placements(actor, programme_id)

    @get("/{programme_id:str}/evaluation", operation_id="get_evaluation")
    async def evaluation(
        self,
        programme_id: FromPath[UUID],
        actor: Me,
        programme: ProgrammeDep,
        month: MonthQuery,
        revision: Annotated[int | None, QueryParameter(ge=1, le=1000)] = None,
        compare: FromQuery[bool] = False,
    ) -> s.EvaluationOut:
        """月考评 of a month: its current revision once finalised, else computed from the records
        now. `revision` reads an earlier one; `compare` says whether the records would now give
        other figures than the finalised ones."""
        if revision is not None:
            return await programme.revision(actor, programme_id, month, revision)
        return await programme.evaluation(actor, programme_id, month, compare)

    @post("/{programme_id:str}/evaluation/finalise", status_code=HTTP_200_OK, operation_id="finalise_evaluation")
    async def finalise(
        self,
        programme_id: FromPath[UUID],
        data: JSONBody[s.FinaliseBody],
        actor: Me,
        programme: ProgrammeDep,
        month: MonthQuery,
    ) -> s.EvaluationOut:
        """定稿: the programme office freezes a finished month's figures (revision 1)."""
        return await programme.finalise(actor, programme_id, month, data.note)

    @post("/{programme_id:str}/evaluation/revisions", status_code=HTTP_200_OK, operation_id="revise_evaluation")
    async def revise(
        self,
        programme_id: FromPath[UUID],
        data: JSONBody[s.EvaluationReviseBody],
        actor: Me,
        programme: ProgrammeDep,
        month: MonthQuery,
    ) -> s.EvaluationOut:
        """更正: a finalised month recomputed as the next revision, with the reason."""
        return await programme.revise(actor, programme_id, month, data.reason)

    @get("/{programme_id:str}/evaluation/revisions", operation_id="list_evaluation_revisions")
    async def revisions(
        self, programme_id: FromPath[UUID], actor: Me, programme: ProgrammeDep, month: MonthQuery
    ) -> list[s.RevisionOut]:
        return await programme.revisions(actor, programme_id, month)

    @get("/{programme_id:str}/evaluation/records", operation_id="evaluation_records")
    async def records(
        self,
        programme_id: FromPath[UUID],
        actor: Me,
        programme: ProgrammeDep,
        month: MonthQuery,
        kind: FromQuery[SubjectKind],
        subject_id: FromQuery[UUID],
        indicator: Indicator,
    ) -> s.DrillOut:
        """The records behind one subject's indicator in a month, latest first."""
        return await programme.drilldown(actor, programme_id, month, kind, subject_id, indicator)

    @get("/{programme_id:str}/weekly", operation_id="programme_weekly_ranking")
    async def weekly(
        self,
        programme_id: FromPath[UUID],
        actor: Me,
        programme: ProgrammeDep,
        week: FromQuery[date | None] = None,
    ) -> s.WeeklyOut:
        """周通报 figures: the week holding `week` (Monday to Sunday, Beijing time), ranked."""
        return await programme.weekly(actor, programme_id, week)


class PlacementController(Controller):
    path = "/projects"
    dependencies = {"programme": PROVIDERS["programme"]}
    tags = ["programme"]

    @put("/{project_id:str}/placement", operation_id="place_project")
    async def place(
        self,
        project_id: FromPath[UUID],
        data: JSONBody[s.PlacementIn],
        actor: Me,
        programme: ProgrammeDep,
    ) -> s.PlacementOut:
        """Put a project into a programme, batch and area (the programme office)."""
        return await programme.place_project(actor, project_id, data)


class OfficeController(Controller):
    path = "/offices"
    dependencies = {"programme": PROVIDERS["programme"]}
    tags = ["programme"]

    @get("/", operation_id="list_offices")
    async def list_(self, actor: Me, programme: ProgrammeDep) -> list[s.OfficeOut]:
        return await programme.offices(actor)

    @post("/", operation_id="appoint_office")
    async def appoint(self, data: JSONBody[s.OfficeCreate], actor: Me, programme: ProgrammeDep) -> s.OfficeOut:
        """A person works for an area: programme office (旧改办 / 住建局) or street office."""
        return await programme.appoint(actor, data)

    @delete("/{office_id:str}", status_code=HTTP_204_NO_CONTENT, operation_id="dismiss_office")
    async def dismiss(self, office_id: FromPath[UUID], actor: Me, programme: ProgrammeDep) -> None:
        await programme.dismiss(actor, office_id)


class CreditController(Controller):
    path = "/credit"
    dependencies = {"programme": PROVIDERS["programme"]}
    tags = ["programme"]

    @get("/lists", operation_id="credit_lists", opt={"public": True})
    async def lists(self, programme: ProgrammeDep) -> s.CreditLists:
        """推荐名录 and 重点关注名单 (public: names, grades and months only)."""
        return await programme.credit_lists()

    @get("/organisations/{org_id:str}", operation_id="credit_history")
    async def history(self, org_id: FromPath[UUID], actor: Me, programme: ProgrammeDep) -> list[s.CreditMonth]:
        """An organisation's grade month by month: for its own people and the area offices."""
        return await programme.credit_history(actor, org_id)


class SurveyController(Controller):
    path = "/survey"
    dependencies = {"programme": PROVIDERS["programme"]}
    tags = ["programme"]

    @get("/sites/{site_id:str}", operation_id="site_survey_results")
    async def site_results(self, site_id: FromPath[UUID], actor: Me, programme: ProgrammeDep) -> s.SurveyResults:
        """Counts, averages and shares of a site's answers (what its public notice page shows)."""
        return await programme.survey.site_results(site_id)

    @get("/sites/{site_id:str}/answers", operation_id="site_survey_answers")
    async def answers(
        self,
        site_id: FromPath[UUID],
        actor: Me,
        programme: ProgrammeDep,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> s.SurveyAnswerPage:
        """The households' answers, comments included: the area offices and the project's office side."""
        return await programme.survey.answers(actor, site_id, limit, offset)

    @post("/sites/{site_id:str}/paper", status_code=HTTP_200_OK, operation_id="enter_paper_survey")
    async def paper(
        self,
        site_id: FromPath[UUID],
        data: JSONBody[s.PaperSurveyIn],
        actor: Me,
        programme: ProgrammeDep,
    ) -> s.SurveyReceipt:
        """A paper form, entered by the street or community office of the site's area."""
        return await programme.survey.enter_paper(actor, site_id, data)

    @get("/projects/{project_id:str}", operation_id="project_survey_results")
    async def project_results(self, project_id: FromPath[UUID], actor: Me, programme: ProgrammeDep) -> s.SurveyResults:
        return await programme.survey.project_results(actor, project_id)

    @get("/organisations/{org_id:str}", operation_id="contractor_survey_results")
    async def contractor_results(self, org_id: FromPath[UUID], actor: Me, programme: ProgrammeDep) -> s.SurveyResults:
        return await programme.survey.contractor_results(actor, org_id)


class DigestController(Controller):
    path = "/digest"
    dependencies = {"programme": PROVIDERS["programme"]}
    tags = ["programme"]

    @get("/", operation_id="daily_digest")
    async def digest(
        self,
        actor: Me,
        programme: ProgrammeDep,
        area_id: FromQuery[UUID],
        day: FromQuery[date | None] = None,
    ) -> s.DigestOut:
        """日督导 of an area the actor works for: a day's figures (default: yesterday)."""
        return await programme.digest(actor, area_id, day)


class BulletinController(Controller):
    path = "/reports/programmes"
    dependencies = {"programme": PROVIDERS["programme"], "reports": PROVIDERS["reports"]}
    tags = ["reports"]

    @get("/{programme_id:str}/bulletin.pdf", operation_id="programme_weekly_bulletin_pdf", media_type=PDF)
    async def weekly(
        self,
        request: Request[Any, Any, Any],
        programme_id: FromPath[UUID],
        actor: Me,
        reports: ReportsDep,
        programme: ProgrammeDep,
        week: FromQuery[date | None] = None,
    ) -> Response[Any]:
        """老旧小区改造工作周通报: the week ranked, the best and the worst named."""
        data = await load_weekly_bulletin(programme, actor, programme_id, week)
        return await _answer(request, actor, reports, reports.prepare(data))

    @get("/{programme_id:str}/evaluation.pdf", operation_id="programme_monthly_bulletin_pdf", media_type=PDF)
    async def monthly(
        self,
        request: Request[Any, Any, Any],
        programme_id: FromPath[UUID],
        actor: Me,
        reports: ReportsDep,
        programme: ProgrammeDep,
        month: MonthQuery,
    ) -> Response[Any]:
        """月度考评通报 of a finalised month: ranking, commendations and criticisms."""
        data = await load_monthly_bulletin(programme, actor, programme_id, month)
        return await _answer(request, actor, reports, reports.prepare(data))


CONTROLLERS = [
    AreaController,
    ProgrammeController,
    PlacementController,
    OfficeController,
    CreditController,
    SurveyController,
    DigestController,
    BulletinController,
]
