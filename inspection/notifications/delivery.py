"""Delivering notifications beyond the in-app feed: HMAC-signed webhooks and e-mail over SMTP.

Two steps per run:
1. fan-out: every notification not yet handed on (`delivered_at` null) gets one `alert_delivery`
   row per webhook subscription of its recipient and per e-mail address (insert-or-ignore on
   (notification, channel, target)), and is marked handed on;
2. send: due deliveries are claimed by a conditional UPDATE … RETURNING (a row claimed by one
   process is not due for another until its lease ends), sent concurrently with a timeout each,
   so a slow or failing endpoint never holds up the others, then marked sent, or retried after
   an exponentially growing delay until `alerts.webhook_max_attempts`.

Each webhook's host is resolved again before each attempt, every address it has is checked, and
the request goes to the address checked (inspection/notifications/targets.py). Webhook requests carry
`X-Siteinspect-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body
under the subscription's secret, and `X-Siteinspect-Delivery` (the same on every retry, so the
receiver can drop a repeat).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol
from uuid import UUID

import httpx

from inspection import db
from inspection.joblock import try_job_lock
from inspection.messages import t
from inspection.notifications import targets
from inspection.notifications.outbox import muted
from inspection.notifications.outbox_tables import AlertDelivery, Notification, WebhookSubscription
from inspection.notifications.recipients import organisation_people
from inspection.notifications.rules import backoff_delay
from inspection.projects.tables import User
from inspection.records import new_id
from inspection.settings import Settings

log = logging.getLogger("siteinspect.notifications.delivery")

SIGNATURE_HEADER = "X-Siteinspect-Signature"
DELIVERY_HEADER = "X-Siteinspect-Delivery"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), signature)


async def _emails(note: dict[str, Any]) -> list[str]:
    if note["recipient_user"] is not None:
        rows = await User.select(User.email).where(
            (User.id == note["recipient_user"]) & User.active.eq(True) & User.deleted.eq(False)
        )
    else:
        # an organisation's people, less those who switched its kind off or keep it for their
        # digest (outbox.hold_for_organisations held it for them)
        people = await organisation_people(note["recipient_organisation"], note["project"])
        quiet = await muted(people, note["kind"])
        rows = await User.select(User.email).where(
            User.id.is_in([u for u in people if u not in quiet] or [UUID(int=0)])
        )
    return sorted({r["email"].strip() for r in rows if r["email"] and "@" in r["email"]})


async def _subscriptions(note: dict[str, Any]) -> list[UUID]:
    if note["recipient_user"] is not None:
        clause: Any = WebhookSubscription.user == note["recipient_user"]
    else:
        clause = WebhookSubscription.organisation == note["recipient_organisation"]
    rows = await WebhookSubscription.select(WebhookSubscription.id).where(clause & WebhookSubscription.active.eq(True))
    return [r["id"] for r in rows]


async def fan_out(settings: Settings, now: datetime) -> int:
    """Queue deliveries for the notifications not yet handed on; the number queued."""
    queued = 0
    async with db.transaction():
        if not await try_job_lock("deliveries.fan_out"):
            return 0
        notes = await (
            Notification.select()
            .where(Notification.delivered_at.is_null())
            .order_by(Notification.created_at)
            .limit(settings.alerts.delivery_batch)
        )
        for note in notes:
            targets = [("webhook", str(sid)) for sid in await _subscriptions(note)]
            if settings.smtp.host:
                targets += [("email", address) for address in await _emails(note)]
            for channel, target in targets:
                rows = await db.raw(
                    "INSERT INTO alert_delivery (id, notification, channel, target, status, attempts,"
                    " next_attempt_at, last_error, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})"
                    " ON CONFLICT (notification, channel, target) DO NOTHING RETURNING id",
                    new_id(),
                    note["id"],
                    channel,
                    target,
                    "pending",
                    0,
                    now,
                    "",
                    now,
                )
                queued += len(rows)
            await Notification.update({Notification.delivered_at: now}).where(
                (Notification.id == note["id"]) & Notification.delivered_at.is_null()
            )
    return queued


async def claim_due(settings: Settings, now: datetime, lease: timedelta) -> list[dict[str, Any]]:
    """Take up to a batch of due deliveries for this process until `now + lease`."""
    AD = AlertDelivery
    async with db.transaction():
        due = await (
            AD.select(AD.id)
            .where((AD.status == "pending") & (AD.next_attempt_at <= now))
            .order_by(AD.next_attempt_at)
            .limit(settings.alerts.delivery_batch)
        )
        claimed: list[dict[str, Any]] = []
        for row in due:
            rows = await db.raw(
                "UPDATE alert_delivery SET next_attempt_at = {}, attempts = attempts + 1"
                " WHERE id = {} AND status = {} AND next_attempt_at <= {}"
                " RETURNING id, notification, channel, target, attempts",
                now + lease,
                row["id"],
                "pending",
                now,
            )
            claimed += rows
    return claimed


def _payload(note: dict[str, Any], delivery_id: Any, attempt: int) -> bytes:
    body = {
        "delivery_id": str(delivery_id),
        "attempt": attempt,
        "notification_id": str(note["id"]),
        "kind": note["kind"],
        "rule": note["rule"],
        "threshold": note["threshold"],
        "occurrence": note["occurrence"],
        "subject_table": note["subject_table"],
        "subject_id": str(note["subject_id"]),
        "project_id": str(note["project"]) if note["project"] else None,
        "recipient": note["recipient_key"],
        "message": note["message"],
        "created_at": note["created_at"].isoformat(),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


async def send_webhook(
    client: httpx.AsyncClient,
    settings: Settings,
    subscription: dict[str, Any],
    note: dict[str, Any],
    delivery_id: Any,
    attempt: int,
) -> None:
    # Resolved and checked now, not when it was subscribed, and sent to the address checked.
    target = await targets.check(subscription["url"], settings)
    body = _payload(note, delivery_id, attempt)
    response = await client.post(
        target.url,
        content=body,
        headers={
            "Host": target.host_header,
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(subscription["secret"], body),
            DELIVERY_HEADER: str(delivery_id),
            "X-Siteinspect-Event": note["kind"],
        },
        extensions={"sni_hostname": target.server_name} if target.server_name else {},
    )
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"HTTP {response.status_code} from the webhook")


def _send_mail_blocking(settings: Settings, to: str, note: dict[str, Any]) -> None:
    smtp = settings.smtp
    message = EmailMessage()
    message["From"] = smtp.from_address
    message["To"] = to
    # the subject is the text's first line (a kind code or record id means nothing to the reader;
    # the record's link is in the text itself)
    first = (note["message"] or "").splitlines()[0] if note["message"] else ""
    summary = first if len(first) <= 60 else first[:59] + "…"
    message["Subject"] = t("mail.subject", summary=summary).render()
    message["Message-ID"] = f"<{note['id']}.{to.replace('@', '.')}@siteinspect>"
    message.set_content(t("mail.body", text=note["message"]).render())
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
        if smtp.username:
            client.login(smtp.username, smtp.password)
        client.send_message(message)


async def send_email(settings: Settings, to: str, note: dict[str, Any]) -> None:
    await asyncio.wait_for(
        asyncio.to_thread(_send_mail_blocking, settings, to, note), timeout=settings.smtp.timeout_s + 1
    )


async def _send_one(settings: Settings, client: httpx.AsyncClient, row: dict[str, Any]) -> str | None:
    """None when sent, else the error."""
    note = await Notification.select().where(Notification.id == row["notification"]).first()
    if note is None:
        return "the notification no longer exists"
    try:
        if row["channel"] == "webhook":
            sub = (
                await WebhookSubscription.select(WebhookSubscription.url, WebhookSubscription.secret)
                .where((WebhookSubscription.id == UUID(str(row["target"]))) & WebhookSubscription.active.eq(True))
                .first()
            )
            if sub is None:
                return "the subscription was removed"
            await send_webhook(client, settings, sub, note, row["id"], row["attempts"])
        else:
            await send_email(settings, row["target"], note)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
    return None


async def send_due(settings: Settings, now: datetime) -> tuple[int, int]:
    """Send what is due; (sent, failed attempts)."""
    a = settings.alerts
    lease = timedelta(seconds=a.webhook_timeout_s * 2 + settings.smtp.timeout_s + 60)
    rows = await claim_due(settings, now, lease)
    if not rows:
        return 0, 0
    # No proxy from the environment (it would resolve the name itself), no redirects, and no
    # connection kept for a later request: connections are to checked addresses, and one opened
    # for one name must not carry another name's request.
    async with httpx.AsyncClient(
        timeout=a.webhook_timeout_s,
        follow_redirects=False,
        trust_env=False,
        verify=targets.tls_context(settings),
        limits=httpx.Limits(max_keepalive_connections=0),
    ) as client:
        errors = await asyncio.gather(*(_send_one(settings, client, r) for r in rows))
    sent = failed = 0
    AD = AlertDelivery
    for row, error in zip(rows, errors, strict=True):
        if error is None:
            sent += 1
            changes: dict[Any, Any] = {AD.status: "sent", AD.sent_at: now, AD.last_error: ""}
        else:
            failed += 1
            log.warning("delivery %s (%s) attempt %s failed: %s", row["id"], row["channel"], row["attempts"], error)
            if row["attempts"] >= a.webhook_max_attempts:
                changes = {AD.status: "failed", AD.last_error: error}
            else:
                delay = timedelta(seconds=backoff_delay(row["attempts"], a.webhook_backoff_s))
                changes = {AD.next_attempt_at: now + delay, AD.last_error: error}
        await AD.update(changes).where(AD.id == row["id"])
    return sent, failed


class DeliveryContext(Protocol):
    """What the scheduler's job context gives (alerts.runner.JobContext)."""

    settings: Settings
    now: datetime
    stats: dict[str, int]


async def deliver(ctx: DeliveryContext) -> int:
    queued = await fan_out(ctx.settings, ctx.now)
    sent, failed = await send_due(ctx.settings, ctx.now)
    ctx.stats.update({"deliveries_queued": queued, "sent": sent, "send_failures": failed})
    return sent
