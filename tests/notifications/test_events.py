"""Each event tells exactly its people, once: an order's moves, a stop and its resumption, a
complaint, a hold point waiting, today's inspections; in Chinese, naming the place, with local
times and the record's link, never a code, a UUID or a UTC stamp."""

from __future__ import annotations

import re
from datetime import timedelta

import msgspec
import pytest

from inspection.actor import SYSTEM
from inspection.alerts.schemas import ScheduleCreate
from inspection.clock import FixedClock
from inspection.complaints import schemas as cs
from inspection.messages import t
from inspection.notifications.kinds import Kind
from inspection.notifications.outbox import Event, notify, portal_link
from inspection.records import write
from inspection.rectification import schemas as s
from inspection.rectification.rules import OrderKind, OrderState, Severity
from tests.alerts.helpers import run
from tests.factories import World
from tests.notifications.helpers import choose, held, messages, told
from tests.rectification.helpers import actor_of, order_in

UTC_STAMP = re.compile(r"\d{2}:\d{2}:\d{2}|\+00:00|T\d{2}:")
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")


def readable(text: str) -> None:
    """Chinese, to the minute, local; its only UUID is inside the link."""
    assert re.search(r"[\u4e00-\u9fff]", text), text
    assert not UTC_STAMP.search(text), text
    assert not UUID_TEXT.search(text.split("http")[0]), text
    assert "/portal/" in text, text


async def test_an_orders_moves_tell_each_party_once(world: World, clock: FixedClock) -> None:
    svc = world.services.rectification
    inspector, contractor = actor_of(world, "inspector"), actor_of(world, "contractor_a")
    oid = await order_in(svc, world, clock, OrderState.issued)
    # issued: contractor A's site manager, nobody else (contractor B, the owner, the issuer)
    assert await told(world, "order_issued", oid) == ["contractor_a"]
    (text,) = await messages("order_issued", oid)
    readable(text)
    assert "屋面防水改造" in text and "1号楼" in text and "质量整改通知单" in text
    assert f"/portal/orders/{oid}" in text

    await svc.respond(contractor, oid, s.RespondBody(text="已返工"))
    assert await told(world, "order_answered", oid) == ["inspector"]  # its issuer
    await svc.reject(inspector, oid, s.RejectBody(reason="照片不清", deadline=clock.now() + timedelta(days=2)))
    assert await told(world, "order_returned", oid) == ["contractor_a"]
    (returned,) = await messages("order_returned", oid)
    readable(returned)
    assert "照片不清" in returned
    # a second answer is a new occurrence: the issuer hears of it too, once
    await svc.respond(contractor, oid, s.RespondBody(text="重新拍照"))
    assert await told(world, "order_answered", oid) == ["inspector", "inspector"]
    await svc.accept(inspector, oid, s.AcceptBody(note="复查合格"))
    assert await told(world, "order_closed", oid) == ["contractor_a"]
    readable((await messages("order_closed", oid))[0])
    # nobody heard of a move they made themselves, nor of another's order
    assert await told(world, "order_issued") == ["contractor_a"]


async def test_a_cancelled_order_tells_the_contractor_and_its_issuer_once(world: World, clock: FixedClock) -> None:
    svc = world.services.rectification
    inspector, supervisor = actor_of(world, "inspector"), actor_of(world, "supervisor")
    # cancelled by its issuer: contractor A's site manager hears of it, the issuer does not
    mine = await order_in(svc, world, clock, OrderState.issued)
    await svc.cancel(inspector, mine, s.CancelBody(reason="检查对象有误"))
    assert await told(world, "order_cancelled", mine) == ["contractor_a"]
    (text,) = await messages("order_cancelled", mine)
    readable(text)
    assert "检查对象有误" in text and "质量整改通知单" in text and "撤销" in text and f"/portal/orders/{mine}" in text
    # cancelled by someone else once answered: the issuer hears of it too
    answered = await order_in(svc, world, clock, OrderState.responded)
    await svc.cancel(supervisor, answered, s.CancelBody(reason="已另行处理"))
    assert await told(world, "order_cancelled", answered) == ["contractor_a", "inspector"]
    # a draft never reached anybody: nobody hears of its end
    draft = await order_in(svc, world, clock, OrderState.draft)
    await svc.cancel(inspector, draft, s.CancelBody(reason="重复"))
    assert await told(world, "order_cancelled", draft) == []
    # the contractor who chose the digest for it finds it there, not in the feed
    await choose(world, "contractor_a", "order_cancelled", "digest")
    later = await order_in(svc, world, clock, OrderState.issued)
    await svc.cancel(inspector, later, s.CancelBody(reason="图纸变更"))
    assert await told(world, "order_cancelled", later) == []
    assert [h["kind"] for h in await held(world, "contractor_a")] == ["order_cancelled"]


