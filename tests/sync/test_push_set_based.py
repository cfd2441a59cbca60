"""A push's field edits run set-based (issue 17): their records are read and locked in one statement
per table, and their compare-and-sets written together at the end, without a savepoint each. What
each edit does must be what it did one by one: the same outcomes, rows, conflict records, audit
entries and change index, and a chain that verifies. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from typing import Any
from uuid import UUID

import pytest

from inspection import db, records
from inspection.actor import SYSTEM
from inspection.audit import service as audit
from inspection.projects import schemas as s
from inspection.projects.tables import Building
from inspection.records import context_buckets
from inspection.sync import service as sync_service
from inspection.sync.service import SyncService
from tests.factories import World
from tests.rectification.helpers import actor_of
from tests.sync.test_contention import on_device

MISSING = UUID("5b0f3c1e-0000-4000-8000-00000000beef")


def edit(row: UUID, seq: int, changes: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {
        "seq": seq,
        "id": str(uuid.uuid4()),
        "name": "building.update@1",
        "entity_id": str(row),
        "args": {"set": changes},
    }
    if base is not None:
        m["base_values"] = base
    return m


async def buildings(world: World, n: int) -> list[UUID]:
    projects = world.services.projects
    supervisor = actor_of(world, "supervisor")
    made = []
    for i in range(n):
        b = await projects.create_building(
            supervisor, world.id_of("site1"), s.BuildingCreate(name=f"{i + 1}号楼", floors=5, units=2)
        )
        made.append(b.id)
    return made


def scenario(b: list[UUID]) -> list[dict[str, Any]]:
    """Every kind of outcome a field edit has, two edits of one record among them."""
    return [
        edit(b[0], 1, {"floors": 7}, {"floors": 5}),  # applied
        edit(b[0], 2, {"floors": 7}),  # noop: already so
        edit(b[0], 3, {"units": 3}, {"units": 2}),  # applied, the same record again
        edit(b[1], 4, {"floors": 9}, {"floors": 5}),  # someone else changed it: applied, conflict recorded
        edit(b[4], 5, {"floors": 2}, {"floors": 5}),  # deleted meanwhile: conflict recorded
        edit(MISSING, 6, {"floors": 2}),  # rejected: not found
        edit(b[2], 7, {"floors": "x"}),  # rejected: validation
        edit(b[2], 8, {"floors": 6}, {"floors": 5}),  # applied
        edit(b[3], 9, {"name": "楼" * 101}),  # rejected: too long
        {**edit(b[3], 10, {"units": 4}), "entity_id": "not-a-uuid"},  # rejected: entity_id
        edit(b[3], 11, {"units": 4, "name": "改名楼"}, {"units": 2}),  # applied
        edit(b[0], 12, {"floors": 8, "units": 3}, {"floors": 7, "units": 3}),  # applied, a third time
    ]


async def tombstone(world: World, building: UUID) -> None:
    async with records.write(SYSTEM, world.services.clock) as w:
        await w.tombstone(Building, building, context_buckets(world.id_of("p1")))


def shown(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in ("id", "commit_seq")}


async def what_became_of(b: list[UUID], device: str) -> list[Any]:
    """Per record: the row, its audit entries, its conflict records and its change index rows
    (the pushing device named as `device`)."""
    out: list[Any] = []
    for row_id in b:
        row = await db.raw(
            "SELECT floors, units, name, version, deleted, device_id FROM building WHERE id = {}", row_id
        )
        entries = await db.raw(
            "SELECT action, changes, device_id FROM audit_entry WHERE record_id = {} ORDER BY scope_no", str(row_id)
        )
        conflicts = await db.raw(
            "SELECT field, reason, kept_value, lost_value FROM sync_conflict WHERE record_id = {} ORDER BY kept_value",
            row_id,
        )
        index = await db.raw("SELECT bucket, deleted FROM sync_change WHERE row_id = {} ORDER BY bucket", row_id)
        out.append(
            (
                [{**r, "deleted": bool(r["deleted"]), "device_id": r["device_id"] == device} for r in row],
                [(e["action"], json.loads(e["changes"]), e["device_id"] == device) for e in entries],
                conflicts,
                [(i["bucket"], bool(i["deleted"])) for i in index],
            )
        )
    return out


async def test_field_edits_set_based_do_what_they_did_one_by_one(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    sync: SyncService = world.services.sync
    owner = actor_of(world, "owner")
    one_by_one, set_based = await buildings(world, 5), await buildings(world, 5)
    for b in (one_by_one, set_based):
        await tombstone(world, b[4])
        # someone else's edit since the tablet's copy: b[1] now has 4 floors
        await world.services.projects.update_building(
            actor_of(world, "supervisor"), b[1], s.BuildingUpdate(version=1, floors=4)
        )

    async def hold_nothing(*args: Any) -> None:
        return None

    with monkeypatch.context() as m:
        m.setattr(SyncService, "_hold_edited", staticmethod(hold_nothing))
        async with db.trace_statements() as seen_before:
            before, last_before = await sync.push(on_device(owner, "one-1"), "one-1", 1, scenario(one_by_one))
    async with db.trace_statements() as seen_after:
        after, last_after = await sync.push(on_device(owner, "set-1"), "set-1", 1, scenario(set_based))

    assert [r["status"] for r in after] == [
        "applied",
        "noop",
        "applied",
        "conflict_recorded",
        "conflict_recorded",
        "rejected",
        "rejected",
        "applied",
        "rejected",
        "rejected",
        "applied",
        "applied",
    ]
    assert [shown(r) for r in after] == [shown(r) for r in before]
    assert last_after == last_before == 12
    assert await what_became_of(set_based, "set-1") == await what_became_of(one_by_one, "one-1")
    assert after[11]["version"] == 4 and after[0]["commit_seq"] < after[2]["commit_seq"] < after[11]["commit_seq"]
    verified = await audit.verify()
    assert verified.ok, verified.reason
    # one statement for the records, one compare-and-set for all of them, no savepoint but for
    # the edits that insert a conflict record
    updates = [q for q in seen_after if q.lstrip().upper().startswith('UPDATE "BUILDING"')]
    assert len(updates) == 1, updates
    assert sum(q.upper().startswith("SAVEPOINT") for q in seen_after) == 2
    assert len(seen_after) < len(seen_before), (len(seen_after), len(seen_before))


async def test_a_push_of_many_edits_costs_statements_per_transaction_not_per_edit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_service, "PUSH_TX_SECONDS", 3600)  # bounded by count alone here
    sync: SyncService = world.services.sync
    owner = actor_of(world, "owner")
    b = await buildings(world, 30)
    await sync.push(on_device(owner, "many"), "many", 1, [edit(b[0], 1, {"households": 1})])  # first contact
    mutations = [edit(row, i + 2, {"households": 100 + i}) for i, row in enumerate(b)]
    mutations += [edit(row, 32 + i, {"floors": 10}) for i, row in enumerate(b)]
    async with db.trace_statements() as seen:
        results, last = await sync.push(on_device(owner, "many"), "many", 1, mutations)
    assert [r["status"] for r in results] == ["applied"] * 60 and last == 61
    transactions = -(-60 // sync_service.PUSH_TX_EDITS)
    # per transaction: BEGIN, the device, the records, the access check, the compare-and-set, the
    # scope lock, the commit's own rows (one statement on PostgreSQL, five on SQLite), COMMIT
    assert len(seen) <= transactions * (12 if db.is_sqlite() else 8), "\n".join(q[:100] for q in seen)
    rows = await db.raw("SELECT id, households, floors, version FROM building WHERE site = {}", world.id_of("site1"))
    by_id = {r["id"]: r for r in rows}
    for i, row in enumerate(b):
        assert (by_id[row]["households"], by_id[row]["floors"]) == (100 + i, 10)
        assert by_id[row]["version"] == (4 if i == 0 else 3)
    verified = await audit.verify()
    assert verified.ok, verified.reason


async def test_a_field_edit_after_another_command_reads_what_that_command_wrote(world: World) -> None:
    """A command that is no field edit runs after the held records' updates are written: it
    may read them by any means. Here a building is edited, then a site (not held), then the
    building again: all three apply in order, and the row holds both edits."""
    sync: SyncService = world.services.sync
    owner = actor_of(world, "owner")
    (b,) = await buildings(world, 1)
    site_edit = {
        "seq": 2,
        "id": str(uuid.uuid4()),
        "name": "site.update@1",
        "entity_id": str(world.id_of("site1")),
        "args": {"set": {"households": 77}},
    }
    other = {
        "seq": 3,
        "id": str(uuid.uuid4()),
        "name": "order.cancel@1",  # no field edit: refused (no such order), after the edits are written
        "entity_id": str(MISSING),
        "args": {"version": 1, "reason": "不需要"},
    }
    results, _ = await sync.push(
        on_device(owner, "mixed"),
        "mixed",
        1,
        [edit(b, 1, {"floors": 11}), site_edit, other, edit(b, 4, {"units": 5})],
    )
    assert [r["status"] for r in results] == ["applied", "applied", "rejected", "applied"], results
    row = await db.raw("SELECT floors, units, version FROM building WHERE id = {}", b)
    assert row == [{"floors": 11, "units": 5, "version": 3}]


async def test_an_edit_of_another_project_starts_the_next_transaction(world: World) -> None:
    """A held edit that turns out to be in another project is rolled back (with what it kept
    for the end) and runs in the next transaction; the first project's edits commit alone."""
    sync: SyncService = world.services.sync
    admin = actor_of(world, "admin")
    projects = world.services.projects
    other_project = await projects.create_project(SYSTEM, s.ProjectCreate(code="P-OTHER", name="另一项目", year=2026))
    other_site = await projects.create_site(SYSTEM, other_project.id, s.SiteCreate(name="另一小区"))
    other = await projects.create_building(SYSTEM, other_site.id, s.BuildingCreate(name="1号楼", floors=5))
    (b,) = await buildings(world, 1)
    results, last = await sync.push(
        on_device(admin, "two-projects"),
        "two-projects",
        1,
        [edit(b, 1, {"floors": 12}), edit(other.id, 2, {"floors": 13}), edit(b, 3, {"units": 6})],
    )
    assert [r["status"] for r in results] == ["applied"] * 3 and last == 3
    rows = {
        r["id"]: r
        for r in await db.raw("SELECT id, floors, units, version FROM building WHERE id IN ({}, {})", b, other.id)
    }
    assert (rows[b]["floors"], rows[b]["units"], rows[b]["version"]) == (12, 6, 3)
    assert (rows[other.id]["floors"], rows[other.id]["version"]) == (13, 2)
    verified = await audit.verify()
    assert verified.ok, verified.reason


