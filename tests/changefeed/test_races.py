"""What the global change counter used to protect by making every writer wait, each with its own
protection now, each raced: two requests that must not both win. On PostgreSQL the racers are
made to read before either writes (a barrier at their first write); SQLite lets one writer in
at a time, so there they run one after the other and the same rules must hold."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from inspection import db, records
from inspection.actor import SYSTEM
from inspection.errors import DomainError
from inspection.notifications.outbox import notify_once
from inspection.notifications.outbox_tables import Notification
from inspection.projects.access import project_access
from inspection.projects.tables import Membership, Site
from inspection.records import write
from inspection.rectification import schemas as rs
from inspection.rectification.rules import OrderState
from inspection.reports.register import register
from tests.conftest import IS_SQLITE
from tests.factories import World
from tests.rectification.helpers import actor_of, order_in
from tests.samples.helpers import new_batch, sample_on

PATIENCE_S = 120


@pytest.fixture
def meet_before_writing(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """On PostgreSQL: the next `parties` write transactions each wait at their first insert or
    update until all of them got there, so all have read before any writes."""

    def install(parties: int) -> None:
        if IS_SQLITE:
            return
        barrier = asyncio.Barrier(parties)
        met: set[int] = set()

        def waiting(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            async def first_waits(self: records.Write, *args: Any, **kw: Any) -> Any:
                if id(self.pending) not in met and len(met) < parties:
                    met.add(id(self.pending))
                    await asyncio.wait_for(barrier.wait(), PATIENCE_S)
                return await original(self, *args, **kw)

            return first_waits

        monkeypatch.setattr(records.Write, "update", waiting(records.Write.update))
        monkeypatch.setattr(records.Write, "insert", waiting(records.Write.insert))

    return install


async def _both(*calls: Awaitable[Any]) -> list[Any]:
    return await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), PATIENCE_S)


async def test_two_moves_of_one_order_one_wins(world: World, clock, meet_before_writing) -> None:  # type: ignore[no-untyped-def]
    """Accept and send back the same answered order at once: one moves it, the other gets 409."""
    svc = world.services.rectification
    oid = await order_in(svc, world, clock, OrderState.responded)
    version = (await svc.get_order(actor_of(world, "inspector"), oid)).order.version
    meet_before_writing(2)
    inspector, supervisor = actor_of(world, "inspector"), actor_of(world, "supervisor")
    outcomes = await _both(
        svc.accept(inspector, oid, rs.AcceptBody(version=version, note="复查合格")),
        svc.reject(
            supervisor, oid, rs.RejectBody(version=version, reason="照片不清", deadline=clock.now() + timedelta(days=2))
        ),
    )
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1, outcomes
    assert isinstance(refused[0], DomainError) and refused[0].status == 409
    final = (await svc.get_order(inspector, oid)).order
    assert final.version == version + 1, "moved once"


async def test_concurrent_documents_get_distinct_numbers(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    """Eight different documents at once: eight numbers, none twice, none skipped; the same
    content at once: one number."""
    owner = actor_of(world, "owner")
    p1 = world.id_of("p1")
    issued = await _both(*(register(owner, clock, "weekly", p1, p1, f"{n:064x}") for n in range(8)))
    assert not [i for i in issued if isinstance(i, Exception)], issued
    serials = sorted(int(i.number.rsplit("-", 1)[-1]) for i in issued)
    assert serials == list(range(1, 9)), [i.number for i in issued]
    same = await _both(*(register(owner, clock, "weekly", p1, p1, "f" * 64) for _ in range(4)))
    assert len({i.number for i in same}) == 1 and sum(i.first_time for i in same) == 1


async def test_a_notification_is_made_once_by_racing_transactions(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    made: list[int] = []
    inside = asyncio.Barrier(1 if IS_SQLITE else 2)

    async def notify() -> None:
        async with write(SYSTEM, clock):
            await asyncio.wait_for(inside.wait(), PATIENCE_S)  # both inside their transactions
            made.append(
                await notify_once(
                    ("user", world.users["owner"].id),
                    kind="overdue",
                    subject_table="rectification_order",
                    subject_id=world.id_of("p1"),
                    rule="overdue",
                    occurrence=0,
                    threshold=1,
                    project_id=world.id_of("p1"),
                    message="整改超期",
                    at=clock.now(),
                )
            )

    outcomes = await _both(notify(), notify())
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sorted(made) == [0, 1]
    assert await Notification.count().where(Notification.subject_id == world.id_of("p1")) == 1


async def test_one_label_code_two_samples_one_wins(world: World, meet_before_writing) -> None:  # type: ignore[no-untyped-def]
    batch = (await new_batch(world)).batch
    meet_before_writing(2)
    outcomes = await _both(
        sample_on(world, batch.id, label_code="GJ-RACE"), sample_on(world, batch.id, label_code="GJ-RACE")
    )
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1, outcomes
    assert isinstance(refused[0], DomainError) and refused[0].status == 409 and refused[0].field == "label_code"


@pytest.mark.postgres_only  # on SQLite the removal simply waits for the writer's transaction
async def test_a_membership_removed_during_a_write_waits_for_it(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    """A write checks its author's membership (and keeps it, remembered for the rest of the
    transaction); removing that membership meanwhile waits for the write to commit, so the write
    is never one by someone no longer a member."""
    p1, inspector = world.id_of("p1"), actor_of(world, "inspector")
    checked, go = asyncio.Event(), asyncio.Event()

    async def member_writes() -> None:
        async with write(inspector, clock) as w:
            await project_access(inspector, p1)
            checked.set()
            await go.wait()
            await w.update(Site, world.id_of("site1"), {"address": "门牌一号"}, records.context_buckets(p1))

    membership = (
        await Membership.select(Membership.id)
        .where((Membership.project == p1) & (Membership.user == inspector.user_id))
        .first()
    )
    assert membership is not None
    writing = asyncio.create_task(member_writes())
    await asyncio.wait_for(checked.wait(), PATIENCE_S)
    removing = asyncio.create_task(
        world.services.projects.remove_member(actor_of(world, "owner"), p1, membership["id"])
    )
    while not (await db.raw("SELECT COUNT(*) AS n FROM pg_locks WHERE NOT granted"))[0]["n"]:
        await asyncio.sleep(0.01)  # the removal waits for the writer's lock on the membership
    assert not removing.done()
    go.set()
    await asyncio.wait_for(asyncio.gather(writing, removing), PATIENCE_S)
    order = await db.raw(
        "SELECT table_name, action FROM audit_entry WHERE scope = {} AND table_name IN ('site', 'membership')"
        " ORDER BY scope_no DESC LIMIT 2",
        p1,
    )
    assert [(r["table_name"], r["action"]) for r in order] == [("membership", "delete"), ("site", "update")]
