"""Organisations, people, projects, members, sites, buildings and work items over HTTP."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from api.deps import PROVIDERS, Limit, Offset, ProjectsDep
from inspection.actor import Actor
from inspection.projects import schemas as s
from inspection.projects.rules import OrgKind, ProjectStatus

Search = Annotated[str | None, QueryParameter(name="q", max_length=100, description="search text")]

Me = NamedDependency[Actor]


class OrganisationController(Controller):
    path = "/organisations"
    dependencies = {"projects": PROVIDERS["projects"]}
    tags = ["organisations"]

    @post("/", operation_id="create_organisation")
    async def create(self, data: JSONBody[s.OrganisationCreate], actor: Me, projects: ProjectsDep) -> s.OrganisationOut:
        """Register an organisation (administrators). The credit code's check character is verified."""
        return await projects.create_organisation(actor, data)

    @get("/", operation_id="list_organisations")
    async def list_(
        self,
        actor: Me,
        projects: ProjectsDep,
        kind: FromQuery[OrgKind | None] = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> s.OrganisationPage:
        return await projects.list_organisations(actor, kind, q, limit, offset)

    @get("/{org_id:str}", operation_id="get_organisation")
    async def get_one(self, org_id: FromPath[UUID], actor: Me, projects: ProjectsDep) -> s.OrganisationOut:
        return await projects.get_organisation(actor, org_id)

    @patch("/{org_id:str}", operation_id="update_organisation")
    async def update(
        self,
        org_id: FromPath[UUID],
        data: JSONBody[s.OrganisationUpdate],
        actor: Me,
        projects: ProjectsDep,
    ) -> s.OrganisationOut:
        return await projects.update_organisation(actor, org_id, data)


class UserController(Controller):
    path = "/"
    dependencies = {"projects": PROVIDERS["projects"]}
    tags = ["people"]

    @get("/me", operation_id="me")
    async def me(self, actor: Me, projects: ProjectsDep) -> s.MeOut:
        """The signed-in user and their roles in each project."""
        return await projects.me(actor)

    @post("/users", operation_id="create_user")
    async def create(self, data: JSONBody[s.UserCreate], actor: Me, projects: ProjectsDep) -> s.UserOut:
        """Create an account (administrators)."""
        return await projects.create_user(actor, data)

    @get("/users/{user_id:str}", operation_id="get_user")
    async def get_one(self, user_id: FromPath[UUID], actor: Me, projects: ProjectsDep) -> s.UserOut:
        return await projects.get_user(actor, user_id)


class ProjectController(Controller):
    path = "/projects"
    dependencies = {"projects": PROVIDERS["projects"]}
    tags = ["projects"]

    @post("/", operation_id="create_project")
    async def create(self, data: JSONBody[s.ProjectCreate], actor: Me, projects: ProjectsDep) -> s.ProjectOut:
        """Create a renovation project (owner organisations' staff and administrators)."""
        return await projects.create_project(actor, data)

    @get("/", operation_id="list_projects")
    async def list_(
        self,
        actor: Me,
        projects: ProjectsDep,
        q: Search = None,
        status: FromQuery[ProjectStatus | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> s.ProjectPage:
        """The projects the signed-in user is a member of."""
        return await projects.list_projects(actor, q, status.value if status else None, limit, offset)

    @get("/{project_id:str}", operation_id="get_project")
    async def get_one(self, project_id: FromPath[UUID], actor: Me, projects: ProjectsDep) -> s.ProjectOut:
        return await projects.get_project(actor, project_id)

    @patch("/{project_id:str}", operation_id="update_project")
    async def update(
        self,
        project_id: FromPath[UUID],
        data: JSONBody[s.ProjectUpdate],
        actor: Me,
        projects: ProjectsDep,
    ) -> s.ProjectOut:
        return await projects.update_project(actor, project_id, data)

    @get("/{project_id:str}/members", operation_id="list_members")
    async def members(
        self,
        project_id: FromPath[UUID],
        actor: Me,
        projects: ProjectsDep,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> s.MembershipPage:
        return await projects.list_members(actor, project_id, limit, offset)

    @post("/{project_id:str}/members", operation_id="add_member")
    async def add_member(
        self,
        project_id: FromPath[UUID],
        data: JSONBody[s.MembershipCreate],
        actor: Me,
        projects: ProjectsDep,
    ) -> s.MembershipOut:
        return await projects.add_member(actor, project_id, data)

    @delete(
        "/{project_id:str}/members/{membership_id:str}", status_code=HTTP_204_NO_CONTENT, operation_id="remove_member"
    )
    async def remove_member(
        self,
        project_id: FromPath[UUID],
        membership_id: FromPath[UUID],
        actor: Me,
        projects: ProjectsDep,
    ) -> None:
        await projects.remove_member(actor, project_id, membership_id)

    @post("/{project_id:str}/sites", operation_id="create_site")
    async def create_site(
        self,
        project_id: FromPath[UUID],
        data: JSONBody[s.SiteCreate],
        actor: Me,
        projects: ProjectsDep,
    ) -> s.SiteOut:
        return await projects.create_site(actor, project_id, data)

    @get("/{project_id:str}/sites", operation_id="list_sites")
    async def sites(
        self,
        project_id: FromPath[UUID],
        actor: Me,
        projects: ProjectsDep,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> s.SitePage:
        return await projects.list_sites(actor, project_id, limit, offset)

    @post("/{project_id:str}/work-items", operation_id="create_work_item")
    async def create_work_item(
        self,
        project_id: FromPath[UUID],
        data: JSONBody[s.WorkItemCreate],
        actor: Me,
        projects: ProjectsDep,
    ) -> s.WorkItemOut:
        return await projects.create_work_item(actor, project_id, data)

    @get("/{project_id:str}/work-items", operation_id="list_work_items")
    async def work_items(
        self,
        project_id: FromPath[UUID],
        actor: Me,
        projects: ProjectsDep,
        site_id: FromQuery[UUID | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> s.WorkItemPage:
        """Work items of a project; a contractor sees only its own organisation's."""
        return await projects.list_work_items(actor, project_id, site_id, limit, offset)


class SiteController(Controller):
    path = "/"
    dependencies = {"projects": PROVIDERS["projects"]}
    tags = ["sites"]

    @get("/sites/{site_id:str}", operation_id="get_site")
    async def get_site(self, site_id: FromPath[UUID], actor: Me, projects: ProjectsDep) -> s.SiteOut:
        return await projects.get_site(actor, site_id)

    @patch("/sites/{site_id:str}", operation_id="update_site")
    async def update_site(
        self,
        site_id: FromPath[UUID],
        data: JSONBody[s.SiteUpdate],
        actor: Me,
        projects: ProjectsDep,
    ) -> s.SiteOut:
        return await projects.update_site(actor, site_id, data)

    @post("/sites/{site_id:str}/buildings", operation_id="create_building")
    async def create_building(
        self,
        site_id: FromPath[UUID],
        data: JSONBody[s.BuildingCreate],
        actor: Me,
        projects: ProjectsDep,
    ) -> s.BuildingOut:
        return await projects.create_building(actor, site_id, data)

    @get("/sites/{site_id:str}/buildings", operation_id="list_buildings")
    async def buildings(
        self,
        site_id: FromPath[UUID],
        actor: Me,
        projects: ProjectsDep,
        limit: Limit = 200,
        offset: Offset = 0,
    ) -> s.BuildingPage:
        return await projects.list_buildings(actor, site_id, limit, offset)

    @get("/buildings/{building_id:str}", operation_id="get_building")
    async def get_building(self, building_id: FromPath[UUID], actor: Me, projects: ProjectsDep) -> s.BuildingOut:
        return await projects.get_building(actor, building_id)

    @patch("/buildings/{building_id:str}", operation_id="update_building")
    async def update_building(
        self,
        building_id: FromPath[UUID],
        data: JSONBody[s.BuildingUpdate],
        actor: Me,
        projects: ProjectsDep,
    ) -> s.BuildingOut:
        return await projects.update_building(actor, building_id, data)

    @get("/work-items/{work_item_id:str}", operation_id="get_work_item")
    async def get_work_item(self, work_item_id: FromPath[UUID], actor: Me, projects: ProjectsDep) -> s.WorkItemOut:
        return await projects.get_work_item(actor, work_item_id)

    @patch("/work-items/{work_item_id:str}", operation_id="update_work_item")
    async def update_work_item(
        self,
        work_item_id: FromPath[UUID],
        data: JSONBody[s.WorkItemUpdate],
        actor: Me,
        projects: ProjectsDep,
    ) -> s.WorkItemOut:
        return await projects.update_work_item(actor, work_item_id, data)
