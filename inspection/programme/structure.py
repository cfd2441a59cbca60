"""Use cases of the programme structure: areas, programmes and their batches, where each project
sits, and the area offices with the viewer memberships they give. One transaction each.

Areas, programmes and batches are reference data (the `ref` bucket: every tablet has them); a
project's placement travels with the project (its own and its contractors' context buckets)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.clock import Clock
from inspection.errors import Conflict, Forbidden, NotFound, ValidationFailed
from inspection.messages import t
from inspection.programme import schemas as s
from inspection.programme.access import ProgrammeView, area_parents, programme_view, scope_of
from inspection.programme.rules import AreaLevel, OfficeRole, ancestors, child_level_problem, office_problem
from inspection.programme.tables import Area, AreaOffice, OfficeGrant, Programme, ProgrammeBatch, ProjectPlacement
from inspection.projects.rules import Role
from inspection.projects.schemas import convert_row
from inspection.projects.tables import Membership, Project, User
from inspection.records import REFERENCE_BUCKET, Write, context_buckets, new_id, project_bucket, write

_RENAMES = {"parent": "parent_id", "area": "area_id", "programme": "programme_id", "project": "project_id"}


def _out(row: dict[str, Any], out: type[Any], **extra: Any) -> Any:
    data = {_RENAMES.get(k, k): v for k, v in row.items()}
    data.update(extra)
    return convert_row(data, out)


async def _area(area_id: UUID, field: str = "area_id") -> dict[str, Any]:
    row = await Area.select().where((Area.id == area_id) & Area.deleted.eq(False)).first()
    if row is None:
        raise ValidationFailed(t("programme.no_such_area"), field=field)
    return row  # type: ignore[no-any-return]


# Areas


async def create_area(actor: Actor, clock: Clock, data: s.AreaCreate) -> s.AreaOut:
    """Administrators make any area; a programme office makes areas below its own."""
    scope = await scope_of(actor)
    parent = await _area(data.parent_id, "parent_id") if data.parent_id else None
    if not actor.is_admin and (parent is None or not scope.manages(parent["id"])):
        raise Forbidden(t("programme.only_administrator_programme_office_area_above"))
    problem = child_level_problem(AreaLevel(parent["level"]) if parent else None, data.level)
    if problem:
        raise ValidationFailed(problem, field="level")
    async with write(actor, clock) as w:
        if data.id and await Area.exists().where(Area.id == data.id):
            raise Conflict(t("programme.record_id_already_exists", id=data.id), field="id")
        siblings = Area.select(Area.id).where(
            (Area.name == data.name)
            & Area.deleted.eq(False)
            & (Area.parent == data.parent_id if data.parent_id else Area.parent.is_null())
        )
        if await siblings.first():
            raise Conflict(t("programme.already_exists_there", name=data.name), field="name")
        values = {"name": data.name, "level": data.level.value, "parent": data.parent_id, "code": data.code}
        if data.id:
            values["id"] = data.id
        row = await w.insert(Area, values, [REFERENCE_BUCKET])
    return _out(row, s.AreaOut)  # type: ignore[no-any-return]


async def list_areas(actor: Actor) -> list[s.AreaOut]:
    """Reference data: the whole tree, for every signed-in user (as tablets receive it)."""
    rows = await Area.select().where(Area.deleted.eq(False)).order_by(Area.level).order_by(Area.name)
    return [_out(r, s.AreaOut) for r in rows]


# Programmes and batches


async def _programme_out(view: ProgrammeView) -> s.ProgrammeOut:
    row = view.programme
    area = await Area.select(Area.name).where(Area.id == row["area"]).first()
    batches = (
        await ProgrammeBatch.select()
        .where((ProgrammeBatch.programme == row["id"]) & ProgrammeBatch.deleted.eq(False))
        .order_by(ProgrammeBatch.number)
    )
    placed = await _placements(view)
    return _out(  # type: ignore[no-any-return]
        dict(row),
        s.ProgrammeOut,
        area_name=area["name"] if area else "",
        batches=[_out(b, s.BatchOut) for b in batches],
        projects=len(placed),
        access=view.access,
    )


async def create_programme(actor: Actor, clock: Clock, data: s.ProgrammeCreate) -> s.ProgrammeOut:
    area = await _area(data.area_id)
    if not (await scope_of(actor)).manages(area["id"]):
        raise Forbidden(t("programme.only_programme_office_area_administrator_sets"))
    async with write(actor, clock) as w:
        if data.id and await Programme.exists().where(Programme.id == data.id):
            raise Conflict(t("programme.record_id_already_exists", id=data.id), field="id")
        if await Programme.exists().where(
            (Programme.area == data.area_id) & (Programme.year == data.year) & Programme.deleted.eq(False)
        ):
            raise Conflict(t("programme.already_has_programme", name=area["name"], year=data.year), field="year")
        values = {
            "name": data.name,
            "area": data.area_id,
            "year": data.year,
            "status": "active",
            "survey_during_works": data.survey_during_works,
            "description": data.description,
        }
        if data.id:
            values["id"] = data.id
        row = await w.insert(Programme, values, [REFERENCE_BUCKET])
    return await get_programme(actor, row["id"])


async def get_programme(actor: Actor, programme_id: UUID) -> s.ProgrammeOut:
    return await _programme_out(await programme_view(actor, programme_id))


async def list_programmes(actor: Actor) -> list[s.ProgrammeOut]:
    """The programmes the actor's offices see (all of them for an administrator)."""
    scope = await scope_of(actor)
    if not scope.any:
        return []
    rows = await Programme.select(Programme.id, Programme.area).where(Programme.deleted.eq(False))
    out = []
    for r in rows:
        if scope.overlaps(r["area"]):
            out.append(await get_programme(actor, r["id"]))
    return sorted(out, key=lambda p: (-p.year, p.name))


