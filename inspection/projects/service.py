"""Use cases for organisations, people and project structure. One transaction each; the acting
user's rights are checked here, so the API, the CLI and sync all obey the same rules."""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from piccolo.table import Table

from inspection import db
from inspection.actor import Actor
from inspection.clock import Clock
from inspection.errors import Conflict, Forbidden, NotFound, ValidationFailed
from inspection.messages import t
from inspection.projects import schemas as s
from inspection.projects.access import ProjectAccess, project_access, require_manage, visible_project_ids
from inspection.projects.auth import hash_password, password_problem
from inspection.projects.rules import WORK_PARTY_KINDS, OrgKind, Role, credit_code_problem, role_problem
from inspection.projects.tables import Building, Membership, Organisation, Project, Site, User, WorkItem
from inspection.records import (
    REFERENCE_BUCKET,
    context_buckets,
    contractor_bucket,
    new_id,
    project_bucket,
    read_row,
    retry_races,
    write,
)
from inspection.settings import Settings

OutT = TypeVar("OutT", bound=msgspec.Struct)

# Foreign-key columns are named after the thing they point to; the API calls them *_id.
_FK_OUT = {
    "project": "project_id",
    "site": "site_id",
    "building": "building_id",
    "contractor": "contractor_id",
    "organisation": "organisation_id",
    "owner_organisation": "owner_organisation_id",
    "user": "user_id",
}
_FK_IN = {v: k for k, v in _FK_OUT.items()}


def to_out(row: dict[str, Any], out: type[OutT], **extra: Any) -> OutT:
    data = {_FK_OUT.get(k, k): v for k, v in row.items()}
    data.update(extra)
    return s.convert_row(data, out)


def to_columns(data: msgspec.Struct) -> dict[str, Any]:
    """Set fields of an input Struct, with *_id names mapped back to column names."""
    values = {}
    for name in data.__struct_fields__:
        value = getattr(data, name)
        if value is msgspec.UNSET or name == "version":
            continue
        if hasattr(value, "value") and not isinstance(value, (int, float, str)):
            value = value.value
        values[_FK_IN.get(name, name)] = value
    return values


def _clean_enum(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in values.items()}


