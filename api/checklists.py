"""Checklist templates, supervision plans and progress, inspections and their summary over HTTP."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from api.deps import PROVIDERS, ChecklistsDep, Limit, Offset, SupervisionDep
from inspection.actor import Actor
from inspection.checklists import schemas as s
from inspection.deadlines import Moment

Kind = Literal["safety", "quality", "passfail"]

Me = NamedDependency[Actor]


class TemplateController(Controller):
    path = "/checklists"
    dependencies = {"checklists": PROVIDERS["checklists"], "supervision": PROVIDERS["supervision"]}
    tags = ["checklists"]

    @get("/templates", operation_id="list_checklist_templates")
    async def list_templates(
        self,
        actor: Me,
        checklists: ChecklistsDep,
        kind: FromQuery[Kind | None] = None,
        all_versions: FromQuery[bool] = False,
    ) -> list[s.TemplateOut]:
        """Imported templates: the latest version of each code, or every version."""
        return await checklists.list_templates(actor, kind, all_versions)

    @get("/templates/{template_id:str}", operation_id="get_checklist_template")
    async def get_template(self, template_id: FromPath[UUID], actor: Me, checklists: ChecklistsDep) -> s.TemplateDetail:
        """One stored version with its sections, items, points, tolerances and conditions."""
        return await checklists.get_template(actor, template_id)

    @get("/plans", operation_id="list_supervision_plans")
    async def list_plans(self, actor: Me, supervision: SupervisionDep) -> list[dict[str, Any]]:
        """Supervision plans per work type: hold, witness and side-station points in order."""
        return await supervision.list_plans()

    @get("/plans/{code:str}", operation_id="get_supervision_plan")
    async def get_plan(self, code: FromPath[str], actor: Me, supervision: SupervisionDep) -> dict[str, Any]:
        """A plan by its code or its work type."""
        return await supervision.get_plan(code)


class SupervisionController(Controller):
    path = "/supervision"
    dependencies = {"supervision": PROVIDERS["supervision"]}
    tags = ["supervision"]

    @get("/work-items/{work_item_id:str}", operation_id="work_item_progress")
    async def progress(self, work_item_id: FromPath[UUID], actor: Me, supervision: SupervisionDep) -> s.ProgressOut:
        """A work item's points with their states, its current point and the hold points waiting."""
        return await supervision.progress(actor, work_item_id)

    @post(
        "/work-items/{work_item_id:str}/points/{point_code:str}/start",
        status_code=HTTP_200_OK,
        operation_id="start_supervision_step",
    )
    async def start(
        self,
        work_item_id: FromPath[UUID],
        point_code: FromPath[str],
        data: JSONBody[s.StartBody],
        actor: Me,
        supervision: SupervisionDep,
    ) -> s.ProgressOut:
        """Record that the step at a point starts; 409 while an earlier hold point has not passed
        (or, by setting, recorded as a violation with a draft order)."""
        return await supervision.start_point(actor, work_item_id, point_code, data)

    @get("/projects/{project_id:str}", operation_id="project_supervision_points")
    async def project(self, project_id: FromPath[UUID], actor: Me, supervision: SupervisionDep) -> s.ProjectPoints:
        """Every work item's current point and every hold point still waiting."""
        return await supervision.project_points(actor, project_id)


class InspectionController(Controller):
    path = "/inspections"
    dependencies = {"checklists": PROVIDERS["checklists"]}
    tags = ["inspections"]

    @post("/", operation_id="create_inspection")
    async def create(
        self, data: JSONBody[s.InspectionCreate], actor: Me, checklists: ChecklistsDep
    ) -> s.InspectionDetail:
        """Start a draft (the id may be made by the tablet) with a template version or code."""
        return await checklists.create(actor, data)

    @get("/", operation_id="list_inspections")
    async def list_(
        self,
        actor: Me,
        checklists: ChecklistsDep,
        project_id: FromQuery[UUID | None] = None,
        site_id: FromQuery[UUID | None] = None,
        work_item_id: FromQuery[UUID | None] = None,
        inspector_id: FromQuery[UUID | None] = None,
        status: FromQuery[Literal["draft", "submitted", "superseded"] | None] = None,
        kind: FromQuery[Kind | None] = None,
        template_code: FromQuery[str | None] = None,
        grade: FromQuery[Literal["优良", "合格", "不合格"] | None] = None,
        submitted_from: FromQuery[Moment | None] = None,
        submitted_to: FromQuery[Moment | None] = None,
        has_open_orders: FromQuery[bool | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> s.InspectionPage:
        """Inspections the signed-in user may see, newest first."""
        return await checklists.list(
            actor,
            project_id=project_id,
            site_id=site_id,
            work_item_id=work_item_id,
            inspector_id=inspector_id,
            status=status,
            kind=kind,
            template_code=template_code,
            grade=grade,
            submitted_from=submitted_from,
            submitted_to=submitted_to,
            has_open_orders=has_open_orders,
            limit=limit,
            offset=offset,
        )

    @get("/summary", operation_id="inspection_summary")
    async def summary(self, project_id: FromQuery[UUID], actor: Me, checklists: ChecklistsDep) -> s.ProjectSummary:
        """Counts, score trend, grades, failures by hazard tag and each site's JGJ 59 summary."""
        return await checklists.project_summary(actor, project_id)

    @get("/{inspection_id:str}", operation_id="get_inspection")
    async def get_one(self, inspection_id: FromPath[UUID], actor: Me, checklists: ChecklistsDep) -> s.InspectionDetail:
        """One inspection with its answers, photos, score and the orders it opened."""
        return await checklists.get(actor, inspection_id)

    @put("/{inspection_id:str}/answers", operation_id="set_inspection_answers")
    async def answer(
        self,
        inspection_id: FromPath[UUID],
        data: JSONBody[s.AnswersBody],
        actor: Me,
        checklists: ChecklistsDep,
    ) -> s.InspectionDetail:
        """Set answers of a draft (all checked against the template version first; nothing partial)."""
        return await checklists.set_answers(actor, inspection_id, data.answers)

    @post("/{inspection_id:str}/submit", status_code=HTTP_200_OK, operation_id="submit_inspection")
    async def submit(
        self,
        inspection_id: FromPath[UUID],
        data: JSONBody[s.SubmitBody],
        actor: Me,
        checklists: ChecklistsDep,
    ) -> s.InspectionDetail:
        """Sign and submit: the server scores it, it becomes immutable, failures open draft orders."""
        return await checklists.submit(actor, inspection_id, data)

    @post("/{inspection_id:str}/revise", operation_id="revise_inspection")
    async def revise(
        self,
        inspection_id: FromPath[UUID],
        data: JSONBody[s.ReviseBody],
        actor: Me,
        checklists: ChecklistsDep,
    ) -> s.InspectionDetail:
        """Start a corrected revision (a new draft with the answers copied and the reason)."""
        return await checklists.revise(actor, inspection_id, data)