async def update_programme(actor: Actor, clock: Clock, programme_id: UUID, data: s.ProgrammeUpdate) -> s.ProgrammeOut:
    async with write(actor, clock) as w:
        view = await programme_view(actor, programme_id)
        if not view.manage:
            raise Forbidden(t("programme.only_programme_office_programme_s_area"))
        changes = {
            k: getattr(data, k)
            for k in ("name", "status", "survey_during_works", "description")
            if getattr(data, k) is not s.UNSET
        }
        await w.update(Programme, programme_id, changes, [REFERENCE_BUCKET], expected_version=data.version)
    return await get_programme(actor, programme_id)


async def create_batch(actor: Actor, clock: Clock, programme_id: UUID, data: s.ProgrammeBatchCreate) -> s.BatchOut:
    if data.planned_start and data.planned_end and data.planned_end < data.planned_start:
        raise ValidationFailed(t("programme.planned_end_before_planned_start"), field="planned_end")
    async with write(actor, clock) as w:
        view = await programme_view(actor, programme_id)
        if not view.manage:
            raise Forbidden(t("programme.only_programme_office_programme_s_area_2"))
        if data.id and await ProgrammeBatch.exists().where(ProgrammeBatch.id == data.id):
            raise Conflict(t("programme.record_id_already_exists", id=data.id), field="id")
        if await ProgrammeBatch.exists().where(
            (ProgrammeBatch.programme == programme_id)
            & (ProgrammeBatch.number == data.number)
            & ProgrammeBatch.deleted.eq(False)
        ):
            raise Conflict(t("programme.programme_already_has_batch", number=data.number), field="number")
        values = {
            "programme": programme_id,
            "number": data.number,
            "name": data.name,
            "planned_start": data.planned_start,
            "planned_end": data.planned_end,
        }
        if data.id:
            values["id"] = data.id
        row = await w.insert(ProgrammeBatch, values, [REFERENCE_BUCKET])
    return _out(row, s.BatchOut)  # type: ignore[no-any-return]


# Placements


async def _placements(view: ProgrammeView) -> list[dict[str, Any]]:
    rows = await ProjectPlacement.select(
        *ProjectPlacement.all_columns(),
        ProjectPlacement.project.code.as_alias("project_code"),
        ProjectPlacement.project.name.as_alias("project_name"),
        ProjectPlacement.batch.name.as_alias("batch_name"),
        ProjectPlacement.area.name.as_alias("area_name"),
    ).where(
        (ProjectPlacement.programme == view.id)
        & ProjectPlacement.deleted.eq(False)
        & (ProjectPlacement.project.deleted == False)  # noqa: E712 - a SQL comparison
    )
    return sorted(
        (r for r in rows if view.sees_area(r["area"])), key=lambda r: (r["project_code"] or "", str(r["project"]))
    )


