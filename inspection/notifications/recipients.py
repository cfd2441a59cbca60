"""Who an event is for: a project's members by role (and organisation), the owner organisation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from inspection.projects.rules import Role
from inspection.projects.tables import Membership, Project, User

Recipient = tuple[str, UUID]  # ("user" | "org", id)


async def project_owner(project_id: UUID) -> list[Recipient]:
    row = await Project.select(Project.owner_organisation).where(Project.id == project_id).first()
    return [("org", row["owner_organisation"])] if row and row["owner_organisation"] else []


async def members_with_role(project_id: UUID, role: Role) -> list[Recipient]:
    rows = await Membership.select(Membership.user).where(
        (Membership.project == project_id) & (Membership.role == role.value) & Membership.deleted.eq(False)
    )
    return [("user", r["user"]) for r in sorted(rows, key=lambda r: str(r["user"]))]


async def people(project_id: UUID, roles: Iterable[Role], organisation: UUID | None = None) -> list[UUID]:
    """Active users holding any of `roles` on the project (of `organisation` only, when given),
    each once, in a stable order."""
    where: Any = (
        (Membership.project == project_id)
        & Membership.role.is_in([r.value for r in roles] or ["-"])
        & Membership.deleted.eq(False)
    )
    rows = await Membership.select(Membership.user).where(where)
    ids = list({r["user"] for r in rows})
    if not ids:
        return []
    user_where: Any = User.id.is_in(ids) & User.active.eq(True) & User.deleted.eq(False)
    if organisation is not None:
        user_where &= User.organisation == organisation
    found = await User.select(User.id).where(user_where)
    return sorted((r["id"] for r in found), key=str)


async def organisation_people(organisation: UUID, project_id: UUID | None) -> list[UUID]:
    """Who reads what is addressed to an organisation: its active people, on the project when the
    notification names one (an alert about one project is not news to the rest of a big firm)."""
    where: Any = (User.organisation == organisation) & User.active.eq(True) & User.deleted.eq(False)
    if project_id is not None:
        members = await Membership.select(Membership.user).where(
            (Membership.project == project_id) & Membership.deleted.eq(False)
        )
        where &= User.id.is_in([m["user"] for m in members] or [UUID(int=0)])
    return sorted((r["id"] for r in await User.select(User.id).where(where)), key=str)


async def contractor_managers(project_id: UUID, contractor: UUID) -> list[UUID]:
    """The contractor's site managers: its people who hold the contractor role on the project."""
    return await people(project_id, [Role.contractor], contractor)


__all__ = ["Recipient", "contractor_managers", "members_with_role", "organisation_people", "people", "project_owner"]
