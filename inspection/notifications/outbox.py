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
from inspection.notifications.recipients import Recipient, organisation_people
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


def choosable(kind: str) -> Kind | None:
    """The kind a person's choice applies to, of an outbox row's kind; None where nobody chooses:
    the mandatory kinds, and rows that are no Kind (an escalation's audience, a filing to the
    authority), which reach their people whatever anyone chose."""
    try:
        found = Kind(kind)
    except ValueError:
        return None
    return None if found in MANDATORY else found


async def muted(users: Sequence[UUID], kind: str) -> set[UUID]:
    """Of `users`, those who do not want `kind` at once: switched off, or kept for their digest."""
    chosen = choosable(kind)
    if chosen is None or not users:
        return set()
    return {u for u, mode in (await modes(users, chosen)).items() if mode is not Mode.immediate}


async def muted_kinds(user: UUID) -> list[str]:
    """The kinds this user does not want at once (off, or in the digest): what the feed leaves out
    of the rows addressed to the user's organisation."""
    rows = await NotificationPreference.select(NotificationPreference.kind).where(
        (NotificationPreference.user == user) & NotificationPreference.mode.is_in([Mode.off.value, Mode.digest.value])
    )
    return sorted(r["kind"] for r in rows if choosable(r["kind"]) is not None)


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
    return await _hold(
        at, user, event.project_id, event.kind.value, event.subject_table, event.subject_id, event.occurrence, text
    )


async def _hold(
    at: datetime,
    user: UUID,
    project_id: UUID | None,
    kind: str,
    subject_table: str,
    subject_id: UUID,
    occurrence: int,
    text: str,
) -> int:
    rows = await (
        HeldNotification.insert(
            HeldNotification(
                id=new_id(),
                user=user,
                project=project_id,
                kind=kind,
                subject_table=subject_table,
                subject_id=subject_id,
                occurrence=occurrence,
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


async def notify_note(note: Note, at: datetime) -> int:
    """`notify_once` of one Note; 1 when added."""
    return await notify_once(
        note.recipient,
        kind=note.kind,
        subject_table=note.subject_table,
        subject_id=note.subject_id,
        rule=note.rule,
        occurrence=note.occurrence,
        threshold=note.threshold,
        project_id=note.project_id,
        message=note.message,
        at=at,
    )


async def notify_many(notes: Sequence[Note], at: datetime) -> None:
    """Many notifications in a few statements, each once (the same unique index as notify_once),
    as their people chose: a person's own row only when they want its kind at once (held for their
    digest, or left out); an organisation's row always, held besides for those of its people who
    chose the digest (hold_for_organisations)."""
    notes = await _as_chosen(list(dict.fromkeys(notes)), at)
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
    await hold_for_organisations(notes, at)


async def _as_chosen(notes: list[Note], at: datetime) -> list[Note]:
    """The notes to write: a person's own of a kind they want at once; the rest held or dropped."""
    # one query per kind for everyone a batch names, not one per note
    chosen: dict[Kind, dict[UUID, Mode]] = {}
    for named in {k for n in notes if n.recipient[0] == "user" and (k := choosable(n.kind)) is not None}:
        users = sorted({n.recipient[1] for n in notes if n.recipient[0] == "user" and n.kind == named.value}, key=str)
        chosen[named] = await modes(users, named)
    kept: list[Note] = []
    for n in notes:
        kind = choosable(n.kind)
        if n.recipient[0] != "user" or kind is None:
            kept.append(n)
            continue
        mode = chosen[kind][n.recipient[1]]
        if mode is Mode.immediate:
            kept.append(n)
        elif mode is Mode.digest:
            await hold_note(n, n.recipient[1], at)
    return kept


async def hold_note(note: Note, user: UUID, at: datetime) -> int:
    """Keep a note for the user's next digest instead, once; 1 when kept now."""
    # a rule numbers its notifications either by threshold (lead times) or by occurrence (a day's
    # ordinal, a deadline round), so the two fold into the one column without meeting; left as it
    # is without a threshold, a day's ordinal stays within the column's 32 bits
    occurrence = note.occurrence * THRESHOLDS_PER_OCCURRENCE + note.threshold if note.threshold else note.occurrence
    return await _hold(
        at, user, note.project_id, note.kind, note.subject_table, note.subject_id, occurrence, note.message
    )


# A held row is unique per occurrence; an alert's lead times (90, 30, 7 days before, up to the
# settings' 3650) are separate notifications of one occurrence, so each gets its own number here
# (hold_note)
THRESHOLDS_PER_OCCURRENCE = 10_000


async def hold_for_organisations(notes: Sequence[Note], at: datetime) -> int:
    """What is addressed to an organisation, kept for the digest of each of its people (on the
    project) who chose the digest for its kind: the organisation's row stays for the others, for
    its webhooks, and for the feed of those who want it at once. Idempotent: each held once."""
    made = 0
    # a scan's page names few organisations and projects many times: each looked up once
    keepers: dict[tuple[UUID, UUID | None, Kind], list[UUID]] = {}
    for n in notes:
        kind = choosable(n.kind)
        if n.recipient[0] != "org" or kind is None:
            continue
        key = (n.recipient[1], n.project_id, kind)
        if key not in keepers:
            people = await organisation_people(n.recipient[1], n.project_id)
            keepers[key] = [u for u, mode in (await modes(people, kind)).items() if mode is Mode.digest]
        for user in keepers[key]:
            made += await hold_note(n, user, at)
    return made


__all__ = [
    "Event",
    "Note",
    "Recipient",
    "choosable",
    "hold",
    "hold_for_organisations",
    "hold_note",
    "modes",
    "muted",
    "muted_kinds",
    "notify",
    "notify_many",
    "notify_note",
    "notify_once",
    "portal_link",
]