def _placement_out(r: dict[str, Any]) -> s.PlacementOut:
    return s.PlacementOut(
        project_id=r["project"],
        project_code=r["project_code"] or "",
        project_name=r["project_name"] or "",
        programme_id=r["programme"],
        batch_id=r["batch"],
        batch_name=r["batch_name"] or "",
        area_id=r["area"],
        area_name=r["area_name"] or "",
        version=r["version"],
    )


async def list_placements(actor: Actor, programme_id: UUID) -> s.PlacementPage:
    view = await programme_view(actor, programme_id)
    rows = await _placements(view)
    unplaced: list[UUID] = []
    if view.manage:
        placed = await ProjectPlacement.select(ProjectPlacement.project).where(ProjectPlacement.deleted.eq(False))
        known = {p["project"] for p in placed}
        projects = await Project.select(Project.id).where(Project.deleted.eq(False))
        unplaced = sorted((p["id"] for p in projects if p["id"] not in known), key=str)
    return s.PlacementPage(items=[_placement_out(r) for r in rows], unplaced=unplaced)


async def place_project(actor: Actor, clock: Clock, project_id: UUID, data: s.PlacementIn) -> s.PlacementOut:
    """Put a project into a programme, a batch of it and an area within the programme's area.
    The programme office of the programme does it; an existing placement moves (its old area's
    offices lose their view of the project, the new one's gain it)."""
    async with write(actor, clock) as w:
        view = await programme_view(actor, data.programme_id)
        if not view.manage:
            raise Forbidden(t("programme.only_programme_office_programme_s_area_3"))
        if not await Project.exists().where((Project.id == project_id) & Project.deleted.eq(False)):
            raise NotFound(t("programme.project_does_not_exist", project_id=project_id))
        area = await _area(data.area_id)
        parents = await area_parents()
        if view.programme["area"] not in ancestors(parents, area["id"]):
            raise ValidationFailed(t("programme.area_not_inside_programme_s_area"), field="area_id")
        if data.batch_id is not None and not await ProgrammeBatch.exists().where(
            (ProgrammeBatch.id == data.batch_id)
            & (ProgrammeBatch.programme == data.programme_id)
            & ProgrammeBatch.deleted.eq(False)
        ):
            raise ValidationFailed(t("programme.batch_not_one_programme_s"), field="batch_id")
        current = await ProjectPlacement.select().where(ProjectPlacement.project == project_id).first()
        values = {"project": project_id, "programme": data.programme_id, "batch": data.batch_id, "area": data.area_id}
        if current is None:
            await w.insert(ProjectPlacement, values, context_buckets(project_id))
        else:
            old_view = await programme_view(actor, current["programme"]) if not current["deleted"] else view
            if not old_view.manage:
                raise Forbidden(t("programme.project_belongs_another_programme_office_s"))
            await w.update(
                ProjectPlacement,
                current["id"],
                {**values, "deleted": False},
                context_buckets(project_id),
                current=current,
                action="move",
            )
        await reconcile_grants(w, [project_id])
    rows = await _placements(view)
    return _placement_out(next(r for r in rows if r["project"] == project_id))


# Area offices and the viewer memberships they give


async def appoint(actor: Actor, clock: Clock, data: s.OfficeCreate) -> s.OfficeOut:
    area = await _area(data.area_id)
    problem = office_problem(data.role, AreaLevel(area["level"]))
    if problem:
        raise ValidationFailed(problem, field="role")
    if not (await scope_of(actor)).manages(area["id"]):
        raise Forbidden(t("programme.only_administrator_programme_office_area_above_2"))
    async with write(actor, clock) as w:
        if not await User.exists().where((User.id == data.user_id) & User.deleted.eq(False)):
            raise ValidationFailed(t("programme.no_such_user"), field="user_id")
        if await AreaOffice.exists().where(
            (AreaOffice.user == data.user_id)
            & (AreaOffice.area == data.area_id)
            & (AreaOffice.role == data.role.value)
            & AreaOffice.deleted.eq(False)
        ):
            raise Conflict(t("programme.person_already_works_area_role"), field="role")
        row = await w.insert(
            AreaOffice,
            {"area": data.area_id, "user": data.user_id, "role": data.role.value, "title": data.title},
            [],
        )
        projects = await _projects_in(area["id"])
        await reconcile_grants(w, projects)
    return await _office_out(row["id"])


