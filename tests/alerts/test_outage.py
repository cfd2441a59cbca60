"""Outages of the delivery targets: a webhook receiver and an SMTP server that are not there at
all (connection refused), or refuse for a while, then come back. Every delivery is retried on its
back-off while they are gone, arrives once when they are back, and is never sent twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiosmtpd.controller import Controller

from inspection.clock import FixedClock
from inspection.notifications.outbox_tables import AlertDelivery
from tests.alerts.conftest import Mailbox, Receiver, ReceiverServer, free_port
from tests.alerts.helpers import run
from tests.alerts.test_delivery import mail_user, subscribe, with_delivery
from tests.alerts.test_jobs import DRAINS_END, _accepted, at
from tests.factories import World


async def _deliveries(mail_to: str) -> list[dict[str, Any]]:
    """The webhook deliveries and the e-mails to `mail_to` (other members may have addresses too)."""
    rows = await AlertDelivery.select().order_by(AlertDelivery.channel)
    return [r for r in rows if r["channel"] == "webhook" or r["target"] == mail_to]


async def test_receiver_and_mail_server_down_then_back(world: World, clock: FixedClock) -> None:
    """Nothing listens on either port at first: each attempt fails with a refused connection and is
    put off by the back-off; once both servers are up the next run sends each delivery once."""
    hook = ReceiverServer(Receiver(base=""), free_port())
    box = Mailbox(host="127.0.0.1", port=free_port())
    await mail_user(world, "li@contractor-b.test")
    await subscribe(world, "contractor_b", hook.state.base + "/hook")
    await _accepted(world, clock)
    settings = with_delivery(world.services.settings, box, webhook_max_attempts=6)
    clock.set(at(DRAINS_END - timedelta(days=90)))
    await run("warranty_expiring", settings, clock)

    # down: two rounds of refused connections, each one attempt, then waiting out the back-off
    for _ in range(2):
        await run("deliveries", settings, clock)
        clock.advance(timedelta(seconds=30))
        await run("deliveries", settings, clock)  # inside the back-off: not attempted
        clock.advance(timedelta(minutes=10))
    rows = await _deliveries("li@contractor-b.test")
    assert {r["channel"] for r in rows} == {"email", "webhook"}
    for row in rows:
        assert (row["status"], row["attempts"]) == ("pending", 2), row
        assert "Refused" in row["last_error"] or "Connect" in row["last_error"], row["last_error"]

    # back: both servers come up on the same addresses
    hook.start()
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    try:
        for _ in range(3):
            await run("deliveries", settings, clock)
            clock.advance(timedelta(hours=1))
        assert len(hook.state.on("/hook")) == 1
        mails = [m for m in box.messages if "li@contractor-b.test" in m[0]]
        assert len(mails) == 1
        rows = await _deliveries("li@contractor-b.test")
        assert {(r["status"], r["attempts"]) for r in rows} == {("sent", 3)}
    finally:
        controller.stop()
        hook.stop()


class Refusing(Mailbox):
    """An SMTP server that answers 451 (try again later) until told to accept."""

    accepting: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.accepting:
            return "451 Requested action aborted: local error in processing"
        return await super().handle_DATA(server, session, envelope)


async def test_mail_server_that_refuses_for_a_while(world: World, clock: FixedClock) -> None:
    box = Refusing(host="127.0.0.1", port=free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    try:
        await mail_user(world, "zhao@contractor-b.test")
        await _accepted(world, clock)
        settings = with_delivery(world.services.settings, box, webhook_max_attempts=6)
        clock.set(at(DRAINS_END - timedelta(days=90)))
        await run("warranty_expiring", settings, clock)
        await run("deliveries", settings, clock)
        (row,) = [r for r in await _deliveries("zhao@contractor-b.test") if r["channel"] == "email"]
        assert (row["status"], row["attempts"]) == ("pending", 1) and "451" in row["last_error"]
        assert box.messages == []
        box.accepting = True
        for _ in range(3):
            clock.advance(timedelta(hours=1))
            await run("deliveries", settings, clock)
        (row,) = [r for r in await _deliveries("zhao@contractor-b.test") if r["channel"] == "email"]
        assert (row["status"], row["attempts"]) == ("sent", 2)
        assert len([m for m in box.messages if "zhao@contractor-b.test" in m[0]]) == 1
    finally:
        controller.stop()
