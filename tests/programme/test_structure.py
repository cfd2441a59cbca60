"""The programme structure: projects that carried only a district string are placed without
losing anything; area offices see their area and below through viewer memberships that follow
placements and appointments; tablets receive the structure as reference data; bad input is
refused naming the field."""

from __future__ import annotations

import pytest

from inspection.actor import SYSTEM
from inspection.clock import FixedClock
from inspection.errors import Forbidden, NotFound, ValidationFailed
from inspection.programme import schemas as s
from inspection.programme.rules import AreaLevel, OfficeRole
from inspection.programme.structure import place_by_district
from inspection.programme.tables import Area, ProjectPlacement
from inspection.programme.tables import Programme as ProgrammeTable
from inspection.projects import schemas as ps
from inspection.projects.rules import Role
from inspection.projects.tables import Membership, Project
from inspection.records import write
from inspection.sync.rules import PULL_MIN
from tests.factories import World
from tests.programme.helpers import Programme


async def test_projects_with_only_a_district_are_placed_once_and_keep_it(world: World, clock: FixedClock) -> None:
    projects = world.services.projects
    await projects.update_project(
        SYSTEM, world.id_of("p1"), ps.ProjectUpdate(version=world.p1.version, district="长青区")
    )  # type: ignore[union-attr]
    older = await projects.create_project(
        SYSTEM, ps.ProjectCreate(code="OLD-2025", name="2025年项目", year=2025, district="长青区")
    )
    before = {p["id"]: (p["district"], p["year"], p["name"]) for p in await Project.select()}
    async with write(SYSTEM, clock) as w:
        assert await place_by_district(w) == 3
    async with write(SYSTEM, clock) as w:
        assert await place_by_district(w) == 0  # once
    after = {p["id"]: (p["district"], p["year"], p["name"]) for p in await Project.select()}
    assert after == before  # nothing lost or changed on the projects
    placed = await ProjectPlacement.select(
        ProjectPlacement.project,
        ProjectPlacement.area.name.as_alias("area"),
        ProjectPlacement.programme.year.as_alias("year"),
    )
    got = {p["project"]: (p["area"], p["year"]) for p in placed}
    assert got == {world.id_of("p1"): ("长青区", 2026), older.id: ("长青区", 2025), world.id_of("p2"): ("未分区", 2026)}
    names = sorted(p["name"] for p in await ProgrammeTable.select(ProgrammeTable.name))
    assert names == [
        "未分区2026年度老旧小区改造计划",
        "长青区2025年度老旧小区改造计划",
        "长青区2026年度老旧小区改造计划",
    ]


async def _member_roles(user_id: object) -> dict[object, set[str]]:
    rows = await Membership.select(Membership.project, Membership.role).where(
        (Membership.user == user_id) & Membership.deleted.eq(False)
    )
    out: dict[object, set[str]] = {}
    for r in rows:
        out.setdefault(r["project"], set()).add(r["role"])
    return out


async def test_offices_see_their_area_and_below(programme: Programme) -> None:
    p, world = programme, programme.world
    p1, p2 = world.id_of("p1"), world.id_of("p2")
    east, west, office = world.users["east"].id, world.users["west"].id, world.users["office"].id
    assert await _member_roles(east) == {p1: {"viewer"}}
    assert await _member_roles(west) == {p2: {"viewer"}}
    assert await _member_roles(office) == {p1: {"viewer"}, p2: {"viewer"}}
    # what every domain's own rules then allow: the east office reads P1's orders, not P2's project
    r = await world.get("east", f"/api/v1/projects/{p1}")
    assert r.status_code == 200
    r = await world.get("east", f"/api/v1/projects/{p2}")
    assert r.status_code == 404
    # moving P1 to 西街道 moves the view with it
    await p.svc.place_project(SYSTEM, p1, s.PlacementIn(programme_id=p.id, area_id=p.areas["west"]))
    assert await _member_roles(east) == {}
    assert await _member_roles(west) == {p1: {"viewer"}, p2: {"viewer"}}
    # a viewer the person already was stays when the office goes
    await world.services.projects.add_member(SYSTEM, p2, ps.MembershipCreate(user_id=east, role=Role.viewer))
    offices = {o.user_id: o for o in await p.svc.offices(SYSTEM)}
    await p.svc.appoint(SYSTEM, s.OfficeCreate(user_id=east, area_id=p.areas["west"], role=OfficeRole.street_office))
    await p.svc.dismiss(SYSTEM, offices[west].id)
    assert await _member_roles(west) == {}
    for office_row in await p.svc.offices(SYSTEM):
        if office_row.user_id == east:
            await p.svc.dismiss(SYSTEM, office_row.id)
    assert await _member_roles(east) == {p2: {"viewer"}}


async def test_who_changes_the_structure(programme: Programme) -> None:
    p = programme
    east, office = p.actor("east"), p.actor("office")
    with pytest.raises(Forbidden):
        await p.svc.create_programme(east, s.ProgrammeCreate(name="x", area_id=p.areas["east"], year=2027))
    with pytest.raises(NotFound):
        await p.svc.get_programme(p.actor("contractor_a"), p.id)
    assert (await p.svc.get_programme(east, p.id)).access == "street"
    assert (await p.svc.get_programme(office, p.id)).access == "manage"
    # the programme office adds a community under its district and places projects in it
    community = await p.svc.create_area(
        office, s.AreaCreate(name="西一社区", level=AreaLevel.community, parent_id=p.areas["west"])
    )
    await p.svc.place_project(office, p.world.id_of("p2"), s.PlacementIn(programme_id=p.id, area_id=community.id))
    with pytest.raises(Forbidden):
        await p.svc.create_area(east, s.AreaCreate(name="x", level=AreaLevel.community, parent_id=p.areas["west"]))
    with pytest.raises(ValidationFailed) as bad:
        await p.svc.create_area(office, s.AreaCreate(name="x", level=AreaLevel.county, parent_id=p.areas["west"]))
    assert bad.value.field == "level"
    with pytest.raises(ValidationFailed) as bad:  # the city is above the programme's district
        await p.svc.place_project(
            office, p.world.id_of("p2"), s.PlacementIn(programme_id=p.id, area_id=p.areas["city"])
        )
    assert bad.value.field == "area_id"
    with pytest.raises(ValidationFailed) as bad:
        await p.svc.appoint(
            office,
            s.OfficeCreate(
                user_id=p.world.users["viewer"].id, area_id=p.areas["west"], role=OfficeRole.programme_office
            ),
        )
    assert bad.value.field == "role"


async def test_tablets_receive_the_areas_as_reference_data(programme: Programme) -> None:
    world = programme.world
    pulled: dict[str, list[dict[str, object]]] = {}
    cursor = None
    for _ in range(20):
        page = await world.services.sync.pull(programme.actor("contractor_b"), "tablet-b", cursor, PULL_MIN)
        for table in page.changes:
            pulled.setdefault(table, []).extend(page.upserts(table))
        cursor = page.cursor
        if not page.has_more:
            break
    assert {a["name"] for a in pulled["area"]} == {"示范市", "长青区", "东街道", "西街道", "东一社区"}
    # the programme, its batches and placements, offices, grants, evaluations, grades and residents'
    # answers are read through the API by the offices only, and never reach a tablet
    for private in (
        "programme",
        "programme_batch",
        "project_placement",
        "area_office",
        "office_grant",
        "evaluation_revision",
        "credit_grade",
        "survey_answer",
    ):
        assert private not in pulled
    assert await Area.count() == 5


__all__ = ["pytest"]
