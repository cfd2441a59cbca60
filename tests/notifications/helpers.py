"""Reading who was told what: the outbox rows and held digest items of a record, by person."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from inspection.notifications.outbox_tables import Notification
from inspection.notifications.tables import HeldNotification, NotificationPreference
from inspection.records import new_id
from tests.factories import World
from tests.instant import TEST_NOW


def who_is(world: World, user_id: UUID | None) -> str:
    return next(name for name, u in world.users.items() if u.id == user_id)


async def told(world: World, kind: str, subject_id: UUID | None = None) -> list[str]:
    """The people (World names) a notification of `kind` went to, sorted, one entry per row: a
    person told twice appears twice."""
    where: Any = Notification.kind == kind
    if subject_id is not None:
        where &= Notification.subject_id == subject_id
    rows = await Notification.select(Notification.recipient_user).where(where)
    assert all(r["recipient_user"] is not None for r in rows), "addressed to an organisation, not a person"
    return sorted(who_is(world, r["recipient_user"]) for r in rows)


async def messages(kind: str, subject_id: UUID) -> list[str]:
    rows = await Notification.select(Notification.message).where(
        (Notification.kind == kind) & (Notification.subject_id == subject_id)
    )
    return [r["message"] for r in rows]


async def held(world: World, who: str) -> list[dict[str, Any]]:
    return await HeldNotification.select().where(  # type: ignore[no-any-return]
        HeldNotification.user == world.users[who].id
    )


async def choose(world: World, who: str, kind: str, mode: str) -> None:
    """A preference written straight into the table (the API refuses some of these on purpose)."""
    await NotificationPreference.insert(
        NotificationPreference(id=new_id(), user=world.users[who].id, kind=kind, mode=mode, updated_at=TEST_NOW)
    )
