"""Faker-backed builders for test data, through the same services the API uses."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
from faker import Faker

from inspection.actor import SYSTEM
from inspection.projects import schemas as s
from inspection.projects.rules import (
    CREDIT_CODE_ALPHABET,
    OrgKind,
    Role,
    WorkCategory,
    WorkType,
    credit_code_check_char,
)

fake = Faker("zh_CN")
_rng = random.Random(7)
_counter = itertools.count(1)
PASSWORD = "test-password-42"


def reseed(seed: int, restart_names: bool = True) -> None:
    """Start Faker and the factories' own random numbers from `seed` (conftest does it before
    every test), and forget the names handed out: within a test no two are alike. Without
    `restart_names`, `unique` keeps counting (for a run that keeps the rows of earlier tests)."""
    global _counter
    if restart_names:
        _counter = itertools.count(1)
    fake.seed_instance(seed)
    fake.unique.clear()
    _rng.seed(seed)


def credit_code(prefix: str = "91") -> str:
    body = prefix + "".join(_rng.choice(CREDIT_CODE_ALPHABET) for _ in range(17 - len(prefix)))
    return body + credit_code_check_char(body)


def unique(name: str) -> str:
    return f"{name}{next(_counter)}"


async def make_org(services: Any, kind: OrgKind, name: str | None = None) -> s.OrganisationOut:
    return await services.projects.create_organisation(
        # unique: two contractors with one name would make a report's rows ambiguous
        SYSTEM,
        s.OrganisationCreate(name=name or fake.unique.company(), kind=kind, credit_code=credit_code()),
    )


async def make_user(services: Any, username: str, org: s.OrganisationOut | None, admin: bool = False) -> s.UserOut:
    return await services.projects.create_user(
        SYSTEM,
        s.UserCreate(
            username=username,
            display_name=fake.name(),
            password=PASSWORD,
            organisation_id=org.id if org else None,
            is_admin=admin,
        ),
    )


async def login(client: httpx.AsyncClient, username: str, device_id: str = "test-device") -> dict[str, Any]:
    r = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD, "device_id": device_id}
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


# Everyone a World holds: their key, the organisation they belong to and whether they administer.
# The outsider comes last: a member of project P2 only.
PEOPLE: dict[str, tuple[str | None, bool]] = {
    "admin": (None, True),
    "owner": ("owner", False),
    "supervisor": ("supervisor", False),
    "inspector": ("supervisor", False),
    "contractor_a": ("contractor_a", False),
    "contractor_b": ("contractor_b", False),
    "authority": ("authority", False),
    "resident": (None, False),
    "viewer": (None, False),
    "outsider": ("owner2", False),
}


@dataclass
class World:
    """Project P1 with one user per role and two contractors (A, B); project P2 with its own owner
    and an `outsider` who belongs to P2 only; an administrator."""

    services: Any
    client: httpx.AsyncClient
    orgs: dict[str, s.OrganisationOut] = field(default_factory=dict)
    users: dict[str, s.UserOut] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    p1: s.ProjectOut | None = None
    p2: s.ProjectOut | None = None
    site1: s.SiteOut | None = None
    building1: s.BuildingOut | None = None
    work_a: s.WorkItemOut | None = None
    work_b: s.WorkItemOut | None = None

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def get(self, who: str, url: str, **kw: Any) -> httpx.Response:
        return await self.client.get(url, headers=self.headers(who), **kw)

    async def post(self, who: str, url: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.client.post(url, headers=self.headers(who), json=json, **kw)

    async def patch(self, who: str, url: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.client.patch(url, headers=self.headers(who), json=json, **kw)

    async def delete(self, who: str, url: str, **kw: Any) -> httpx.Response:
        return await self.client.delete(url, headers=self.headers(who), **kw)

    @classmethod
    async def build(cls, services: Any, client: httpx.AsyncClient) -> World:
        w = cls(services=services, client=client)
        for key, kind in [
            ("owner", OrgKind.owner),
            ("owner2", OrgKind.owner),
            ("contractor_a", OrgKind.contractor),
            ("contractor_b", OrgKind.contractor),
            ("supervisor", OrgKind.supervisor),
            ("authority", OrgKind.authority),
        ]:
            w.orgs[key] = await make_org(services, kind)
        for who, (org_key, admin) in PEOPLE.items():
            w.users[who] = await make_user(services, unique(who), w.orgs[org_key] if org_key else None, admin)
        admin = await services.projects.get_user(SYSTEM, w.users["admin"].id)
        assert admin.is_admin
        w.p1 = await services.projects.create_project(
            SYSTEM,
            s.ProjectCreate(
                code=unique("P1-"), name="一号改造项目", year=2026, owner_organisation_id=w.orgs["owner"].id
            ),
        )
        w.p2 = await services.projects.create_project(
            SYSTEM,
            s.ProjectCreate(
                code=unique("P2-"), name="二号改造项目", year=2026, owner_organisation_id=w.orgs["owner2"].id
            ),
        )
        roles = {
            "owner": Role.owner,
            "supervisor": Role.supervisor,
            "inspector": Role.inspector,
            "contractor_a": Role.contractor,
            "contractor_b": Role.contractor,
            "authority": Role.authority,
            "resident": Role.resident_supervisor,
            "viewer": Role.viewer,
        }
        for who, role in roles.items():
            await services.projects.add_member(SYSTEM, w.p1.id, s.MembershipCreate(user_id=w.users[who].id, role=role))
        await services.projects.add_member(
            SYSTEM, w.p2.id, s.MembershipCreate(user_id=w.users["outsider"].id, role=Role.owner)
        )
        w.site1 = await services.projects.create_site(
            SYSTEM, w.p1.id, s.SiteCreate(name=f"{fake.street_name()}小区", households=320, floor_area_m2=24000.0)
        )
        w.building1 = await services.projects.create_building(
            SYSTEM, w.site1.id, s.BuildingCreate(name="1号楼", floors=6)
        )
        w.work_a = await services.projects.create_work_item(
            SYSTEM,
            w.p1.id,
            s.WorkItemCreate(
                site_id=w.site1.id,
                building_id=w.building1.id,
                category=WorkCategory.basic,
                work_type=WorkType.roof_waterproofing,
                name="屋面防水改造",
                contractor_id=w.orgs["contractor_a"].id,
            ),
        )
        w.work_b = await services.projects.create_work_item(
            SYSTEM,
            w.p1.id,
            s.WorkItemCreate(
                site_id=w.site1.id,
                category=WorkCategory.basic,
                work_type=WorkType.drainage,
                name="雨污分流改造",
                contractor_id=w.orgs["contractor_b"].id,
            ),
        )
        for who, user in w.users.items():
            w.tokens[who] = (await login(client, user.username))["access_token"]
        return w

    def id_of(self, thing: str) -> UUID:
        return {
            "p1": self.p1,
            "p2": self.p2,
            "site1": self.site1,
            "building1": self.building1,
            "work_a": self.work_a,
            "work_b": self.work_b,
        }[thing].id  # type: ignore[union-attr]