async def _office_out(office_id: UUID) -> s.OfficeOut:
    row = (
        await AreaOffice.select(
            *AreaOffice.all_columns(),
            AreaOffice.user.display_name.as_alias("display_name"),
            AreaOffice.area.name.as_alias("area_name"),
        )
        .where(AreaOffice.id == office_id)
        .first()
    )
    if row is None:
        raise NotFound(t("programme.office_does_not_exist", office_id=office_id))
    grants = await OfficeGrant.count().where((OfficeGrant.office == office_id) & OfficeGrant.deleted.eq(False))
    return s.OfficeOut(
        id=row["id"],
        user_id=row["user"],
        display_name=row["display_name"] or "",
        area_id=row["area"],
        area_name=row["area_name"] or "",
        role=OfficeRole(row["role"]),
        title=row["title"],
        projects=grants,
    )


async def list_offices(actor: Actor) -> list[s.OfficeOut]:
    """The offices in the areas the actor manages, and the actor's own."""
    scope = await scope_of(actor)
    rows = await AreaOffice.select(AreaOffice.id, AreaOffice.area, AreaOffice.user).where(AreaOffice.deleted.eq(False))
    shown = [r["id"] for r in rows if scope.manages(r["area"]) or r["user"] == actor.user_id]
    return [await _office_out(i) for i in shown]


async def dismiss(actor: Actor, clock: Clock, office_id: UUID) -> None:
    async with write(actor, clock) as w:
        row = await AreaOffice.select().where((AreaOffice.id == office_id) & AreaOffice.deleted.eq(False)).first()
        if row is None or not (await scope_of(actor)).manages(row["area"]):
            raise NotFound(t("programme.office_does_not_exist_not_yours", office_id=office_id))
        await w.tombstone(AreaOffice, office_id, [])
        await reconcile_grants(w, await _projects_in(row["area"]))


async def _projects_in(area_id: UUID) -> list[UUID]:
    parents = await area_parents()
    rows = await ProjectPlacement.select(ProjectPlacement.project, ProjectPlacement.area).where(
        ProjectPlacement.deleted.eq(False)
    )
    return [r["project"] for r in rows if area_id in ancestors(parents, r["area"])]


async def reconcile_grants(w: Write, project_ids: Iterable[UUID]) -> None:
    """Make the viewer memberships of these projects match the offices covering their areas: one
    per (office, project); the membership goes when its last grant does, unless the person held
    it before any office gave it."""
    projects = list(dict.fromkeys(project_ids))
    if not projects:
        return
    # An office covers every project of its area: appointing or dismissing one gives or takes
    # the viewer membership in each of them in one transaction, on purpose (docs/scaling.md).
    w.allow_projects(*projects)
    parents = await area_parents()
    offices = await AreaOffice.select(AreaOffice.id, AreaOffice.area, AreaOffice.user).where(
        AreaOffice.deleted.eq(False)
    )
    placements = await ProjectPlacement.select(ProjectPlacement.project, ProjectPlacement.area).where(
        ProjectPlacement.project.is_in(projects) & ProjectPlacement.deleted.eq(False)
    )
    wanted: set[tuple[UUID, UUID]] = set()  # (office, project)
    office_user = {o["id"]: o["user"] for o in offices}
    for p in placements:
        chain = set(ancestors(parents, p["area"]))
        wanted |= {(o["id"], p["project"]) for o in offices if o["area"] in chain}
    grants = await OfficeGrant.select().where(OfficeGrant.project.is_in(projects) & OfficeGrant.deleted.eq(False))
    have = {(g["office"], g["project"]): g for g in grants}
    for key, grant in have.items():
        if key not in wanted:
            await w.tombstone(OfficeGrant, grant["id"], [])
    gone = [g for k, g in have.items() if k not in wanted]
    for office, project in sorted(wanted - set(have), key=str):
        membership = await _viewer_membership(w, project, office_user[office])
        if membership is None:
            continue  # a viewer on their own account: nothing to give
        await w.insert(
            OfficeGrant,
            {"office": office, "membership": membership, "project": project, "user": office_user[office]},
            [],
        )
    for grant in gone:
        left = await OfficeGrant.count().where(
            (OfficeGrant.membership == grant["membership"]) & OfficeGrant.deleted.eq(False)
        )
        if left == 0:
            row = await Membership.select().where(Membership.id == grant["membership"]).first()
            if row is not None and not row["deleted"]:
                await w.tombstone(Membership, row["id"], [project_bucket(row["project"])])


