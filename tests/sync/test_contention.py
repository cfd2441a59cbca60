"""Pushes that fight over rows: many tablets editing one record, and two pushes that lock the same
two records in opposite orders (a deadlock on PostgreSQL). Every mutation ends applied, or at worst
the push is a 503 with Retry-After: never a 500, never one lost."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import pytest

from inspection import db, records
from inspection.actor import Actor
from inspection.errors import Unavailable
from inspection.messages import t
from inspection.projects import schemas as s
from inspection.projects.tables import Site
from inspection.sync.service import SyncService
from tests.factories import World
from tests.rectification.helpers import actor_of

PATIENCE_S = 120


def edit(table: str, row: UUID, seq: int, changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": seq,
        "id": uuid.uuid4(),
        "name": f"{table}.update@1",
        "entity_id": str(row),
        "args": {"set": changes},
    }


def on_device(actor: Actor, device: str) -> Actor:
    return Actor(
        user_id=actor.user_id,
        username=actor.username,
        organisation_id=actor.organisation_id,
        organisation_kind=actor.organisation_kind,
        is_admin=actor.is_admin,
        device_id=device,
    )


async def test_ten_tablets_editing_one_site_all_apply(world: World) -> None:
    """The multi-tablet phase of bench/sync.py: every tablet edits the same site at once. An
    optimistic writer that lost the race reads the row again locked, so it cannot lose it again
    (before: up to three losses in a row, then 503, for 7 pushes of 10 on PostgreSQL)."""
    sync: SyncService = world.services.sync
    supervisor = actor_of(world, "supervisor")
    site = world.id_of("site1")
    for rnd in (1, 2):
        pushes = [
            sync.push(
                on_device(supervisor, f"hot-{n}"),
                f"hot-{n}",
                1,
                [edit("site", site, rnd, {"households": n + 10 * rnd})],
            )
            for n in range(10)
        ]
        outcomes = await asyncio.wait_for(asyncio.gather(*pushes, return_exceptions=True), PATIENCE_S)
        assert all(not isinstance(o, BaseException) for o in outcomes), outcomes
        assert [o[0][0]["status"] for o in outcomes] == ["applied"] * 10  # type: ignore[index]
    row = (await Site.select(Site.version).where(Site.id == site).first()) or {}
    assert row["version"] >= 2  # written, version by version, by whichever of them won each turn


async def test_a_record_that_lost_a_race_is_read_locked(world: World) -> None:
    """The mechanism itself, on PostgreSQL: inside a write, `contended` makes the read of that
    record wait for the transaction holding it (on SQLite, where one writer runs at a time,
    the read is the plain one)."""
    site = world.id_of("site1")
    lost = records.RaceLost(t("records.changed_at_the_same_moment"))
    lost.record = ("site", str(site))
    async with db.trace_statements() as seen:
        async with records.write(actor_of(world, "supervisor"), world.services.clock) as w:
            with records.contended([lost]):
                row = await records.load_row(Site, site)
            assert row is not None and row["id"] == site
            await records.load_row(Site, site)  # outside it: a plain read
            w.note("test", "site", site, {})
    reads = [q.strip() for q in seen if q.lstrip().upper().startswith("SELECT") and 'FROM "site"' in q]
    assert len(reads) == 2, seen
    assert reads[0].endswith("FOR UPDATE") is not db.is_sqlite(), reads
    assert not reads[1].endswith("FOR UPDATE"), reads


@pytest.mark.postgres_only
async def test_two_pushes_locking_two_buildings_in_opposite_orders(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Push A edits building 1 then 2; push B edits 2 then 1, on another device. Each holds its
    first building (its transaction is open) until the other holds its own: then each waits for
    the other, and PostgreSQL cancels one of them as a deadlock's victim (40P01). That push commits
    its first edit and runs the second again in a transaction of its own; both pushes end with
    both edits applied. Never a 500; a 503 would say Retry-After.

    A push locks its field edits' records up front, in key order (the next test), so two field
    edit pushes no longer deadlock; other commands still take their rows one by one. The retry
    is tested here with that up-front locking turned off."""

    async def hold_nothing(*args: Any) -> None:
        return None

    monkeypatch.setattr(SyncService, "_hold_edited", staticmethod(hold_nothing))
    projects = world.services.projects
    b1 = world.id_of("building1")
    b2 = (
        await projects.create_building(
            actor_of(world, "supervisor"), world.id_of("site1"), s.BuildingCreate(name="2号楼", floors=5)
        )
    ).id
    sync: SyncService = world.services.sync
    supervisor = actor_of(world, "supervisor")

    both_hold_one = asyncio.Barrier(2)
    held: set[int] = set()

    def hold_first(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def update(self: records.Write, *args: Any, **kw: Any) -> Any:
            written = await original(self, *args, **kw)
            if id(self.pending) not in held and len(held) < 2:
                held.add(id(self.pending))
                await asyncio.wait_for(both_hold_one.wait(), PATIENCE_S)  # each holds its first row now
            return written

        return update

    monkeypatch.setattr(records.Write, "update", hold_first(records.Write.update))
    victims: list[BaseException] = []
    transient = db.is_transient

    def counting(exc: BaseException) -> bool:
        if transient(exc):
            victims.append(exc)
        return transient(exc)

    monkeypatch.setattr(db, "is_transient", counting)

    a = sync.push(
        on_device(supervisor, "dl-a"),
        "dl-a",
        1,
        [edit("building", b1, 1, {"floors": 7}), edit("building", b2, 2, {"floors": 8})],
    )
    b = sync.push(
        on_device(supervisor, "dl-b"),
        "dl-b",
        1,
        [edit("building", b2, 1, {"units": 3}), edit("building", b1, 2, {"units": 4})],
    )
    outcomes = await asyncio.wait_for(asyncio.gather(a, b, return_exceptions=True), PATIENCE_S)

    assert victims, "the two pushes did not deadlock: the test did not test the retry"
    assert all(getattr(v, "sqlstate", None) == "40P01" for v in victims)
    for outcome in outcomes:
        if isinstance(outcome, Unavailable):
            assert outcome.status == 503 and outcome.retry_after > 0, outcome
            continue
        assert not isinstance(outcome, BaseException), outcome
        results, last = outcome
        assert [r["status"] for r in results] == ["applied", "applied"] and last == 2
    if not any(isinstance(o, BaseException) for o in outcomes):
        rows = {r["id"]: r for r in await db.raw("SELECT id, floors, units FROM building WHERE id IN ({}, {})", b1, b2)}
        assert (rows[b1]["floors"], rows[b2]["floors"], rows[b2]["units"], rows[b1]["units"]) == (7, 8, 3, 4)


@pytest.mark.postgres_only
async def test_field_edit_pushes_in_opposite_orders_queue_instead_of_deadlocking(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same two pushes as above, with the records locked up front in key order: push B
    waits for push A's rows (seen as a lock not granted), A commits, then B runs on what A left.
    No deadlock victim, both pushes applied, B's edits last."""
    projects = world.services.projects
    b1 = world.id_of("building1")
    b2 = (
        await projects.create_building(
            actor_of(world, "supervisor"), world.id_of("site1"), s.BuildingCreate(name="2号楼", floors=5)
        )
    ).id
    sync: SyncService = world.services.sync
    supervisor = actor_of(world, "supervisor")
    a_holds, release = asyncio.Event(), asyncio.Event()
    hold = records.Batch.hold

    async def hold_then_wait(self: records.Batch, table: Any, ids: Any, member: Any = None) -> None:
        await hold(self, table, ids, member)
        if not a_holds.is_set():
            a_holds.set()
            await asyncio.wait_for(release.wait(), PATIENCE_S)

    monkeypatch.setattr(records.Batch, "hold", hold_then_wait)
    victims: list[BaseException] = []
    transient = db.is_transient

    def counting(exc: BaseException) -> bool:
        if transient(exc):
            victims.append(exc)
        return transient(exc)

    monkeypatch.setattr(db, "is_transient", counting)
    a = asyncio.create_task(
        sync.push(
            on_device(supervisor, "q-a"),
            "q-a",
            1,
            [edit("building", b1, 1, {"floors": 7, "units": 1}), edit("building", b2, 2, {"floors": 8, "units": 2})],
        )
    )
    await asyncio.wait_for(a_holds.wait(), PATIENCE_S)
    b = asyncio.create_task(
        sync.push(
            on_device(supervisor, "q-b"),
            "q-b",
            1,
            [edit("building", b2, 1, {"units": 3}), edit("building", b1, 2, {"units": 4})],
        )
    )

    async def b_waits() -> None:
        while not (await db.raw("SELECT COUNT(*) AS n FROM pg_locks WHERE NOT granted"))[0]["n"]:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(b_waits(), PATIENCE_S)
    release.set()
    outcomes = await asyncio.wait_for(asyncio.gather(a, b), PATIENCE_S)
    assert not victims
    for results, last in outcomes:
        assert [r["status"] for r in results] == ["applied", "applied"] and last == 2
    rows = {r["id"]: r for r in await db.raw("SELECT id, floors, units FROM building WHERE id IN ({}, {})", b1, b2)}
    assert (rows[b1]["floors"], rows[b1]["units"], rows[b2]["floors"], rows[b2]["units"]) == (7, 4, 8, 3)
