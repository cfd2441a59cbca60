"""Alerts addressed to an organisation (warranty ending, retention, orders due soon) reach each of
its people as they chose: at once (the feed, e-mail), in their daily digest, or not at all; the
organisation's row stays for its webhooks and for those who want it at once; escalations reach
everyone whatever they chose."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from inspection.actor import SYSTEM
from inspection.clock import FixedClock
from inspection.projects import schemas as ps
from inspection.projects.rules import Role
from inspection.projects.tables import User
from inspection.rectification.rules import OrderState
from tests.alerts.conftest import Mailbox
from tests.alerts.helpers import notifications, relogin, run
from tests.alerts.test_delivery import with_delivery
from tests.factories import World, login, make_user, unique
from tests.notifications.helpers import choose, held
from tests.rectification.helpers import actor_of, order_in
from tests.warranty.helpers import accept_site

SHANGHAI = ZoneInfo("Asia/Shanghai")
DRAINS_END = date(2028, 6, 10)  # the drains (contractor B) accepted on 2026-06-10, 2 years


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(UTC)


async def feed_kinds(world: World, who: str) -> list[str]:
    r = await world.get(who, "/api/v1/notifications")
    assert r.status_code == 200, r.text
    return [i["kind"] for i in r.json()["items"]]


async def mails_to(mailbox: Mailbox, address: str) -> list[Any]:
    found = [m for m in mailbox.messages if address in m[0]]
    return [email.message_from_bytes(m[1], policy=email.policy.default) for m in found]


def body_of(mail: Any) -> str:
    return str(mail.get_content() if not mail.is_multipart() else mail.get_body().get_content())


async def test_warranty_alerts_reach_each_person_as_they_chose(
    world: World, clock: FixedClock, mailbox: Mailbox
) -> None:
    # a second person of the owner, on the project, who chose nothing: everything at once
    colleague = await make_user(world.services, unique("owner-2"), world.orgs["owner"])
    await world.services.projects.add_member(
        SYSTEM, world.p1.id, ps.MembershipCreate(user_id=colleague.id, role=Role.owner)
    )
    world.users["owner_2"] = colleague
    for who, address in (("owner", "wang@owner.test"), ("owner_2", "zhao@owner.test"), ("contractor_b", "b@b.test")):
        await User.update({User.email: address}).where(User.id == world.users[who].id)
    clock.set(at(date(2026, 6, 15)))
    await accept_site(world, date(2026, 6, 10))
    await choose(world, "owner", "warranty_expiring", "off")
    await choose(world, "contractor_b", "warranty_expiring", "digest")
    settings = with_delivery(world.services.settings, mailbox)

    clock.set(at(DRAINS_END - timedelta(days=90)))
    await relogin(world, "owner", "contractor_b")
    world.tokens["owner_2"] = (await login(world.client, colleague.username))["access_token"]
    for _ in range(2):
        await run("warranty_expiring", settings, clock)
        await run("deliveries", settings, clock)
    # the organisations' rows are made as before: contractor B's and the owner's, once each
    rows = await notifications("warranty_expiring")
    assert sorted(r["recipient_organisation"] for r in rows) == sorted(
        [world.orgs["contractor_b"].id, world.orgs["owner"].id]
    )
    # who chose nothing has it at once, in the feed and by e-mail
    assert "warranty_expiring" in await feed_kinds(world, "owner_2")
    (mail,) = await mails_to(mailbox, "zhao@owner.test")
    assert "保修期" in body_of(mail)
    # who switched it off: not in the feed, no e-mail, nothing held
    assert "warranty_expiring" not in await feed_kinds(world, "owner")
    assert await mails_to(mailbox, "wang@owner.test") == []
    assert await held(world, "owner") == []
    # who chose the digest: not at once, held once
    assert "warranty_expiring" not in await feed_kinds(world, "contractor_b")
    assert await mails_to(mailbox, "b@b.test") == []
    (kept,) = await held(world, "contractor_b")
    assert kept["kind"] == "warranty_expiring" and "保修期" in kept["message"]

    # the next lead time is a notification of its own: held too, not merged with the first
    clock.set(at(DRAINS_END - timedelta(days=30)))
    await run("warranty_expiring", settings, clock)
    assert len(await held(world, "contractor_b")) == 2
    # at 08:00 the digest lists both, once, by e-mail too
    clock.set(at(DRAINS_END - timedelta(days=29), 8, 1))
    for _ in range(2):
        await run("notification_digests", settings, clock)
        await run("deliveries", settings, clock)
    (digest,) = await mails_to(mailbox, "b@b.test")
    assert "共 2 条" in body_of(digest) and "保修期" in body_of(digest)
    assert await mails_to(mailbox, "wang@owner.test") == []


async def test_orders_due_soon_follow_the_choice_and_escalations_do_not(world: World, clock: FixedClock) -> None:
    svc = world.services.rectification
    clock.set(at(date(2026, 6, 15)))
    order_id = await order_in(svc, world, clock, OrderState.issued)  # contractor A, 7 days
    order = (await svc.get_order(actor_of(world, "inspector"), order_id)).order
    await choose(world, "contractor_a", "order_due_soon", "off")
    # written straight into the table: the API refuses to switch a mandatory kind off
    await choose(world, "owner", "escalation", "off")
    settings = world.services.settings
    deadline_day = order.deadline.astimezone(SHANGHAI).date()
    clock.set(at(deadline_day - timedelta(days=1)))
    await relogin(world, "contractor_a", "owner")
    await run("rectification_deadlines", settings, clock)
    (due,) = await notifications("order_due_soon")
    assert due["recipient_organisation"] == world.orgs["contractor_a"].id
    assert "order_due_soon" not in await feed_kinds(world, "contractor_a")
    # overdue: the escalation reaches the owner, who cannot silence it
    clock.set(order.deadline + timedelta(hours=1))
    await relogin(world, "contractor_a", "owner")
    await run("rectification_deadlines", settings, clock)
    assert "order_overdue" in await feed_kinds(world, "owner")
