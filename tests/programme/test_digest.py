"""The daily digest (日督导): a day's figures for each area office over the projects of its area,
sent once a day through the notification outbox (in-app feed, webhook, e-mail) and shown for any
day on request."""

from __future__ import annotations

import email
import json
from email import policy

import pytest

from inspection.actor import SYSTEM
from inspection.alerts.jobs import job_named
from inspection.alerts.runner import run_job
from inspection.checklists import schemas as cks
from inspection.clock import FixedClock
from inspection.errors import NotFound, ValidationFailed
from inspection.notifications.outbox_tables import Notification
from inspection.programme import schemas as s
from inspection.programme.rules import OfficeRole
from inspection.projects import schemas as ps
from inspection.rectification.rules import OrderKind, Severity
from tests.alerts.conftest import Mailbox, Receiver
from tests.alerts.helpers import allowing_loopback, app_allowing_loopback
from tests.alerts.test_delivery import with_delivery
from tests.checklists.helpers import SCAFFOLD
from tests.factories import PASSWORD, login, unique
from tests.notifications.helpers import choose, held
from tests.programme.helpers import Programme, bj, inspect, order, scaffold, upheld_complaint


async def a_day(p: Programme, clock: FixedClock) -> None:
    """3 March in the programme: as the expected figures below count it."""
    await order(p, clock, bj(3, 1, 9), project="p1", work="A1", deadline=bj(3, 2, 18))  # overdue from the 2nd
    await order(
        p,
        clock,
        bj(3, 3, 9),
        project="p1",
        work="A2",
        deadline=bj(3, 6, 18),
        kind=OrderKind.stop_work,
        severity=Severity.major,
    )
    await inspect(p, clock, bj(3, 3, 10), project="p1", site="S1", work="A1", code=SCAFFOLD, answers=scaffold(80))
    clock.set(bj(3, 3, 10, 30))
    await upheld_complaint(p, clock, bj(3, 3, 11), "S2", "A2")  # a complaint; its order counts as new too
    clock.set(bj(3, 3, 12))
    await p.world.services.supervision.start_point(
        p.actor("contractor_a"), p.work["A1"], "base-hidden", cks.StartBody()
    )
    await order(p, clock, bj(3, 3, 13), project="p2", work="B3", deadline=bj(3, 6, 18))


@pytest.fixture
def app(clock: FixedClock):  # type: ignore[no-untyped-def]
    """The shared `app` fixture, with loopback webhook receivers (this test's) allowed."""
    return app_allowing_loopback(clock)


async def test_a_days_figures_per_office(programme: Programme, clock: FixedClock) -> None:
    p = programme
    await a_day(p, clock)
    clock.set(bj(3, 4, 8))
    east = await p.svc.digest(p.actor("east"), p.areas["east"])  # yesterday by default
    a = p.world.orgs["contractor_a"].name
    assert east.day.isoformat() == "2026-03-03"
    assert (east.projects, east.inspections, east.failed_items) == (1, 1, 2)  # N1 and N2 deducted
    assert [(c.name, c.count) for c in east.by_hazard] == [("脚手架", 2)]
    assert (east.stop_work_orders, east.new_orders, east.overdue_orders) == (1, 2, 1)
    assert [(c.name, c.count) for c in east.new_by_contractor] == [(a, 2)]
    assert [(c.name, c.count) for c in east.overdue_by_contractor] == [(a, 1)]
    assert (east.hold_points_waiting, east.complaints) == (1, 1)
    assert east.message.splitlines()[0] == "【日督导】东街道 2026年3月3日"
    district = await p.svc.digest(p.actor("office"), p.areas["district"])
    assert (district.projects, district.new_orders) == (2, 3)  # with P2's order to B
    west = await p.svc.digest(p.actor("west"), p.areas["west"])
    assert (west.new_orders, west.overdue_orders, west.inspections) == (1, 0, 0)
    # any day: the 2nd had the first order issued and nothing overdue yet at its end? it was:
    # the deadline passed at 18:00 that day
    second = await p.svc.digest(p.actor("east"), p.areas["east"], bj(3, 2).date())
    assert (second.new_orders, second.overdue_orders) == (0, 1)
    with pytest.raises(NotFound):
        await p.svc.digest(p.actor("east"), p.areas["west"])
    with pytest.raises(ValidationFailed):
        await p.svc.digest(p.actor("east"), p.areas["east"], bj(3, 5).date())


