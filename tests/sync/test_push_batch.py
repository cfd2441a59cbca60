"""A push applies its mutations in a few transactions, one savepoint each: what a refused or
failing mutation leaves behind (nothing), what its neighbours do (apply), and what a retry gets
(the stored outcomes). On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from inspection import db
from inspection.audit import service as audit
from inspection.errors import ValidationFailed
from inspection.messages import t
from inspection.projects.schemas import Input
from inspection.projects.tables import Building, Site
from inspection.records import context_buckets
from inspection.sync import service as sync_service
from inspection.sync.commands import COMMANDS, Command, CommandContext, Outcome
from tests.factories import World

DEVICE = "test-device"  # the device the world's sessions signed in on
HALF = "half-written"


class Where(Input, kw_only=True):
    project: uuid.UUID
    site: uuid.UUID
    building: uuid.UUID


async def _half_then(ctx: CommandContext, args: Where, failure: Exception) -> Outcome:
    """Writes a building and a site change through the write path, then fails."""
    await ctx.w.insert(
        Building,
        {"id": args.building, "project": args.project, "site": args.site, "name": HALF},
        context_buckets(args.project),
    )
    await ctx.w.update(Site, args.site, {"name": HALF}, context_buckets(args.project))
    raise failure


async def half_then_refused(ctx: CommandContext, args: Where) -> Outcome:
    return await _half_then(ctx, args, ValidationFailed(t("records.text_must_not_contain_nul_character"), field="args"))


async def half_then_broken(ctx: CommandContext, args: Where) -> Outcome:
    await ctx.w.insert(
        Building,
        {"id": args.building, "project": args.project, "site": args.site, "name": HALF},
        context_buckets(args.project),
    )
    await db.raw("SELECT * FROM no_such_table")  # on PostgreSQL this also aborts the transaction
    return Outcome("applied")


@pytest.fixture(autouse=True)
def test_mutations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(COMMANDS, "test.half_refused@1", Command(Where, half_then_refused))
    monkeypatch.setitem(COMMANDS, "test.half_broken@1", Command(Where, half_then_broken))


def site_edit(world: World, seq: int, households: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "id": str(uuid.uuid4()),
        "name": "site.update@1",
        "entity_id": str(world.id_of("site1")),
        "args": {"set": {"households": households}},
    }


def half_written(world: World, seq: int, name: str, building: uuid.UUID) -> dict[str, Any]:
    return {
        "seq": seq,
        "id": str(uuid.uuid4()),
        "name": name,
        "args": {"project": str(world.id_of("p1")), "site": str(world.id_of("site1")), "building": str(building)},
    }


async def push(world: World, mutations: list[dict[str, Any]]) -> Any:
    return await world.post(
        "owner", "/api/v1/sync/push", {"device_id": DEVICE, "schema_version": 1, "mutations": mutations}
    )


async def assert_nothing_left_of(world: World, building: uuid.UUID) -> None:
    site = await Site.select(Site.name).where(Site.id == world.id_of("site1")).first()
    assert site is not None and site["name"] != HALF
    assert await Building.count().where(Building.id == building) == 0
    assert await db.raw("SELECT seq FROM sync_change WHERE row_id = {}", building) == []
    entries = await db.raw("SELECT record_id, changes FROM audit_entry")
    assert all(e["record_id"] != str(building) and HALF not in e["changes"] for e in entries)
    verified = await audit.verify()
    assert verified.ok, verified.reason


async def test_a_refused_mutation_in_the_middle_leaves_nothing_and_its_neighbours_apply(world: World) -> None:
    building = uuid.uuid4()
    batch = [site_edit(world, 1, 11), half_written(world, 2, "test.half_refused@1", building), site_edit(world, 3, 13)]
    audit_before = (await db.raw("SELECT COUNT(*) AS n FROM audit_entry"))[0]["n"]

    r = await push(world, batch)
    assert r.status_code == 200, r.text
    first, refused, third = r.json()["results"]
    assert [first["status"], refused["status"], third["status"]] == ["applied", "rejected", "applied"]
    assert refused["code"] == "validation" and refused["field"] == "args"
    assert r.json()["last_mutation_seq"] == 3, "a refusal never blocks the queue"
    assert first["commit_seq"] < third["commit_seq"], "each mutation keeps its own number, in order"

    await assert_nothing_left_of(world, building)
    site = await Site.select(Site.households, Site.version).where(Site.id == world.id_of("site1")).first()
    assert site == {"households": 13, "version": third["version"]}
    assert third["version"] == first["version"] + 1, "a record's version counts its writes"
    index = await db.raw("SELECT DISTINCT seq FROM sync_change WHERE row_id = {}", world.id_of("site1"))
    assert [row["seq"] for row in index] == [third["commit_seq"]]
    audit_after = (await db.raw("SELECT COUNT(*) AS n FROM audit_entry"))[0]["n"]
    assert audit_after == audit_before + 2

    # the answer was lost: the same batch again gets the same outcomes, and applies nothing twice
    again = await push(world, batch)
    assert again.status_code == 200
    assert again.json()["results"] == r.json()["results"]
    assert (await db.raw("SELECT COUNT(*) AS n FROM audit_entry"))[0]["n"] == audit_after
    stored = await db.raw("SELECT seq, status FROM sync_mutation ORDER BY seq")
    assert [(s["seq"], s["status"]) for s in stored] == [(1, "applied"), (2, "rejected"), (3, "applied")]


async def test_batches_longer_than_one_transaction(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_service, "PUSH_TX_MUTATIONS", 2)
    building = uuid.uuid4()
    batch = [site_edit(world, i, 100 + i) for i in range(1, 8)]
    batch[3] = half_written(world, 4, "test.half_refused@1", building)  # the first of a transaction
    batch[4] = {**batch[4], "seq": 5}
    r = await push(world, batch)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["applied"] * 3 + ["rejected"] + ["applied"] * 3
    seqs = [x["commit_seq"] for x in results if x["status"] == "applied"]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    await assert_nothing_left_of(world, building)
    scope = await db.raw("SELECT seq FROM sync_scope WHERE scope = {}", world.id_of("p1"))
    assert scope[0]["seq"] >= seqs[-1], "the project's sequence never falls behind a number in use"
    again = await push(world, batch)
    assert again.json()["results"] == results


async def test_a_failure_stops_the_push_after_committing_what_came_before(world: World) -> None:
    building = uuid.uuid4()
    batch = [site_edit(world, 1, 21), site_edit(world, 2, 22), half_written(world, 3, "test.half_broken@1", building)]
    batch.append(site_edit(world, 4, 24))
    r = await push(world, batch)
    assert r.status_code == 500
    await assert_nothing_left_of(world, building)
    stored = await db.raw("SELECT seq FROM sync_mutation ORDER BY seq")
    assert [s["seq"] for s in stored] == [1, 2], "the mutations before the failure are kept"
    site = await Site.select(Site.households).where(Site.id == world.id_of("site1")).first()
    assert site == {"households": 22}

    # the tablet's user replaces the change that failed, and the rest applies once
    batch[2] = site_edit(world, 3, 23)
    r = await push(world, batch)
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["applied"] * 4
    updates = await db.raw("SELECT COUNT(*) AS n FROM audit_entry WHERE table_name = 'site' AND action = 'update'")
    assert updates[0]["n"] == 4


async def test_a_gap_in_the_middle_keeps_what_came_before(world: World) -> None:
    r = await push(world, [site_edit(world, 1, 31), site_edit(world, 2, 32), site_edit(world, 4, 34)])
    assert r.status_code == 409 and r.json()["expected_seq"] == 3
    stored = await db.raw("SELECT seq FROM sync_mutation ORDER BY seq")
    assert [s["seq"] for s in stored] == [1, 2]
    r = await push(world, [site_edit(world, 3, 33)])
    assert r.status_code == 200 and r.json()["last_mutation_seq"] == 3
