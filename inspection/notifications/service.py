"""Use cases of the notifications domain: my feed, marking read, and my preferences per kind.

Preferences are a user's own server-side settings (not project records): they do not sync to
tablets and have no audit trail; each PUT is one transaction, all of it or nothing.
"""

from __future__ import annotations

import re
from uuid import UUID

from inspection import db
from inspection.actor import Actor
from inspection.clock import Clock
from inspection.errors import Forbidden, ValidationFailed
from inspection.messages import t
from inspection.notifications import feed
from inspection.notifications import schemas as s
from inspection.notifications.kinds import DEFAULT_DIGEST_MINUTE, MANDATORY, NAMES, Kind, Mode
from inspection.notifications.tables import DigestTime, NotificationPreference
from inspection.records import new_id
from inspection.settings import Settings

_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def minute_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


async def digest_minute(user_id: UUID) -> int:
    row = await DigestTime.select(DigestTime.minute).where(DigestTime.user == user_id).first()
    return int(row["minute"]) if row else DEFAULT_DIGEST_MINUTE


class NotificationsService:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    async def feed(
        self, actor: Actor, unread_only: bool = False, limit: int = 50, offset: int = 0
    ) -> s.NotificationPage:
        return await feed.feed(actor, unread_only, limit, offset)

    async def mark_read(self, actor: Actor, notification_id: UUID) -> s.NotificationOut:
        return await feed.mark_read(actor, notification_id, self.clock.now())

    async def preferences(self, actor: Actor) -> s.PreferencesOut:
        user = self._user(actor)
        rows = await NotificationPreference.select(NotificationPreference.kind, NotificationPreference.mode).where(
            NotificationPreference.user == user
        )
        chosen = {r["kind"]: r["mode"] for r in rows}
        return s.PreferencesOut(
            digest_time=minute_text(await digest_minute(user)),
            kinds=[
                s.KindPreference(
                    kind=k.value,
                    name=NAMES[k].render(),
                    mode=Mode.immediate.value if k in MANDATORY else chosen.get(k.value, Mode.immediate.value),
                    mandatory=k in MANDATORY,
                )
                for k in Kind
            ],
        )

    async def set_preferences(self, actor: Actor, data: s.PreferencesIn) -> s.PreferencesOut:
        """Check everything first, then write it all in one transaction."""
        user = self._user(actor)
        minute: int | None = None
        if data.digest_time is not None:
            m = _HHMM.match(data.digest_time)
            if m is None:
                raise ValidationFailed(t("notify.digest_time_format"), field="digest_time")
            minute = int(m.group(1)) * 60 + int(m.group(2))
        choices: dict[Kind, Mode] = {}
        for i, choice in enumerate(data.kinds):
            try:
                kind = Kind(choice.kind)
            except ValueError:
                raise ValidationFailed(t("notify.no_such_kind", kind=choice.kind), field=f"kinds[{i}].kind") from None
            if kind in choices:
                raise ValidationFailed(t("notify.kind_named_twice", name=NAMES[kind]), field=f"kinds[{i}].kind")
            try:
                mode = Mode(choice.mode)
            except ValueError:
                raise ValidationFailed(t("notify.no_such_mode"), field=f"kinds[{i}].mode") from None
            if kind in MANDATORY and mode is not Mode.immediate:
                raise ValidationFailed(t("notify.kind_is_mandatory", name=NAMES[kind]), field=f"kinds[{i}].mode")
            choices[kind] = mode
        now = self.clock.now()
        async with db.transaction():
            if minute is not None:
                await DigestTime.insert(DigestTime(id=new_id(), user=user, minute=minute, updated_at=now)).on_conflict(
                    target=DigestTime.user,
                    action="DO UPDATE",
                    values=[DigestTime.minute, DigestTime.updated_at],
                )
            for kind, mode in choices.items():
                await NotificationPreference.insert(
                    NotificationPreference(id=new_id(), user=user, kind=kind.value, mode=mode.value, updated_at=now)
                ).on_conflict(
                    target=(NotificationPreference.user, NotificationPreference.kind),
                    action="DO UPDATE",
                    values=[NotificationPreference.mode, NotificationPreference.updated_at],
                )
        return await self.preferences(actor)

    @staticmethod
    def _user(actor: Actor) -> UUID:
        if actor.user_id is None:
            raise Forbidden(t("notify.sign_in_first"))
        return actor.user_id