async def test_sent_once_a_day_through_the_outbox(
    programme: Programme, clock: FixedClock, receiver: Receiver, mailbox: Mailbox
) -> None:
    p = programme
    await a_day(p, clock)
    # a street officer with an e-mail address and a webhook of their own
    user = await p.world.services.projects.create_user(
        SYSTEM,
        ps.UserCreate(username=unique("street"), display_name="李主任", password=PASSWORD, email="li@east.test"),
    )
    await p.svc.appoint(SYSTEM, s.OfficeCreate(user_id=user.id, area_id=p.areas["east"], role=OfficeRole.street_office))
    clock.set(bj(3, 4, 6))
    p.world.users["li"] = user
    p.world.tokens["li"] = (await login(p.world.client, user.username))["access_token"]
    r = await p.world.post("li", "/api/v1/webhooks", json={"url": receiver.base + "/digest", "scope": "user"})
    assert r.status_code == 201, r.text
    settings = with_delivery(allowing_loopback(p.world.services.settings), mailbox)
    for _ in range(2):  # the scheduler ticks every few minutes: the digest goes out once
        assert (await run_job(job_named("daily_digest"), settings, clock)).status == "ok"
        assert (await run_job(job_named("deliveries"), settings, clock)).status == "ok"
    notes = await Notification.select(Notification.recipient_user, Notification.message).where(
        Notification.rule == "daily_digest"
    )
    # the district office, both street offices and 李主任
    assert len(notes) == 4
    assert {n["message"].splitlines()[0] for n in notes} == {
        "【日督导】长青区 2026年3月3日",
        "【日督导】东街道 2026年3月3日",
        "【日督导】西街道 2026年3月3日",
    }
    (hit,) = receiver.on("/digest")
    assert json.loads(hit.body)["message"].startswith("【日督导】东街道 2026年3月3日")
    (mail,) = [m for m in mailbox.messages if "li@east.test" in m[0]]
    body = email.message_from_bytes(mail[1], policy=policy.default).get_body().get_content()  # type: ignore[union-attr]
    assert "新下发整改单 2 份" in body and p.world.orgs["contractor_a"].name in body
    # the in-app feed shows it
    feed = (await p.world.get("li", "/api/v1/notifications")).json()
    assert feed["items"][0]["message"].startswith("【日督导】东街道")
    # the next day brings the next digest
    clock.set(bj(3, 5, 6))
    assert (await run_job(job_named("daily_digest"), settings, clock)).created == 4


async def test_each_office_person_gets_it_as_they_chose(programme: Programme, clock: FixedClock) -> None:
    """日督导汇总 is a kind like the others: one office switched it off, one keeps it for the
    personal digest, the third has it at once."""
    p = programme
    await a_day(p, clock)
    await choose(p.world, "east", "daily_digest", "off")
    await choose(p.world, "west", "daily_digest", "digest")
    clock.set(bj(3, 4, 6))
    for _ in range(2):
        assert (await run_job(job_named("daily_digest"), p.world.services.settings, clock)).status == "ok"
    notes = await Notification.select(Notification.recipient_user).where(Notification.rule == "daily_digest")
    assert [n["recipient_user"] for n in notes] == [p.world.users["office"].id]
    assert await held(p.world, "east") == []
    (kept,) = await held(p.world, "west")
    assert kept["kind"] == "daily_digest" and kept["message"].startswith("【日督导】西街道 2026年3月3日")