async def _viewer_membership(w: Write, project: UUID, user: UUID) -> UUID | None:
    """The viewer membership an office grant stands on: made (or restored) for it, or an existing
    one that other grants already stand on. None when the person was a viewer anyway."""
    row = (
        await Membership.select()
        .where((Membership.project == project) & (Membership.user == user) & (Membership.role == Role.viewer.value))
        .first()
    )
    bucket = [project_bucket(project)]
    if row is None:
        made = await w.insert(
            Membership, {"id": new_id(), "project": project, "user": user, "role": Role.viewer.value}, bucket
        )
        return made["id"]  # type: ignore[no-any-return]
    if row["deleted"]:
        await w.update(Membership, row["id"], {"deleted": False}, bucket, current=row, action="restore")
        return row["id"]  # type: ignore[no-any-return]
    granted = await OfficeGrant.exists().where((OfficeGrant.membership == row["id"]) & OfficeGrant.deleted.eq(False))
    return row["id"] if granted else None


# Placing projects that have none (the upgrade from `district` strings, and projects made since)


async def place_by_district(w: Write) -> int:
    """Every project without a placement goes into the programme of its district and year: the
    district (a county-level area named as the project's `district`, made when missing, at the top
    of the tree or under the one city if there is exactly one) and its programme for that year
    (made when missing). A project without a district goes under 未分区. Nothing is removed:
    `project.district` keeps its text. Returns how many projects were placed."""
    placed = {r["project"] for r in await ProjectPlacement.select(ProjectPlacement.project)}
    projects = [
        p
        for p in await Project.select(Project.id, Project.district, Project.year).where(Project.deleted.eq(False))
        if p["id"] not in placed
    ]
    if not projects:
        return 0
    # the upgrade places every project at once (a migration, run once)
    w.allow_projects(*(p["id"] for p in projects))
    cities = await Area.select(Area.id).where((Area.level == AreaLevel.city.value) & Area.deleted.eq(False))
    city = cities[0]["id"] if len(cities) == 1 else None
    areas: dict[str, UUID] = {}
    programmes: dict[tuple[UUID, int], UUID] = {}
    count = 0
    for p in sorted(projects, key=lambda p: (p["district"], p["year"], str(p["id"]))):
        name = (p["district"] or "").strip() or "未分区"
        if name not in areas:
            found = (
                await Area.select(Area.id)
                .where((Area.name == name) & (Area.level == AreaLevel.county.value) & Area.deleted.eq(False))
                .first()
            )
            areas[name] = (
                found["id"]
                if found
                else (
                    await w.insert(
                        Area, {"name": name, "level": AreaLevel.county.value, "parent": city}, [REFERENCE_BUCKET]
                    )
                )["id"]
            )
        area = areas[name]
        key = (area, p["year"])
        if key not in programmes:
            found = (
                await Programme.select(Programme.id)
                .where((Programme.area == area) & (Programme.year == p["year"]) & Programme.deleted.eq(False))
                .first()
            )
            programmes[key] = (
                found["id"]
                if found
                else (
                    await w.insert(
                        Programme,
                        {"name": f"{name}{p['year']}年度老旧小区改造计划", "area": area, "year": p["year"]},
                        [REFERENCE_BUCKET],
                    )
                )["id"]
            )
        await w.insert(
            ProjectPlacement,
            {"project": p["id"], "programme": programmes[key], "batch": None, "area": area},
            context_buckets(p["id"]),
        )
        count += 1
    await reconcile_grants(w, [p["id"] for p in projects])
    return count
