"""Who sees and manages what in programme supervision. Services call these; routes do not decide.

- A programme office (旧改办 / 住建局) of an area sees every programme, project, evaluation and
  survey in its area and below, places projects, finalises months and appoints offices below it.
- A street or community office (街道办 / 社区) sees the projects placed in its area and below, the
  subjects of an evaluation that work there, and enters paper survey forms for their sites.
- Administrators see and manage everything. Everyone else gets 404 for what is not theirs.

An office's person also gets a viewer membership in each project of its area (see
structure.reconcile_grants), so every domain's own rules let them read those projects' records.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from inspection.actor import Actor
from inspection.errors import Forbidden, NotFound
from inspection.messages import t
from inspection.programme.rules import OfficeRole, ancestors, descendants
from inspection.programme.tables import Area, AreaOffice, Programme, ProjectPlacement
from inspection.records import remembered


async def area_parents() -> dict[UUID, UUID | None]:
    """The whole area tree (a city has hundreds of areas, not millions): id → parent."""

    async def load() -> dict[UUID, UUID | None]:
        rows = await Area.select(Area.id, Area.parent).where(Area.deleted.eq(False))
        return {r["id"]: r["parent"] for r in rows}

    return await remembered(("area_parents",), (Area._meta.tablename,), load)


@dataclass(frozen=True)
class OfficeScope:
    """The areas an actor works for, by role, and everything they cover."""

    is_admin: bool
    offices: tuple[tuple[UUID, OfficeRole], ...]
    parents: dict[UUID, UUID | None]

    @property
    def any(self) -> bool:
        return self.is_admin or bool(self.offices)

    def covers(self, area_id: UUID, role: OfficeRole | None = None) -> bool:
        """Whether `area_id` is in (or below) an area the actor works for (with `role`)."""
        if self.is_admin:
            return True
        chain = set(ancestors(self.parents, area_id))
        return any(a in chain and (role is None or r is role) for a, r in self.offices)

    def manages(self, area_id: UUID) -> bool:
        return self.covers(area_id, OfficeRole.programme_office)

    def covered_areas(self) -> set[UUID] | None:
        """Every area the actor sees; None: every area (administrator)."""
        if self.is_admin:
            return None
        out: set[UUID] = set()
        for area, _ in self.offices:
            out |= descendants(self.parents, area)
        return out

    def overlaps(self, area_id: UUID) -> bool:
        """The actor sees some of `area_id`: it covers it, or works for an area inside it."""
        if self.covers(area_id):
            return True
        return any(area_id in ancestors(self.parents, a) for a, _ in self.offices)


async def scope_of(actor: Actor) -> OfficeScope:
    parents = await area_parents()
    if actor.is_admin:
        return OfficeScope(True, (), parents)
    if actor.user_id is None:
        return OfficeScope(False, (), parents)
    rows = await AreaOffice.select(AreaOffice.area, AreaOffice.role).where(
        (AreaOffice.user == actor.user_id) & AreaOffice.deleted.eq(False)
    )
    return OfficeScope(False, tuple((r["area"], OfficeRole(r["role"])) for r in rows), parents)


async def programme_row(programme_id: UUID) -> dict[str, object]:
    row = await Programme.select().where((Programme.id == programme_id) & Programme.deleted.eq(False)).first()
    if row is None:
        raise NotFound(t("programme.programme_does_not_exist_not_yours", programme_id=programme_id))
    return row  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ProgrammeView:
    """How an actor stands towards one programme: `areas` None sees all of it, else only the
    projects placed in those areas (a street office)."""

    programme: dict[str, object]
    scope: OfficeScope
    manage: bool
    areas: set[UUID] | None

    @property
    def id(self) -> UUID:
        return self.programme["id"]  # type: ignore[return-value]

    def sees_area(self, area_id: UUID | None) -> bool:
        return self.areas is None or (area_id is not None and area_id in self.areas)

    @property
    def access(self) -> str:
        return "manage" if self.manage else "read" if self.areas is None else "street"


async def programme_view(actor: Actor, programme_id: UUID) -> ProgrammeView:
    """NotFound unless the actor works for the programme's area, above it, or inside it."""
    programme = await programme_row(programme_id)
    scope = await scope_of(actor)
    area = programme["area"]
    assert isinstance(area, UUID)
    if scope.covers(area):
        return ProgrammeView(programme, scope, scope.manages(area), None)
    inside = scope.covered_areas() or set()
    if any(area in ancestors(scope.parents, a) for a in inside):
        return ProgrammeView(programme, scope, False, inside)
    raise NotFound(t("programme.programme_does_not_exist_not_yours", programme_id=programme_id))


async def require_programme_office(actor: Actor, programme_id: UUID) -> ProgrammeView:
    view = await programme_view(actor, programme_id)
    if not view.manage:
        raise Forbidden(t("programme.only_area_office"))
    return view


async def project_area(project_id: UUID) -> UUID | None:
    row = (
        await ProjectPlacement.select(ProjectPlacement.area)
        .where((ProjectPlacement.project == project_id) & ProjectPlacement.deleted.eq(False))
        .first()
    )
    return row["area"] if row else None


async def office_sees_project(actor: Actor, project_id: UUID, role: OfficeRole | None = None) -> bool:
    """An office of the actor covers the project's area (with `role`, if given)."""
    area = await project_area(project_id)
    if area is None:
        return actor.is_admin
    return (await scope_of(actor)).covers(area, role)
