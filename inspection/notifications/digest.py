"""The daily digest: each user who chose it for some kinds gets, once a day at the time they chose
(local), one message listing what was held for them; nothing when nothing was held.

Idempotent: the digest is an outbox row unique per (user, local day), and the events it lists are
marked with that day in the same transaction; a second run the same day finds nothing to list, and
events that arrive after today's digest wait for tomorrow's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

from inspection.clock import local_day
from inspection.messages import t
from inspection.notifications.outbox import notify_once
from inspection.notifications.service import digest_minute
from inspection.notifications.tables import HeldNotification
from inspection.projects.tables import User
from inspection.settings import Settings

DIGEST_RULE = "digest"
USER_TABLE = User._meta.tablename


class DigestContext(Protocol):
    """What the scheduler's job context gives (alerts.runner.JobContext)."""

    settings: Settings
    now: datetime
    today: date
    stats: dict[str, int]


def _minute_of_day(moment: datetime, tz: str) -> int:
    local = moment.astimezone(ZoneInfo(tz))
    return local.hour * 60 + local.minute


async def send(ctx: DigestContext) -> int:
    """Run inside the job's transaction: the number of digests made now."""
    HN = HeldNotification
    rows = await HN.select().where(HN.digest_day.is_null() & (HN.created_at <= ctx.now)).order_by(HN.created_at)
    by_user: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_user[r["user"]].append(r)
    tz = ctx.settings.warranty.timezone
    today = local_day(ctx.now, tz)
    now_minute = _minute_of_day(ctx.now, tz)
    made = 0
    for user, items in sorted(by_user.items(), key=lambda kv: str(kv[0])):
        if now_minute < await digest_minute(user):
            continue
        lines = "\n".join(t("notify.digest_line", n=i, text=r["message"]).render() for i, r in enumerate(items, 1))
        text = t("notify.digest", day=today.isoformat(), count=len(items), items=lines).render()
        fresh = await notify_once(
            ("user", user),
            kind=DIGEST_RULE,
            subject_table=USER_TABLE,
            subject_id=user,
            rule=DIGEST_RULE,
            # one digest per user and local day
            occurrence=today.toordinal(),
            threshold=0,
            project_id=None,
            message=text,
            at=ctx.now,
        )
        if fresh:
            await HN.update({HN.digest_day: today}).where(
                HN.id.is_in([r["id"] for r in items]) & HN.digest_day.is_null()
            )
            made += 1
    ctx.stats["digests"] = made
    return made