async def test_the_same_event_twice_tells_once(world: World, clock: FixedClock) -> None:
    oid = await order_in(world.services.rectification, world, clock, OrderState.issued)
    event = Event(
        kind=Kind.order_issued,
        project_id=world.id_of("p1"),
        subject_table="rectification_order",
        subject_id=oid,
        text=t("notify.order_closed", place="某小区", kind="整改通知单", at=clock.now(), link=portal_link("/portal/")),
        users=[world.users["contractor_a"].id, world.users["contractor_a"].id],
        occurrence=1,
    )
    async with write(SYSTEM, clock) as w:
        assert await notify(w, event) == 0  # issuing told contractor A already
    assert await told(world, "order_issued", oid) == ["contractor_a"]


async def test_a_stop_and_its_resumption_tell_contractor_owner_and_station(world: World, clock: FixedClock) -> None:
    svc = world.services.rectification
    # mandatory: a preference to be left out is not honoured (the API refuses to store one)
    await choose(world, "owner", "stop_work", "off")
    await choose(world, "authority", "work_resumed", "digest")
    oid = await order_in(svc, world, clock, OrderState.issued, kind=OrderKind.stop_work, severity=Severity.major)
    assert await told(world, "stop_work", oid) == ["authority", "contractor_a", "owner"]
    assert await told(world, "order_issued", oid) == []  # a stop is told as a stop, once
    readable((await messages("stop_work", oid))[0])
    await svc.respond(actor_of(world, "contractor_a"), oid, s.RespondBody(text="已整改"))
    await svc.accept(actor_of(world, "inspector"), oid, s.AcceptBody(note="合格"))
    await svc.resume(actor_of(world, "supervisor"), oid, s.ResumeBody(note="同意复工"))
    assert await told(world, "work_resumed", oid) == ["authority", "contractor_a", "owner"]
    (text,) = set(await messages("work_resumed", oid))  # the same words for each of them
    readable(text)
    assert "复工" in text


async def test_a_complaint_tells_the_projects_office_side(world: World, clock: FixedClock) -> None:
    receipt = await world.services.complaints.submit(
        world.id_of("site1"), cs.ComplaintIn(text="工地夜间施工噪音很大，影响休息", contact="13800000000")
    )
    assert receipt.reference
    from inspection.complaints.tables import Complaint

    row = await Complaint.select(Complaint.id).first()
    assert row is not None
    # inspector, supervisor, owner and authority read complaints; contractors, residents, viewers do not
    assert await told(world, "complaint_filed", row["id"]) == ["authority", "inspector", "owner", "supervisor"]
    (text,) = set(await messages("complaint_filed", row["id"]))
    readable(text)
    assert receipt.reference in text and "13800000000" not in text and "噪音" not in text


@pytest.mark.usefixtures("templates")
async def test_a_hold_point_waiting_tells_the_supervisor(world: World, clock: FixedClock) -> None:
    wid = world.id_of("work_a")
    r = await world.post("contractor_a", f"/api/v1/supervision/work-items/{wid}/points/base-hidden/start", {})
    assert r.status_code == 200, r.text
    assert await told(world, "hold_point_waiting") == ["supervisor"]
    (text,) = await messages_of_kind("hold_point_waiting")
    readable(text)
    assert "屋面防水改造" in text
    # a witness point is no hold point: nobody is called
    r = await world.post("contractor_a", f"/api/v1/supervision/work-items/{wid}/points/membrane-sampling/start", {})
    assert r.status_code == 200, r.text
    assert await told(world, "hold_point_waiting") == ["supervisor"]


async def messages_of_kind(kind: str) -> list[str]:
    from inspection.notifications.outbox_tables import Notification

    return [r["message"] for r in await Notification.select(Notification.message).where(Notification.kind == kind)]


async def test_todays_inspection_tells_its_inspector_in_the_morning_once(world: World, clock: FixedClock) -> None:
    today = clock.today()
    body = {
        "project_id": str(world.id_of("p1")),
        "site_id": str(world.id_of("site1")),
        "title": "脚手架安全巡查",
        "kind": "safety",
        "frequency": "daily",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=1)).isoformat(),
        "role": "inspector",
    }
    await world.services.alerts.create_schedule(actor_of(world, "supervisor"), msgspec.convert(body, ScheduleCreate))
    local = clock.now().astimezone(clock.tz)
    # 05:00 local the same day: the occurrences are made, nobody is woken
    clock.set(clock.now() - timedelta(hours=local.hour - 5, minutes=local.minute))
    await run("inspection_occurrences", world.services.settings, clock)
    assert await told(world, "inspection_today") == []
    clock.set(clock.now() + timedelta(hours=2))  # 07:00
    for _ in range(2):
        await run("inspection_occurrences", world.services.settings, clock)
    assert await told(world, "inspection_today") == ["inspector"]  # today's only, once
    (text,) = await messages_of_kind("inspection_today")
    readable(text)
    assert "脚手架安全巡查" in text and today.isoformat() in text
    # the next morning, the next day's
    clock.advance(timedelta(days=1))
    await run("inspection_occurrences", world.services.settings, clock)
    assert await told(world, "inspection_today") == ["inspector", "inspector"]
