"""The outbox: `notify(ctx, event)` tells an event's people once each, as each of them chose
(at once, held for the daily digest, or not at all; mandatory kinds always at once), and the
lower-level `notify_once` / `notify_many` that write one outbox row per recipient.

One `notification` row per (subject, rule, occurrence, threshold, recipient): its unique index
decides (`INSERT … ON CONFLICT DO NOTHING RETURNING` answers a row only to the writer that made
it, on SQLite ≥ 3.35 and PostgreSQL alike), so an event raised twice, by a retried transaction or
by two processes at once, notifies once. The in-app feed reads these rows; delivery.py hands
them on by webhook and e-mail. Call inside the transaction that makes the event true, so the
event and its notifications commit or vanish together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from inspection import db
from inspection.messages import Message
from inspection.notifications.kinds import MANDATORY, Kind, Mode
from inspection.notifications.outbox_tables import Notification
from inspection.notifications.recipients import Recipient
from inspection.notifications.tables import HeldNotification, NotificationPreference
from inspection.records import new_id
from inspection.settings import get_settings

CHUNK = 500  # rows per statement: well under SQLite's limit on bound parameters


class HasNow(Protocol):
    """A write transaction (records.Write) or a job's context: anything that knows the time."""

    @property
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class Event:
    """Something that happened and who should hear of it. `text` names the 小区, building and work
    item, local times to the minute and the record's portal link (messages/zh.py `notify.*`)."""

    kind: Kind
    project_id: UUID | None
    subject_table: str
    subject_id: UUID
    text: Message  # its `link` made by `portal_link`
    users: Sequence[UUID] = ()
    # which occurrence of the event for this record (a deadline round, an answer's round); 0 if one
    occurrence: int = 0
    # who caused it: not told about their own act
    actor: UUID | None = None
    # when none of `users` is there (an organisation with nobody on the project yet), the
    # organisation itself is told, so the event is never lost
    fallback_org: UUID | None = None


def portal_link(path: str) -> str:
    """A record's page in the portal at the address phones reach (reports.public_base_url), as on
    the reports' QR codes."""
    return get_settings().public_base_url + path


async def modes(users: Sequence[UUID], kind: Kind) -> dict[UUID, Mode]:
    """Each user's choice for `kind`; immediate when they made none, always for mandatory kinds."""
    chosen: dict[UUID, Mode] = {u: Mode.immediate for u in users}
    if kind in MANDATORY or not users:
        return chosen
    rows = await NotificationPreference.select(NotificationPreference.user, NotificationPreference.mode).where(
        NotificationPreference.user.is_in(list(users)) & (NotificationPreference.kind == kind.value)
    )
    for r in rows:
        chosen[r["user"]] = Mode(r["mode"])
    return chosen


async def notify(ctx: HasNow, event: Event) -> int:
    """Tell each of the event's users once, as they chose; the number told or held now."""
    users = [u for u in dict.fromkeys(event.users) if u != event.actor]
    text = event.text.render()
    made = 0

    async def tell(recipient: tuple[str, Any]) -> int:
        return await notify_once(
            recipient,
            kind=event.kind.value,
            subject_table=event.subject_table,
            subject_id=event.subject_id,
            rule=event.kind.value,
            occurrence=event.occurrence,
            threshold=0,
            project_id=event.project_id,
            message=text,
            at=ctx.now,
        )

    if not users and not event.users and event.fallback_org is not None:
        return await tell(("org", event.fallback_org))
    for user, mode in (await modes(users, event.kind)).items():
        if mode is Mode.immediate:
            made += await tell(("user", user))
        elif mode is Mode.digest:
            made += await hold(ctx.now, user, event, text)
    return made


async def hold(at: datetime, user: UUID, event: Event, text: str) -> int:
    """Keep an event for the user's next digest, once; 1 when kept now."""
    rows = await (
        HeldNotification.insert(
            HeldNotification(
                id=new_id(),
                user=user,
                project=event.project_id,
                kind=event.kind.value,
                subject_table=event.subject_table,
                subject_id=event.subject_id,
                occurrence=event.occurrence,
                message=text,
                created_at=at,
            )
        )
        .on_conflict(
            target=(
                HeldNotification.user,
                HeldNotification.kind,
                HeldNotification.subject_table,
                HeldNotification.subject_id,
                HeldNotification.occurrence,
            ),
            action="DO NOTHING",
        )
        .returning(HeldNotification.id)
    )
    return len(rows)


async def notify_once(
    recipient: Recipient,
    *,
    kind: str,
    subject_table: str,
    subject_id: UUID,
    rule: str,
    occurrence: int,
    threshold: int,
    project_id: UUID | None,
    message: str,
    at: datetime,
) -> int:
    """Add a notification unless this (subject, rule, occurrence, threshold, recipient) has one;
    1 when added. Addressed to a user or to a whole organisation (one member reads it for all);
    no preference applies here: callers that address people use `notify`."""
    key = f"{recipient[0]}:{recipient[1]}"
    made = (
        await Notification.insert(
            Notification(
                id=new_id(),
                recipient_user=recipient[1] if recipient[0] == "user" else None,
                recipient_organisation=recipient[1] if recipient[0] == "org" else None,
                recipient_key=key,
                project=project_id,
                kind=kind,
                subject_table=subject_table,
                subject_id=subject_id,
                rule=rule,
                occurrence=occurrence,
                threshold=threshold,
                message=message,
                created_at=at,
            )
        )
        .on_conflict(
            target=(
                Notification.subject_table,
                Notification.subject_id,
                Notification.rule,
                Notification.occurrence,
                Notification.threshold,
                Notification.recipient_key,
            ),
            action="DO NOTHING",
        )
        .returning(Notification.id)
    )
    return len(made)


@dataclass(frozen=True)
class Note:
    """One row for `notify_many`: what `notify_once` takes, for a batch."""

    recipient: Recipient
    kind: str
    subject_table: str
    subject_id: UUID
    rule: str
    occurrence: int
    threshold: int
    project_id: UUID | None
    message: str


async def notify_many(notes: Sequence[Note], at: datetime) -> None:
    """Many notifications in a few statements, each once (the same unique index as notify_once)."""
    notes = list(dict.fromkeys(notes))
    for i in range(0, len(notes), CHUNK):
        part = notes[i : i + CHUNK]
        args: list[Any] = []
        for n in part:
            kind, rid = n.recipient
            args += [
                new_id(),
                rid if kind == "user" else None,
                rid if kind == "org" else None,
                f"{kind}:{rid}",
                n.project_id,
                n.kind,
                n.subject_table,
                n.subject_id,
                n.rule,
                n.occurrence,
                n.threshold,
                n.message,
                at,
            ]
        await db.raw(
            "INSERT INTO notification (id, recipient_user, recipient_organisation, recipient_key, project, kind,"  # noqa: S608 - placeholders only
            " subject_table, subject_id, rule, occurrence, threshold, message, created_at) VALUES "
            + ", ".join(["({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})"] * len(part))
            + " ON CONFLICT (subject_table, subject_id, rule, occurrence, threshold, recipient_key) DO NOTHING",
            *args,
        )


__all__ = ["Event", "Note", "Recipient", "hold", "modes", "notify", "notify_many", "notify_once", "portal_link"]
