"""Rectification orders through sync: commands checked by the state machine, never field writes."""

from __future__ import annotations

from inspection.rectification import schemas as rs
from inspection.rectification.rules import OrderState
from inspection.rectification.service import RectificationService
from tests.factories import World
from tests.rectification.helpers import actor_of, announce, order_in
from tests.sync.conftest import Tablets


async def test_contractor_answers_offline_and_inspector_closes(world: World, tablets: Tablets, clock) -> None:  # type: ignore[no-untyped-def]
    svc = RectificationService(world.services.settings, clock)
    order_id = await order_in(svc, world, clock, OrderState.issued)
    contractor = await tablets("contractor_a")
    inspector = await tablets("inspector")
    await contractor.sync()
    await inspector.sync()
    assert str(order_id) in contractor.rows("rectification_order")
    photo = await announce(world, clock, "after-fix.jpg", org="contractor_a", stored=True)
    contractor.transport.offline = True  # type: ignore[attr-defined]
    contractor.enqueue("order.respond@1", order_id, {"text": "已按要求重新铺贴卷材", "photos": [photo]})
    contractor.transport.offline = False  # type: ignore[attr-defined]
    await contractor.sync()
    assert contractor.outbox()[0]["result"]["status"] == "applied"
    await inspector.pull()
    assert inspector.rows("rectification_order")[str(order_id)]["status"] == "responded"
    inspector.enqueue("order.accept@1", order_id, {"note": "复查合格"})
    await inspector.sync()
    assert inspector.outbox()[0]["result"]["server_state"] == "closed"
    await contractor.pull()
    assert contractor.rows("rectification_order")[str(order_id)]["status"] == "closed"


async def test_stale_tablets_cannot_reopen_a_closed_order(world: World, tablets: Tablets, clock) -> None:  # type: ignore[no-untyped-def]
    svc = RectificationService(world.services.settings, clock)
    order_id = await order_in(svc, world, clock, OrderState.responded)
    stale_inspector = await tablets("supervisor")
    stale_contractor = await tablets("contractor_a")
    await stale_inspector.sync()
    await stale_contractor.sync()
    await svc.accept(actor_of(world, "inspector"), order_id, rs.AcceptBody(note="合格"))
    stale_inspector.enqueue("order.accept@1", order_id, {"note": "我也看过了"})
    stale_inspector.enqueue("order.reject@1", order_id, {"reason": "再看看", "deadline": "2099-01-01T00:00:00Z"})
    stale_contractor.enqueue("order.respond@1", order_id, {"text": "再补一张照片"})
    await stale_inspector.sync()
    await stale_contractor.sync()
    results = [o["result"] for o in stale_inspector.outbox()]
    assert results[0]["status"] == "noop", "accepting an accepted order converges"
    assert (results[1]["status"], results[1]["current_state"]) == ("rejected", "closed")
    answer = stale_contractor.outbox()[0]["result"]
    assert (answer["status"], answer["current_state"]) == ("rejected", "closed")
    assert stale_contractor.rows("rectification_order")[str(order_id)]["status"] == "closed"


async def test_other_contractor_cannot_touch_the_order(world: World, tablets: Tablets, clock) -> None:  # type: ignore[no-untyped-def]
    svc = RectificationService(world.services.settings, clock)
    order_id = await order_in(svc, world, clock, OrderState.issued)
    other = await tablets("contractor_b")
    await other.sync()
    assert str(order_id) not in other.rows("rectification_order")
    other.enqueue("order.respond@1", order_id, {"text": "不是我们的"})
    await other.push()
    result = other.outbox()[0]["result"]
    assert (result["status"], result["code"]) == ("rejected", "not-found")


async def test_photo_taken_offline_survives_an_interrupted_upload(world: World, tablets: Tablets, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.evidence.conftest import jpeg

    svc = RectificationService(world.services.settings, clock)
    order_id = await order_in(svc, world, clock, OrderState.issued)
    contractor = await tablets("contractor_a")
    inspector = await tablets("inspector")
    await contractor.sync()
    contractor.transport.offline = True  # type: ignore[attr-defined]
    photo = contractor.add_photo(jpeg(seed=11), world.p1.id, name="after.jpg")  # type: ignore[union-attr]
    contractor.enqueue("order.respond@1", order_id, {"text": "管沟已回填并夯实", "photos": [photo]})
    contractor.transport.offline = False  # type: ignore[attr-defined]
    contractor.transport.cut_uploads = 1  # type: ignore[attr-defined]
    report = await contractor.sync()
    assert report.pushed == 1 and report.photos_sent == 0
    assert contractor.outbox()[0]["result"]["status"] == "applied", "the answer counts while its photo is pending"
    assert [p["status"] for p in contractor.photos()] == ["pending"]
    meta = await world.get("contractor_a", f"/api/v1/evidence/{photo}/meta")
    assert meta.json()["status"] == "pending", "half a photo is never kept"

    inspector.enqueue("order.accept@1", order_id, {"note": "照片还没到"})
    await inspector.sync()
    refused = inspector.outbox()[0]["result"]
    assert refused["status"] == "rejected", "an answer is not accepted while its photos are pending"

    report = await contractor.sync()
    assert report.photos_sent == 1 and [p["status"] for p in contractor.photos()] == ["stored"]
    meta = await world.get("contractor_a", f"/api/v1/evidence/{photo}/meta")
    assert meta.json()["status"] == "stored"
    inspector.enqueue("order.accept@1", order_id, {"note": "复查合格"})
    await inspector.sync()
    assert inspector.outbox()[1]["result"]["server_state"] == "closed"


async def test_answer_made_offline_before_the_deadline_counts_within_the_grace(
    world: World, tablets: Tablets, clock
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    svc = RectificationService(world.services.settings, clock)
    inspector = actor_of(world, "inspector")
    contractor = await tablets("contractor_a")

    results = {}
    for arrival_h in (5, 80):  # the grace is 72 h by default
        order_id = await order_in(svc, world, clock, OrderState.issued)
        deadline = (await svc.get_order(inspector, order_id)).order.deadline
        await contractor.sync()
        clock.set(deadline - timedelta(hours=2))
        contractor.transport.offline = True  # type: ignore[attr-defined]
        contractor.enqueue("order.respond@1", order_id, {"text": "楼道隔离围挡已补齐"})
        contractor.transport.offline = False  # type: ignore[attr-defined]
        clock.set(deadline + timedelta(hours=arrival_h))
        await contractor.sync()
        answer = (await svc.get_order(inspector, order_id)).responses[0]
        assert answer.responded_at == deadline + timedelta(hours=arrival_h), "server time is the time of record"
        assert answer.device_responded_at is not None
        assert abs(answer.device_responded_at - (deadline - timedelta(hours=2))) < timedelta(seconds=5)
        results[arrival_h] = answer.late
    assert results == {5: False, 80: True}
