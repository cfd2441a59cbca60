"""Builders for the warranty tests: a full participant list, an accepted site, a property user."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from inspection.actor import SYSTEM
from inspection.clock import FixedClock
from inspection.projects import schemas as ps
from inspection.projects.rules import OrgKind, Role
from inspection.warranty import schemas as s
from inspection.warranty.rules import AcceptanceParty
from tests.factories import World, login, make_org, make_user, unique
from tests.rectification.helpers import actor_of, announce

# 10:00 in Shanghai on 15 June 2026
NOON = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


def participants(world: World, **drop: int) -> list[dict[str, Any]]:
    """Everyone joint acceptance needs; `drop=resident_supervisor=1` leaves that many out."""
    people = [
        (AcceptanceParty.owner, "建设单位代表", world.orgs["owner"].id),
        (AcceptanceParty.contractor, "施工单位项目经理", world.orgs["contractor_a"].id),
        (AcceptanceParty.supervisor, "总监理工程师", world.orgs["supervisor"].id),
        (AcceptanceParty.designer, "设计负责人", None),
        (AcceptanceParty.community, "社区主任", None),
        (AcceptanceParty.property, "物业经理", None),
        (AcceptanceParty.resident_supervisor, "业主监督员甲", None),
        (AcceptanceParty.resident_supervisor, "业主监督员乙", None),
    ]
    out = []
    for party, name, org in people:
        if drop.get(party.value, 0) > 0:
            drop[party.value] -= 1
            continue
        out.append({"party": party.value, "name": name, "organisation_id": str(org) if org else None, "signed": True})
    return out


def acceptance_body(world: World, on: date, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "project_id": str(world.id_of("p1")),
        "site_id": str(world.id_of("site1")),
        "accepted_on": on.isoformat(),
        "result": "passed",
        "remarks": "资料齐全，观感质量好",
        "participants": participants(world),
    }
    body.update(overrides)
    return body


async def accept_site(world: World, on: date, **overrides: Any) -> s.AcceptanceOut:
    import msgspec

    data = msgspec.convert(acceptance_body(world, on, **overrides), s.AcceptanceCreate)
    return await world.services.warranty.record_acceptance(actor_of(world, "owner"), data)  # type: ignore[no-any-return]


async def add_property_user(world: World) -> str:
    """A property company (物业) member of project 1; returns the key in world.tokens."""
    org = await make_org(world.services, OrgKind.property, "幸福物业公司")
    user = await make_user(world.services, unique("property"), org)
    world.orgs["property"] = org
    world.users["property"] = user
    await world.services.projects.add_member(
        SYSTEM, world.id_of("p1"), ps.MembershipCreate(user_id=user.id, role=Role.viewer)
    )
    world.tokens["property"] = (await login(world.client, user.username))["access_token"]
    return "property"


async def photo(world: World, clock: FixedClock, name: str) -> str:
    return await announce(world, clock, name)
