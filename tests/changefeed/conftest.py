"""Projects to write in and a reader who belongs to all of them: the change feed's test ground."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest

from inspection.actor import SYSTEM, Actor
from inspection.changefeed import pending
from inspection.projects import schemas as s
from inspection.projects.rules import OrgKind, Role
from inspection.projects.tables import Building
from inspection.records import Write, context_buckets
from inspection.sync.service import SyncService
from tests.factories import PASSWORD, credit_code


@dataclass
class Land:
    """`projects` with a site each; `reader` a supervisor of every one of them."""

    projects: list[UUID]
    sites: dict[UUID, UUID]
    reader: Actor
    sync: SyncService
    app: Any

    async def add_building(self, w: Write, project: UUID, name: str) -> str:
        row = await w.insert(
            Building, {"project": project, "site": self.sites[project], "name": name}, context_buckets(project)
        )
        return str(row["id"])


@dataclass
class Tablet:
    """What a device holds after pulling: live buildings by id (name), and its cursor."""

    land: Land
    device: str = field(default_factory=lambda: f"tab-{uuid.uuid4().hex[:8]}")
    cursor: str | None = None
    rows: dict[str, str] = field(default_factory=dict)
    pages: int = 0

    async def page(self, limit: int) -> bool:
        """One page; True while the pull has more."""
        result = await self.land.sync.pull(self.land.reader, self.device, self.cursor, 1, limit=limit)
        assert not result.reset_required
        table = result.changes.get("building", {})
        for row in result.upserts("building"):
            self.rows[str(row["id"])] = row["name"]
        for rid in table.get("delete", []):
            self.rows.pop(str(rid), None)
        self.cursor = result.cursor
        self.pages += 1
        return result.has_more

    async def pull(self, limit: int = 1000) -> None:
        """A complete pull: pages until there is no more."""
        while await self.page(limit):
            pass


@pytest.fixture
async def land(app) -> Land:  # type: ignore[no-untyped-def]
    return await make_land(app)


async def make_land(app: Any, projects_in: int = 4, member_of: int = 4) -> Land:
    """`projects_in` projects, the reader a member of the first `member_of`."""
    services = app.state.services
    projects, sites = [], {}
    tag = uuid.uuid4().hex[:6]
    org = await services.projects.create_organisation(
        SYSTEM, s.OrganisationCreate(name=f"监理{tag}", kind=OrgKind.supervisor, credit_code=credit_code())
    )
    user = await services.projects.create_user(
        SYSTEM, s.UserCreate(username=f"reader-{tag}", display_name="读者", password=PASSWORD, organisation_id=org.id)
    )
    for n in range(projects_in):
        project = await services.projects.create_project(
            SYSTEM, s.ProjectCreate(code=f"CF-{tag}-{n}", name=f"项目{n}", year=2026)
        )
        site = await services.projects.create_site(SYSTEM, project.id, s.SiteCreate(name=f"小区{n}"))
        if n < member_of:
            member = s.MembershipCreate(user_id=user.id, role=Role.supervisor)
            await services.projects.add_member(SYSTEM, project.id, member)
        projects.append(project.id)
        sites[project.id] = site.id
    reader = Actor(user_id=user.id, username=user.username, organisation_id=org.id, device_id="reader")
    return Land(projects, sites, reader, services.sync, app)


Hook = Callable[[list[UUID]], Awaitable[None]]


@pytest.fixture
def around_scope_lock(monkeypatch: pytest.MonkeyPatch) -> Callable[[Hook, Hook], None]:
    """Run `before(scopes)` and `after(scopes)` around the moment a committing transaction locks
    its scopes: to hold a transaction there, or let time pass on either side of the lock."""

    def install(before: Hook, after: Hook) -> None:
        locked = pending.lock_scopes

        async def lock_scopes(scopes: list[UUID]) -> Any:
            await before(scopes)
            heads = await locked(scopes)
            await after(scopes)
            return heads

        monkeypatch.setattr(pending, "lock_scopes", lock_scopes)

    return install
