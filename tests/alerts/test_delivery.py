"""Delivery over real servers on loopback: signed webhooks, retries with back-off that never hold
up other endpoints, e-mail over SMTP, and the webhook URL checks."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
from datetime import date, timedelta
from typing import Any

import msgspec
import pytest

from inspection.actor import SYSTEM
from inspection.clock import FixedClock
from inspection.notifications.delivery import claim_due, fan_out, verify
from inspection.notifications.outbox_tables import AlertDelivery, Notification
from inspection.projects import schemas as ps
from inspection.projects.rules import Role
from inspection.rectification.rules import OrderState
from inspection.settings import Settings
from tests.alerts.conftest import Mailbox, Receiver
from tests.alerts.helpers import relogin, run
from tests.alerts.test_jobs import DRAINS_END, _accepted, at
from tests.factories import PASSWORD, World, unique
from tests.rectification.helpers import order_in


def with_delivery(settings: Settings, mailbox: Mailbox | None = None, **alerts: Any) -> Settings:
    smtp = settings.smtp
    if mailbox is not None:
        smtp = msgspec.structs.replace(
            smtp, host=mailbox.host, port=mailbox.port, from_address="alerts@siteinspect.test"
        )
    a = msgspec.structs.replace(settings.alerts, webhook_timeout_s=1.0, webhook_backoff_s=60.0, **alerts)
    return msgspec.structs.replace(settings, smtp=smtp, alerts=a)


async def mail_user(world: World, address: str) -> None:
    """A contractor-B site manager on project P1 with an e-mail address."""
    user = await world.services.projects.create_user(
        SYSTEM,
        ps.UserCreate(
            username=unique("mail"),
            display_name="王经理",
            password=PASSWORD,
            organisation_id=world.orgs["contractor_b"].id,
            email=address,
        ),
    )
    await world.services.projects.add_member(
        SYSTEM, world.id_of("p1"), ps.MembershipCreate(user_id=user.id, role=Role.contractor)
    )


async def subscribe(world: World, who: str, url: str) -> dict[str, Any]:
    r = await world.post(who, "/api/v1/webhooks", json={"url": url, "description": "site office"})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_webhook_signed_and_email_sent_once(
    world: World, clock: FixedClock, receiver: Receiver, mailbox: Mailbox
) -> None:
    await mail_user(world, "wang@contractor-b.test")
    sub = await subscribe(world, "contractor_b", receiver.base + "/hook")
    assert sub["secret"] and sub["organisation_id"] == str(world.orgs["contractor_b"].id)
    listed = (await world.get("contractor_b", "/api/v1/webhooks")).json()
    assert [s["id"] for s in listed] == [sub["id"]] and listed[0]["secret"] is None

    await _accepted(world, clock)
    settings = with_delivery(world.services.settings, mailbox)
    clock.set(at(DRAINS_END - timedelta(days=90)))
    await run("warranty_expiring", settings, clock)
    for _ in range(2):
        await run("deliveries", settings, clock)

    (hit,) = receiver.on("/hook")
    assert verify(sub["secret"], hit.body, hit.headers["x-siteinspect-signature"])
    assert not verify("another-secret", hit.body, hit.headers["x-siteinspect-signature"])
    payload = json.loads(hit.body)
    assert payload["kind"] == "warranty_expiring" and payload["threshold"] == 90
    assert payload["delivery_id"] == hit.headers["x-siteinspect-delivery"]
    (mail,) = [m for m in mailbox.messages if "wang@contractor-b.test" in m[0]]
    parsed = email.message_from_bytes(mail[1], policy=email.policy.default)
    text = parsed.get_content() if not parsed.is_multipart() else parsed.get_body().get_content()  # type: ignore[union-attr]
    assert DRAINS_END.isoformat() in text and "保修期将于" in text and "/portal/projects/" in text
    # the subject says what happened in Chinese, never the kind code
    assert "warranty_expiring" not in parsed["Subject"] and "保修期将于" in parsed["Subject"]
    # everything handed on, nothing pending
    assert await Notification.count().where(Notification.delivered_at.is_null()) == 0
    statuses = {r["status"] for r in await AlertDelivery.select(AlertDelivery.status)}
    assert statuses == {"sent"}


async def test_failing_endpoint_retried_with_backoff_and_never_blocks_others(
    world: World, clock: FixedClock, receiver: Receiver
) -> None:
    receiver.statuses["/broken"] = 500
    receiver.delays["/slow"] = 3.0  # longer than the 1 s timeout
    broken = await subscribe(world, "owner", receiver.base + "/broken")
    await subscribe(world, "owner", receiver.base + "/slow")
    await subscribe(world, "owner", receiver.base + "/good")
    await _accepted(world, clock)
    settings = with_delivery(world.services.settings, webhook_max_attempts=4)
    clock.set(at(DRAINS_END - timedelta(days=90)))
    await run("warranty_expiring", settings, clock)
    await run("deliveries", settings, clock)
    assert len(receiver.on("/good")) == 1
    assert len(receiver.on("/broken")) == 1
    # not due again before the back-off: 60 s, then 120 s, then 240 s
    clock.advance(timedelta(seconds=59))
    await run("deliveries", settings, clock)
    assert len(receiver.on("/broken")) == 1
    clock.advance(timedelta(seconds=1))
    await run("deliveries", settings, clock)
    assert len(receiver.on("/broken")) == 2
    clock.advance(timedelta(seconds=119))
    await run("deliveries", settings, clock)
    assert len(receiver.on("/broken")) == 2
    receiver.statuses["/broken"] = 204  # the endpoint recovers
    clock.advance(timedelta(seconds=1))
    await run("deliveries", settings, clock)
    hits = receiver.on("/broken")
    assert len(hits) == 3 and len({h.headers["x-siteinspect-delivery"] for h in hits}) == 1
    await relogin(world, "owner")
    r = await world.get("owner", f"/api/v1/webhooks/{broken['id']}/deliveries")
    (row,) = r.json()
    assert (row["status"], row["attempts"]) == ("sent", 3)
    # the slow endpoint timed out each time and gave up after 4 attempts
    for _ in range(4):
        clock.advance(timedelta(hours=1))
        await run("deliveries", settings, clock)
    slow = await AlertDelivery.select().where(AlertDelivery.status == "failed")
    assert len(slow) == 1 and slow[0]["attempts"] == 4 and "Timeout" in slow[0]["last_error"]
    assert len(receiver.on("/good")) == 1


async def test_rectification_escalations_are_delivered_too(world: World, clock: FixedClock, receiver: Receiver) -> None:
    sub = await subscribe(world, "owner", receiver.base + "/owner")
    clock.set(at(date(2026, 6, 15)))
    await order_in(world.services.rectification, world, clock, OrderState.issued)
    clock.advance(timedelta(days=9))
    settings = with_delivery(world.services.settings)
    await run("rectification_deadlines", settings, clock)
    await run("deliveries", settings, clock)
    (hit,) = receiver.on("/owner")
    assert json.loads(hit.body)["kind"] == "order_overdue"
    assert verify(sub["secret"], hit.body, hit.headers["x-siteinspect-signature"])


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "not a url",
        "http:///nohost",
        "http://testserver/api/v1/hook",  # the address this request came in on
        "http://127.0.0.1:8000/hook",  # the configured listen address
        "http://localhost:8000/hook",
        "http://0.0.0.0:8000/hook",
        "http://169.254.169.254/latest/meta-data/",  # link-local: a cloud metadata service
        "http://[fe80::1]/hook",
        "http://224.0.0.1/hook",  # multicast
    ],
)
async def test_bad_webhook_urls_are_refused(world: World, url: str) -> None:
    r = await world.post("owner", "/api/v1/webhooks", json={"url": url})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "url"


async def test_feed_unread_and_mark_read(world: World, clock: FixedClock) -> None:
    await _accepted(world, clock)
    clock.set(at(DRAINS_END - timedelta(days=30)))
    await run("warranty_expiring", world.services.settings, clock)
    await relogin(world, "contractor_a", "contractor_b", "owner")
    r = await world.get("contractor_b", "/api/v1/alerts/mine/unread")
    assert r.json() == {"unread": 1}
    page = (await world.get("contractor_b", "/api/v1/alerts/mine")).json()
    (item,) = page["items"]
    assert item["rule"] == "warranty_expiring" and item["threshold"] == 30
    r = await world.post("contractor_b", f"/api/v1/alerts/mine/{item['id']}/read")
    assert r.status_code == 200 and r.json()["read_at"]
    assert (await world.get("contractor_b", "/api/v1/alerts/mine/unread")).json() == {"unread": 0}
    # contractor A was not told about B's drains
    assert (await world.get("contractor_a", "/api/v1/alerts/mine/unread")).json() == {"unread": 0}
    r = await world.post("contractor_a", f"/api/v1/alerts/mine/{item['id']}/read")
    assert r.status_code == 404
    # the project's alert list: the owner sees it, contractor A does not
    r = await world.get("owner", "/api/v1/alerts", params={"project_id": str(world.id_of("p1"))})
    assert [a["rule"] for a in r.json()["items"]] == ["warranty_expiring"]
    r = await world.get("contractor_a", "/api/v1/alerts", params={"project_id": str(world.id_of("p1"))})
    assert r.json()["items"] == []


async def test_two_delivery_runs_at_once_claim_each_delivery_once(
    world: World, clock: FixedClock, receiver: Receiver
) -> None:
    """Two server processes' delivery jobs ticking together (here two claims racing in one
    process, each in its own transaction): every due delivery is claimed by one of them, never by
    both, so no receiver gets it twice."""
    for who in ("contractor_b", "owner"):
        await subscribe(world, who, receiver.base + f"/{who}")
    await _accepted(world, clock)
    settings = with_delivery(world.services.settings)
    clock.set(at(DRAINS_END - timedelta(days=90)))
    await run("warranty_expiring", settings, clock)
    assert await fan_out(settings, clock.now()) >= 2
    due = {r["id"] for r in await AlertDelivery.select(AlertDelivery.id).where(AlertDelivery.status == "pending")}
    lease = timedelta(minutes=5)
    first, second = await asyncio.gather(
        claim_due(settings, clock.now(), lease), claim_due(settings, clock.now(), lease)
    )
    claimed = [r["id"] for r in first] + [r["id"] for r in second]
    assert sorted(claimed) == sorted(due), "each due delivery claimed exactly once"
