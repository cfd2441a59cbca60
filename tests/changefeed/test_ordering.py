"""Changes are numbered per project at commit: concurrent writers in several projects, pullers
paging through them, a transaction held open in one project, writers taking projects in opposite
orders. On PostgreSQL, where writers really run side by side (SQLite has one writer at a time)."""

from __future__ import annotations

import asyncio
import random
from uuid import UUID

import pytest

from inspection import db
from inspection.actor import SYSTEM
from inspection.records import write
from tests.changefeed.conftest import Land, Tablet

pytestmark = pytest.mark.postgres_only

# a bound on waiting for something that must happen, never a measure of how fast it happens
PATIENCE_S = 120


async def _waiting_for_a_lock() -> None:
    """Until some session of this database waits for a row lock."""
    while not (await db.raw("SELECT COUNT(*) AS n FROM pg_locks WHERE NOT granted"))[0]["n"]:
        await asyncio.sleep(0.01)


async def test_pullers_get_every_committed_pair_whole(land: Land, clock, around_scope_lock) -> None:  # type: ignore[no-untyped-def]
    """Four projects; writers insert pairs in one transaction, pausing before and after they take
    the scope lock; one writer's pairs span two projects; pullers page with limit 3. The ids
    pulled are the ids committed, and after every complete pull each pair is whole or absent."""
    rng = random.Random(17)

    async def pause(scopes: list[UUID]) -> None:
        await asyncio.sleep(rng.choice([0, 0, 0.002, 0.01]))

    around_scope_lock(pause, pause)
    pairs: list[tuple[str, str]] = []
    done = asyncio.Event()

    async def writer(n: int, projects: list[UUID]) -> None:
        for i in range(8):
            async with write(SYSTEM, clock) as w:
                if len(set(projects)) > 1:
                    w.allow_projects(*projects)
                a = await land.add_building(w, projects[0], f"w{n}-{i}-a")
                await asyncio.sleep(rng.choice([0, 0.003]))
                b = await land.add_building(w, projects[-1], f"w{n}-{i}-b")
            pairs.append((a, b))

    broken: list[str] = []

    async def puller() -> Tablet:
        tablet = Tablet(land)
        while True:
            finished = done.is_set()
            await tablet.pull(limit=3)
            for a, b in list(pairs):  # committed before this complete pull ended: both or neither
                if (a in tablet.rows) != (b in tablet.rows):
                    broken.append(f"pair {a}, {b} half there after a complete pull")
            if finished:
                return tablet
            await asyncio.sleep(0.005)

    p = land.projects
    pulling = [asyncio.create_task(puller()) for _ in range(2)]
    await asyncio.wait_for(
        asyncio.gather(
            writer(0, [p[0]]), writer(1, [p[1]]), writer(2, [p[2]]), writer(3, [p[3]]), writer(4, [p[0], p[3]])
        ),
        PATIENCE_S,
    )
    done.set()
    tablets = await asyncio.wait_for(asyncio.gather(*pulling), PATIENCE_S)
    committed = {x for pair in pairs for x in pair}
    assert len(committed) == 5 * 8 * 2
    for tablet in tablets:
        assert set(tablet.rows) == committed, f"{len(committed - set(tablet.rows))} committed ids never pulled"
        assert tablet.pages > 10, "the pulls met the writers in many pages"
    assert broken == []


async def test_a_held_project_delays_no_other(land: Land, clock, around_scope_lock) -> None:  # type: ignore[no-untyped-def]
    """A transaction holding project A's scope lock does not delay a commit in B, which a pull
    then sees while A is still open; a second writer in A waits for the first."""
    a, b = land.projects[0], land.projects[1]
    held, release = asyncio.Event(), asyncio.Event()

    async def nothing(scopes: list[UUID]) -> None:
        return None

    async def hold_a(scopes: list[UUID]) -> None:
        if a in scopes and not held.is_set():
            held.set()
            await release.wait()

    around_scope_lock(nothing, hold_a)
    names: dict[str, str] = {}

    async def write_in(project: UUID, name: str) -> None:
        async with write(SYSTEM, clock) as w:
            names[name] = await land.add_building(w, project, name)

    first_in_a = asyncio.create_task(write_in(a, "a-1"))
    await asyncio.wait_for(held.wait(), PATIENCE_S)
    await asyncio.wait_for(write_in(b, "b-1"), PATIENCE_S)  # not behind A's lock
    tablet = Tablet(land)
    await tablet.pull(limit=2)
    assert sorted(tablet.rows.values()) == ["b-1"]
    second_in_a = asyncio.create_task(write_in(a, "a-2"))
    await asyncio.wait_for(_waiting_for_a_lock(), PATIENCE_S)  # a-2 queues for A's row
    assert not second_in_a.done()
    release.set()
    await asyncio.wait_for(asyncio.gather(first_in_a, second_in_a), PATIENCE_S)
    await tablet.pull(limit=2)
    assert sorted(tablet.rows.values()) == ["a-1", "a-2", "b-1"]
    seqs = await db.raw(
        "SELECT c.seq FROM sync_change c WHERE c.row_id IN ({}, {}) AND c.bucket = {} ORDER BY c.seq",
        UUID(names["a-1"]),
        UUID(names["a-2"]),
        f"project:{a}",
    )
    assert [r["seq"] for r in seqs] == sorted(r["seq"] for r in seqs) and len(seqs) == 2


async def test_writers_taking_projects_in_opposite_orders_never_deadlock(land: Land, clock, around_scope_lock) -> None:  # type: ignore[no-untyped-def]
    """Each transaction writes to two projects, half of them A then B, half B then A, pausing in
    between and at the lock: the scopes are locked in one order at commit, so all commit."""
    a, b = land.projects[0], land.projects[1]

    async def pause(scopes: list[UUID]) -> None:
        await asyncio.sleep(0.002)

    around_scope_lock(pause, pause)

    async def writer(first: UUID, second: UUID, n: int) -> None:
        for i in range(6):
            async with write(SYSTEM, clock) as w:
                w.allow_projects(first, second)
                await land.add_building(w, first, f"{n}-{i}-1")
                await asyncio.sleep(0.002)
                await land.add_building(w, second, f"{n}-{i}-2")

    await asyncio.wait_for(
        asyncio.gather(*(writer(a, b, n) if n % 2 else writer(b, a, n) for n in range(6))), PATIENCE_S
    )
    tablet = Tablet(land)
    await tablet.pull()
    assert len(tablet.rows) == 6 * 6 * 2