async def test_savepoints_still_bound_a_transaction(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Edits that record a conflict take a savepoint each (their conflict record is a write):
    PUSH_TX_MUTATIONS of those end a transaction, however many edits it could hold."""
    monkeypatch.setattr(sync_service, "PUSH_TX_MUTATIONS", 2)
    monkeypatch.setattr(sync_service, "PUSH_TX_SECONDS", 3600)
    sync: SyncService = world.services.sync
    b = await buildings(world, 5)
    conflicting = [edit(row, i + 1, {"floors": 9}, {"floors": 4}) for i, row in enumerate(b)]  # it has 5
    async with db.trace_statements() as seen:
        results, last = await sync.push(on_device(actor_of(world, "owner"), "sp"), "sp", 1, conflicting)
    assert [r["status"] for r in results] == ["conflict_recorded"] * 5 and last == 5
    assert sum(q.upper().startswith("COMMIT") for q in seen) == 3
    conflicts = await db.raw("SELECT COUNT(*) AS n FROM sync_conflict WHERE reason = 'overwritten'")
    assert conflicts[0]["n"] == 5


async def test_records_of_projects_the_user_cannot_reach_are_not_locked(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Naming another project's record in a push must not hold it locked for the length of the
    pusher's transaction: only records of the user's own projects are held up front; the other
    edit is read and refused one by one, as before."""
    sync: SyncService = world.services.sync
    supervisor = actor_of(world, "supervisor")
    projects = world.services.projects
    other_project = await projects.create_project(SYSTEM, s.ProjectCreate(code="P-FAR", name="别的项目", year=2026))
    other_site = await projects.create_site(SYSTEM, other_project.id, s.SiteCreate(name="别的小区"))
    other = await projects.create_building(SYSTEM, other_site.id, s.BuildingCreate(name="1号楼", floors=5))
    (own,) = await buildings(world, 1)
    held: set[str] = set()
    original = records.Batch.hold

    async def spying(self: records.Batch, table: Any, ids: Any, member: Any = None) -> None:
        await original(self, table, ids, member)
        held.update(key[1] for key in self.held)

    monkeypatch.setattr(records.Batch, "hold", spying)
    results, _ = await sync.push(
        on_device(supervisor, "far"), "far", 1, [edit(other.id, 1, {"floors": 9}), edit(own, 2, {"floors": 9})]
    )
    assert held == {str(own)}
    assert [r["status"] for r in results] == ["rejected", "applied"]
    (row,) = await db.raw("SELECT floors, version FROM building WHERE id = {}", other.id)
    assert (row["floors"], row["version"]) == (5, 1)