async def _page(query: Any, count_query: Any, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    rows = await query.limit(limit).offset(offset)
    total = await count_query
    return rows, total


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= 500:
        raise ValidationFailed(t("projects.limit_must_from_1_500"), field="limit")
    if offset < 0:
        raise ValidationFailed(t("projects.offset_must_not_negative"), field="offset")


async def _unique_id(table: type[Table], row_id: UUID | None) -> None:
    if row_id is not None and await table.exists().where(table._meta.primary_key == row_id):
        raise Conflict(t("projects.record_id_already_exists", row_id=row_id), field="id")


@retry_races
class ProjectsService:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    # Organisations: reference data every signed-in user may read; only admins change it.

    async def create_organisation(self, actor: Actor, data: s.OrganisationCreate) -> s.OrganisationOut:
        if not actor.is_admin:
            raise Forbidden(t("projects.only_administrator_may_register_organisations"))
        problem = credit_code_problem(data.credit_code)
        if problem:
            raise ValidationFailed(t("projects.credit_code", problem=problem), field="credit_code")
        async with write(actor, self.clock) as w:
            await _unique_id(Organisation, data.id)
            if await Organisation.exists().where(Organisation.credit_code == data.credit_code):
                raise Conflict(t("projects.organisation_credit_code_already_registered"), field="credit_code")
            row = await w.insert(Organisation, _clean_enum(to_columns(data)), [REFERENCE_BUCKET])
        return to_out(row, s.OrganisationOut)

    async def list_organisations(
        self, actor: Actor, kind: OrgKind | None, q: str | None, limit: int, offset: int
    ) -> s.OrganisationPage:
        _check_page(limit, offset)
        where: Any = Organisation.deleted.eq(False)
        if kind:
            where &= Organisation.kind == kind.value
        if q:
            where &= Organisation.name.ilike(f"%{q}%")
        rows, total = await _page(
            Organisation.select().where(where).order_by(Organisation.name),
            Organisation.count().where(where),
            limit,
            offset,
        )
        return s.OrganisationPage(
            items=[to_out(r, s.OrganisationOut) for r in rows], total=total, limit=limit, offset=offset
        )

    async def get_organisation(self, actor: Actor, org_id: UUID) -> s.OrganisationOut:
        row = await Organisation.select().where(Organisation.id == org_id).first()
        if row is None:
            raise NotFound(t("projects.organisation_does_not_exist", org_id=org_id))
        return to_out(row, s.OrganisationOut)

    async def update_organisation(self, actor: Actor, org_id: UUID, data: s.OrganisationUpdate) -> s.OrganisationOut:
        if not actor.is_admin:
            raise Forbidden(t("projects.only_administrator_may_change_organisations"))
        async with write(actor, self.clock) as w:
            row = await w.update(
                Organisation, org_id, to_columns(data), [REFERENCE_BUCKET], expected_version=data.version
            )
        return to_out(row, s.OrganisationOut)

    # People

    async def create_user(self, actor: Actor, data: s.UserCreate) -> s.UserOut:
        if not actor.is_admin:
            raise Forbidden(t("projects.only_administrator_may_create_accounts"))
        problem = password_problem(data.password, self.settings)
        if problem:
            raise ValidationFailed(t("projects.password", problem=problem), field="password")
        password_hash = hash_password(data.password, self.settings)
        async with write(actor, self.clock) as w:
            await _unique_id(User, data.id)
            if await User.exists().where(User.username == data.username):
                raise Conflict(t("projects.user_name_taken", username=data.username), field="username")
            if data.organisation_id and not await Organisation.exists().where(
                (Organisation.id == data.organisation_id) & Organisation.deleted.eq(False)
            ):
                raise ValidationFailed(t("projects.no_such_organisation"), field="organisation_id")
            values = to_columns(data)
            values.pop("password")
            values["password_hash"] = password_hash
            # the hash never goes into the audit log
            # people are not synced as reference data: tablets learn names through memberships
            await w.insert(User, values, [], audit_values=False)
            row_id = values.get("id")
        return await self.get_user(actor, row_id) if row_id else await self.get_user_by_name(data.username)

    async def get_user_by_name(self, username: str) -> s.UserOut:
        row = await User.select(User.id).where(User.username == username).first()
        if row is None:
            raise NotFound(t("projects.user_does_not_exist", username=username))
        return await self._user_out(row["id"])

    async def _user_out(self, user_id: UUID) -> s.UserOut:
        row = (
            await User.select(
                User.id,
                User.username,
                User.display_name,
                User.organisation,
                User.organisation.name.as_alias("organisation_name"),
                User.organisation.kind.as_alias("organisation_kind"),
                User.phone,
                User.email,
                User.is_admin,
                User.active,
            )
            .where(User.id == user_id)
            .first()
        )
        if row is None:
            raise NotFound(t("projects.user_does_not_exist_2", user_id=user_id))
        return to_out(row, s.UserOut)

    async def get_user(self, actor: Actor, user_id: UUID | None) -> s.UserOut:
        if user_id is None:
            raise NotFound(t("projects.no_such_user"))
        if not actor.is_admin and user_id != actor.user_id:
            raise NotFound(t("projects.user_does_not_exist_not_visible", user_id=user_id))
        return await self._user_out(user_id)

    async def me(self, actor: Actor) -> s.MeOut:
        user = await self._user_out(actor.user_id) if actor.user_id else None
        if user is None:
            raise NotFound(t("projects.no_such_user"))
        rows = await self._membership_query().where((Membership.user == actor.user_id) & Membership.deleted.eq(False))
        return s.MeOut(user=user, memberships=[to_out(r, s.MembershipOut) for r in rows])

    # Projects

    async def create_project(self, actor: Actor, data: s.ProjectCreate) -> s.ProjectOut:
        if not (actor.is_admin or actor.organisation_kind == OrgKind.owner.value):
            raise Forbidden(t("projects.only_owner_organisation_s_staff_administrator"))
        owner_id = data.owner_organisation_id
        if owner_id is None and actor.organisation_kind == OrgKind.owner.value:
            owner_id = actor.organisation_id
        async with write(actor, self.clock) as w:
            await _unique_id(Project, data.id)
            if await Project.exists().where(Project.code == data.code):
                raise Conflict(t("projects.project_code_taken", code=data.code), field="code")
            if owner_id is not None:
                await self._require_org(owner_id, OrgKind.owner, "owner_organisation_id")
            values = _clean_enum(to_columns(data))
            values["owner_organisation"] = owner_id
            values["id"] = project_id = data.id or new_id()
            row = await w.insert(Project, values, context_buckets(project_id))
            bucket = project_bucket(project_id)
            roles: list[Role] = []
            if not actor.is_admin and actor.user_id is not None:
                await w.insert(
                    Membership,
                    {"project": project_id, "user": actor.user_id, "role": Role.owner.value},
                    [bucket],
                )
                roles = [Role.owner]
        return to_out(row, s.ProjectOut, my_roles=roles)

    async def list_projects(
        self, actor: Actor, q: str | None, status: str | None, limit: int, offset: int
    ) -> s.ProjectPage:
        _check_page(limit, offset)
        ids = await visible_project_ids(actor)
        where: Any = Project.deleted.eq(False)
        if ids is not None:
            if not ids:
                return s.ProjectPage(items=[], total=0, limit=limit, offset=offset)
            where &= Project.id.is_in(ids)
        if q:
            where &= Project.name.ilike(f"%{q}%") | Project.code.ilike(f"%{q}%")
        if status:
            where &= Project.status == status
        rows, total = await _page(
            Project.select().where(where).order_by(Project.code), Project.count().where(where), limit, offset
        )
        roles = await self._my_roles(actor, [r["id"] for r in rows])
        return s.ProjectPage(
            items=[to_out(r, s.ProjectOut, my_roles=sorted(roles.get(r["id"], []))) for r in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    async def _my_roles(self, actor: Actor, project_ids: list[UUID]) -> dict[UUID, list[str]]:
        if not project_ids or actor.user_id is None:
            return {}
        rows = await Membership.select(Membership.project, Membership.role).where(
            (Membership.user == actor.user_id) & Membership.project.is_in(project_ids) & Membership.deleted.eq(False)
        )
        out: dict[UUID, list[str]] = {}
        for r in rows:
            out.setdefault(r["project"], []).append(r["role"])
        return out

    async def get_project(self, actor: Actor, project_id: UUID) -> s.ProjectOut:
        access = await project_access(actor, project_id)
        row = await Project.select().where(Project.id == project_id).first()
        assert row is not None
        return to_out(row, s.ProjectOut, my_roles=sorted(access.roles))

    async def update_project(self, actor: Actor, project_id: UUID, data: s.ProjectUpdate) -> s.ProjectOut:
        async with write(actor, self.clock) as w:
            access = await require_manage(actor, project_id)
            values = _clean_enum(to_columns(data))
            if values.get("owner_organisation"):
                await self._require_org(values["owner_organisation"], OrgKind.owner, "owner_organisation_id")
            row = await w.update(
                Project, project_id, values, context_buckets(project_id), expected_version=data.version
            )
        return to_out(row, s.ProjectOut, my_roles=sorted(access.roles))

    # Members

    @staticmethod
    def _membership_buckets(project_id: UUID, org_id: UUID | None, org_kind: str | None) -> list[str]:
        """A contractor's own colleagues are in its bucket too; other members only in the project's."""
        buckets = [project_bucket(project_id)]
        if org_id is not None and org_kind in {k.value for k in WORK_PARTY_KINDS}:
            buckets.append(contractor_bucket(project_id, org_id))
        return buckets

    def _membership_query(self) -> Any:
        return Membership.select(
            *Membership.all_columns(),
            Membership.user.display_name.as_alias("display_name"),
            Membership.user.organisation.as_alias("organisation_id"),
            Membership.user.organisation.name.as_alias("organisation_name"),  # type: ignore[union-attr]
        )

    async def list_members(self, actor: Actor, project_id: UUID, limit: int, offset: int) -> s.MembershipPage:
        _check_page(limit, offset)
        access = await project_access(actor, project_id)
        where: Any = (Membership.project == project_id) & Membership.deleted.eq(False)
        if access.contractor_only:
            where &= Membership.user.organisation == access.organisation_id
        rows, total = await _page(
            self._membership_query().where(where).order_by(Membership.role),
            Membership.count().where(where),
            limit,
            offset,
        )
        return s.MembershipPage(
            items=[to_out(r, s.MembershipOut) for r in rows], total=total, limit=limit, offset=offset
        )

    async def add_member(self, actor: Actor, project_id: UUID, data: s.MembershipCreate) -> s.MembershipOut:
        async with write(actor, self.clock) as w:
            await require_manage(actor, project_id)
            await _unique_id(Membership, data.id)
            user = (
                await User.select(User.id, User.organisation, User.organisation.kind)
                .where((User.id == data.user_id) & User.deleted.eq(False))
                .first()
            )
            if user is None:
                raise ValidationFailed(t("projects.no_such_user"), field="user_id")
            kind = user["organisation.kind"]
            problem = role_problem(data.role, OrgKind(kind) if kind else None)
            if problem:
                raise ValidationFailed(problem, field="role")
            existing = (
                await Membership.select(Membership.id, Membership.deleted)
                .where(
                    (Membership.project == project_id)
                    & (Membership.user == data.user_id)
                    & (Membership.role == data.role.value)
                )
                .first()
            )
            buckets = self._membership_buckets(project_id, user["organisation"], kind)
            if existing and not existing["deleted"]:
                raise Conflict(t("projects.person_already_has_role_project"), field="role")
            if existing:
                await w.update(Membership, existing["id"], {"deleted": False}, buckets, action="restore")
                membership_id = existing["id"]
            else:
                values = {"project": project_id, "user": data.user_id, "role": data.role.value}
                if data.id:
                    values["id"] = data.id
                membership_id = (await w.insert(Membership, values, buckets))["id"]
        row = await self._membership_query().where(Membership.id == membership_id).first()
        return to_out(row, s.MembershipOut)

    async def remove_member(self, actor: Actor, project_id: UUID, membership_id: UUID) -> None:
        async with write(actor, self.clock) as w:
            await require_manage(actor, project_id)
            row = (
                await Membership.select(
                    *Membership.all_columns(),
                    Membership.user.organisation.as_alias("organisation_id"),
                    Membership.user.organisation.kind.as_alias("organisation_kind"),  # type: ignore[union-attr]
                )
                .where(
                    (Membership.id == membership_id) & (Membership.project == project_id) & Membership.deleted.eq(False)
                )
                .first()
            )
            if row is None:
                raise NotFound(t("projects.membership_does_not_exist_project", membership_id=membership_id))
            buckets = self._membership_buckets(project_id, row["organisation_id"], row["organisation_kind"])
            await w.tombstone(Membership, membership_id, buckets)

    # Sites, buildings, work items

    async def _require_org(self, org_id: UUID, kind: OrgKind | frozenset[OrgKind], field: str) -> None:
        kinds = frozenset({kind}) if isinstance(kind, OrgKind) else kind
        row = (
            await Organisation.select(Organisation.kind)
            .where((Organisation.id == org_id) & Organisation.deleted.eq(False))
            .first()
        )
        if row is None:
            raise ValidationFailed(t("projects.no_such_organisation"), field=field)
        if row["kind"] not in {k.value for k in kinds}:
            wanted = " or ".join(sorted(k.value for k in kinds))
            raise ValidationFailed(t("projects.organisation_not", kind=row["kind"], wanted=wanted), field=field)

    async def _load_in_project(
        self, actor: Actor, table: type[Table], row_id: UUID, *, deleted_too: bool = False
    ) -> tuple[dict[str, Any], ProjectAccess]:
        row = await read_row(table, row_id)
        if row is None or (row["deleted"] and not deleted_too):
            raise NotFound(t("projects.does_not_exist", value=table._meta.tablename.replace("_", " "), row_id=row_id))
        try:
            access = await project_access(actor, row["project"])
        except NotFound:
            raise NotFound(
                t("projects.does_not_exist", value=table._meta.tablename.replace("_", " "), row_id=row_id)
            ) from None
        return row, access

    async def create_site(self, actor: Actor, project_id: UUID, data: s.SiteCreate) -> s.SiteOut:
        async with write(actor, self.clock) as w:
            await require_manage(actor, project_id)
            await _unique_id(Site, data.id)
            values = {**to_columns(data), "project": project_id}
            row = await w.insert(Site, values, context_buckets(project_id))
        return to_out(row, s.SiteOut)

    async def list_sites(self, actor: Actor, project_id: UUID, limit: int, offset: int) -> s.SitePage:
        _check_page(limit, offset)
        await project_access(actor, project_id)
        where: Any = (Site.project == project_id) & Site.deleted.eq(False)
        rows, total = await _page(
            Site.select().where(where).order_by(Site.name), Site.count().where(where), limit, offset
        )
        return s.SitePage(items=[to_out(r, s.SiteOut) for r in rows], total=total, limit=limit, offset=offset)

    async def get_site(self, actor: Actor, site_id: UUID) -> s.SiteOut:
        row, _ = await self._load_in_project(actor, Site, site_id)
        return to_out(row, s.SiteOut)

    async def site_for_edit(self, actor: Actor, site_id: UUID) -> s.SiteOut:
        """The site as an offline edit merges against it (a deleted one too, so the edit can be
        recorded as lost), once the actor may change it."""
        row, access = await self._load_in_project(actor, Site, site_id, deleted_too=True)
        if not access.can_manage:
            raise Forbidden(t("projects.only_project_s_owner_supervisor_may_2"))
        return to_out(row, s.SiteOut)

    async def update_site(self, actor: Actor, site_id: UUID, data: s.SiteUpdate) -> s.SiteOut:
        async with write(actor, self.clock) as w:
            row, access = await self._load_in_project(actor, Site, site_id)
            if not access.can_manage:
                raise Forbidden(t("projects.only_project_s_owner_supervisor_may_2"))
            row = await w.update(
                Site,
                site_id,
                to_columns(data),
                context_buckets(row["project"]),
                expected_version=data.version,
                current=row,
            )
        return to_out(row, s.SiteOut)

    async def create_building(self, actor: Actor, site_id: UUID, data: s.BuildingCreate) -> s.BuildingOut:
        async with write(actor, self.clock) as w:
            site, access = await self._load_in_project(actor, Site, site_id)
            if not access.can_manage:
                raise Forbidden(t("projects.only_project_s_owner_supervisor_may_5"))
            await _unique_id(Building, data.id)
            values = {**to_columns(data), "project": site["project"], "site": site_id}
            row = await w.insert(Building, values, context_buckets(site["project"]))
        return to_out(row, s.BuildingOut)

    async def list_buildings(self, actor: Actor, site_id: UUID, limit: int, offset: int) -> s.BuildingPage:
        _check_page(limit, offset)
        await self._load_in_project(actor, Site, site_id)
        where: Any = (Building.site == site_id) & Building.deleted.eq(False)
        rows, total = await _page(
            Building.select().where(where).order_by(Building.name), Building.count().where(where), limit, offset
        )
        return s.BuildingPage(items=[to_out(r, s.BuildingOut) for r in rows], total=total, limit=limit, offset=offset)

    async def get_building(self, actor: Actor, building_id: UUID) -> s.BuildingOut:
        row, _ = await self._load_in_project(actor, Building, building_id)
        return to_out(row, s.BuildingOut)

    async def building_for_edit(self, actor: Actor, building_id: UUID) -> s.BuildingOut:
        """The building as an offline edit merges against it (see `site_for_edit`)."""
        row, access = await self._load_in_project(actor, Building, building_id, deleted_too=True)
        if not access.can_manage:
            raise Forbidden(t("projects.only_project_s_owner_supervisor_may_3"))
        return to_out(row, s.BuildingOut)

    async def update_building(self, actor: Actor, building_id: UUID, data: s.BuildingUpdate) -> s.BuildingOut:
        async with write(actor, self.clock) as w:
            row, access = await self._load_in_project(actor, Building, building_id)
            if not access.can_manage:
                raise Forbidden(t("projects.only_project_s_owner_supervisor_may_3"))
            row = await w.update(
                Building,
                building_id,
                to_columns(data),
                context_buckets(row["project"]),
                expected_version=data.version,
                current=row,
            )
        return to_out(row, s.BuildingOut)

    def _work_item_buckets(self, row: dict[str, Any]) -> list[str]:
        buckets = [project_bucket(row["project"])]
        if row.get("contractor"):
            buckets.append(contractor_bucket(row["project"], row["contractor"]))
        return buckets

    async def create_work_item(self, actor: Actor, project_id: UUID, data: s.WorkItemCreate) -> s.WorkItemOut:
        async with write(actor, self.clock) as w:
            await require_manage(actor, project_id)
            await _unique_id(WorkItem, data.id)
            site = await Site.select(Site.project).where((Site.id == data.site_id) & Site.deleted.eq(False)).first()
            if site is None or site["project"] != project_id:
                raise ValidationFailed(t("projects.site_not_part_project"), field="site_id")
            if data.building_id is not None:
                building = await Building.select(Building.site).where(Building.id == data.building_id).first()
                if building is None or building["site"] != data.site_id:
                    raise ValidationFailed(t("projects.building_not_site"), field="building_id")
            if data.contractor_id is not None:
                await self._require_org(data.contractor_id, WORK_PARTY_KINDS, "contractor_id")
            if data.planned_start and data.planned_end and data.planned_end < data.planned_start:
                raise ValidationFailed(t("projects.planned_end_before_planned_start"), field="planned_end")
            values = {**_clean_enum(to_columns(data)), "project": project_id}
            row = await w.insert(WorkItem, values, self._work_item_buckets(values))
        return to_out(row, s.WorkItemOut)

    async def list_work_items(
        self, actor: Actor, project_id: UUID, site_id: UUID | None, limit: int, offset: int
    ) -> s.WorkItemPage:
        _check_page(limit, offset)
        access = await project_access(actor, project_id)
        where: Any = (WorkItem.project == project_id) & WorkItem.deleted.eq(False)
        if site_id:
            where &= WorkItem.site == site_id
        if access.contractor_only:
            where &= WorkItem.contractor == access.organisation_id
        rows, total = await _page(
            WorkItem.select().where(where).order_by(WorkItem.name), WorkItem.count().where(where), limit, offset
        )
        return s.WorkItemPage(items=[to_out(r, s.WorkItemOut) for r in rows], total=total, limit=limit, offset=offset)

    async def get_work_item(self, actor: Actor, work_item_id: UUID) -> s.WorkItemOut:
        row, access = await self._load_in_project(actor, WorkItem, work_item_id)
        if not access.sees_organisation_record(row["contractor"]):
            raise NotFound(t("projects.work_item_does_not_exist", work_item_id=work_item_id))
        return to_out(row, s.WorkItemOut)

    async def work_item_for_edit(self, actor: Actor, work_item_id: UUID) -> s.WorkItemOut:
        """The work item as an offline edit merges against it (see `site_for_edit`)."""
        row, access = await self._load_in_project(actor, WorkItem, work_item_id, deleted_too=True)
        if not access.sees_organisation_record(row["contractor"]):
            raise NotFound(t("projects.work_item_does_not_exist", work_item_id=work_item_id))
        if not access.can_manage:
            raise Forbidden(t("projects.only_project_s_owner_supervisor_may_4"))
        return to_out(row, s.WorkItemOut)

    async def update_work_item(self, actor: Actor, work_item_id: UUID, data: s.WorkItemUpdate) -> s.WorkItemOut:
        async with write(actor, self.clock) as w:
            row, access = await self._load_in_project(actor, WorkItem, work_item_id)
            if not access.sees_organisation_record(row["contractor"]):
                raise NotFound(t("projects.work_item_does_not_exist", work_item_id=work_item_id))
            if not access.can_manage:
                raise Forbidden(t("projects.only_project_s_owner_supervisor_may_4"))
            values = _clean_enum(to_columns(data))
            if values.get("contractor"):
                await self._require_org(values["contractor"], WORK_PARTY_KINDS, "contractor_id")
            start = values.get("planned_start", row["planned_start"])
            end = values.get("planned_end", row["planned_end"])
            if start and end and end < start:
                raise ValidationFailed(t("projects.planned_end_before_planned_start"), field="planned_end")
            # a change of contractor must reach both the old and the new contractor's bucket
            buckets = self._work_item_buckets(row) + self._work_item_buckets({**row, **values})
            row = await w.update(WorkItem, work_item_id, values, buckets, expected_version=data.version, current=row)
        return to_out(row, s.WorkItemOut)


async def ready() -> None:
    await db.ping()
