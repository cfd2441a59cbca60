"""The in-app feed (通知): the outbox's rows addressed to me or my organisation, and marking one read.

A notification addressed to an organisation is read by one member for all of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.errors import NotFound
from inspection.messages import t
from inspection.notifications import schemas as s
from inspection.notifications.outbox import muted_kinds
from inspection.notifications.outbox_tables import Notification


def _mine(actor: Actor, muted: list[str] | None = None) -> Any:
    clause: Any = Notification.recipient_user == actor.user_id
    if actor.organisation_id is not None:
        to_org: Any = Notification.recipient_organisation == actor.organisation_id
        if muted:
            to_org &= Notification.kind.not_in(muted)
        clause |= to_org
    return clause


async def feed(actor: Actor, unread_only: bool, limit: int, offset: int) -> s.NotificationPage:
    """Addressed to me, or to my organisation, newest first; of my organisation's, not the kinds
    I switched off or keep for my digest (rows addressed to me were made as I chose)."""
    if actor.user_id is None:
        return s.NotificationPage(items=[], total=0, unread=0, limit=limit, offset=offset)
    mine = _mine(actor, await muted_kinds(actor.user_id))
    where = mine & Notification.read_at.is_null() if unread_only else mine
    rows = await (
        Notification.select()
        .where(where)
        .order_by(Notification.created_at, ascending=False)
        .order_by(Notification.id)
        .limit(limit)
        .offset(offset)
    )
    total = await Notification.count().where(where)
    unread = await Notification.count().where(mine & Notification.read_at.is_null())
    return s.NotificationPage(
        items=[s.from_row(r, s.NotificationOut) for r in rows], total=total, unread=unread, limit=limit, offset=offset
    )


async def mark_read(actor: Actor, notification_id: UUID, now: datetime) -> s.NotificationOut:
    if actor.user_id is None:
        raise NotFound(t("rectification.notification_does_not_exist", notification_id=notification_id))
    where = (Notification.id == notification_id) & _mine(actor)
    row = await Notification.select().where(where).first()
    if row is None:
        raise NotFound(t("rectification.notification_does_not_exist", notification_id=notification_id))
    if row["read_at"] is None:
        # the first reader's time stays if two mark it at once
        await Notification.update({Notification.read_at: now}).where(where & Notification.read_at.is_null())
        row = await Notification.select().where(where).first() or {**row, "read_at": now}
    return s.from_row(row, s.NotificationOut)  # type: ignore[no-any-return]
