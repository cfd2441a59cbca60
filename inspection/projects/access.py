"""Who may see and change what inside a project. Services call these; routes do not decide.

- A user sees a project only when they hold a membership in it (admins see everything).
  Non-members get 404, so a project's existence does not leak.
- Owners and supervisors manage a project's structure; other members read it.
- A user whose only role in a project is `contractor` sees only its own organisation's records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from inspection import db
from inspection.actor import Actor
from inspection.errors import Forbidden, NotFound
from inspection.messages import t
from inspection.projects.rules import MANAGING_ROLES, Role
from inspection.projects.tables import Membership, Project
from inspection.records import remembered, share_lock


@dataclass(frozen=True)
class ProjectAccess:
    project_id: UUID
    roles: frozenset[Role]
    is_admin: bool
    organisation_id: UUID | None

    @property
    def can_manage(self) -> bool:
        return self.is_admin or bool(self.roles & MANAGING_ROLES)

    @property
    def contractor_only(self) -> bool:
        """True when the actor sees the project through a contractor's eyes only."""
        return not self.is_admin and self.roles == {Role.contractor}

    def sees_organisation_record(self, owner_organisation_id: UUID | None) -> bool:
        return not self.contractor_only or owner_organisation_id == self.organisation_id

    def has(self, *roles: Role) -> bool:
        return self.is_admin or bool(self.roles & set(roles))


def access_by_project(actor: Actor, memberships: Iterable[tuple[Any, Any]]) -> dict[UUID, ProjectAccess]:
    """The actor's access in each project of its (project, role) membership rows, the roles it holds
    there gathered into one `ProjectAccess`; the rows come from whichever read the caller needs (a
    sync pull reads them in its snapshot)."""
    roles: dict[UUID, set[Role]] = {}
    for project, role in memberships:
        roles.setdefault(project if isinstance(project, UUID) else UUID(str(project)), set()).add(Role(role))
    return {p: ProjectAccess(p, frozenset(rs), actor.is_admin, actor.organisation_id) for p, rs in roles.items()}


async def projects_by_view(actor: Actor) -> tuple[list[UUID], list[UUID]]:
    """(the projects the actor sees whole, those it sees as a contractor only: its organisation's
    records there), from its memberships."""
    if actor.user_id is None:
        return [], []
    rows = await Membership.select(Membership.project, Membership.role).where(
        (Membership.user == actor.user_id) & Membership.deleted.eq(False)
    )
    access = access_by_project(actor, ((r["project"], r["role"]) for r in rows))
    full = [p for p, a in access.items() if not a.contractor_only]
    contractor_only = [p for p, a in access.items() if a.contractor_only]
    return full, contractor_only


async def roles_in(actor: Actor, project_id: UUID) -> frozenset[Role]:
    if actor.user_id is None:
        return frozenset()
    rows = await Membership.select(Membership.role).where(
        (Membership.project == project_id) & (Membership.user == actor.user_id) & (Membership.deleted.eq(False))
    )
    return frozenset(Role(r["role"]) for r in rows)


_ROLES = (
    "SELECT m.role FROM membership m JOIN project p ON p.id = m.project"
    ' WHERE m.project = {} AND m."user" = {} AND m.deleted = {} AND p.deleted = {}'
)


async def project_access(actor: Actor, project_id: UUID) -> ProjectAccess:
    """The actor's rights in a project; NotFound when the project is missing or not theirs.
    Read once per write transaction (a push checks it for every mutation), with the actor's
    memberships locked against removal until it commits: a write by someone whose membership is
    being removed lands before the removal or is refused after it."""

    async def load() -> tuple[bool, frozenset[Role]]:
        roles: frozenset[Role] = frozenset()
        if actor.user_id is not None:
            rows = await db.fetch_tuples(_ROLES + share_lock("m"), project_id, actor.user_id, False, False)
            roles = frozenset(Role(r[0]) for r in rows)
        if roles or not actor.is_admin:
            return bool(roles), roles
        exists = await db.fetch_tuples("SELECT 1 FROM project WHERE id = {} AND deleted = {}", project_id, False)
        return bool(exists), roles

    key = ("project_access", project_id, actor.user_id)
    exists, roles = await remembered(key, (Project._meta.tablename, Membership._meta.tablename), load)
    if not exists or (not roles and not actor.is_admin):
        raise NotFound(t("projects.project_does_not_exist_not_yours", project_id=project_id))
    return ProjectAccess(project_id, roles, actor.is_admin, actor.organisation_id)


async def require_manage(actor: Actor, project_id: UUID) -> ProjectAccess:
    access = await project_access(actor, project_id)
    if not access.can_manage:
        raise Forbidden(t("projects.only_project_s_owner_supervisor_may"))
    return access


async def visible_project_ids(actor: Actor) -> list[UUID] | None:
    """Ids of the projects the actor is a member of; None means every project (admin)."""
    if actor.is_admin:
        return None
    if actor.user_id is None:
        return []
    rows = await Membership.select(Membership.project).where(
        (Membership.user == actor.user_id) & (Membership.deleted.eq(False))
    )
    return list({r["project"] for r in rows})
