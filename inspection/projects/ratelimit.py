"""Sliding-window rate limits kept in the database (table `rate_event`), shared by every server
process: failed sign-ins per account and address and per address, complaints per address."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from inspection.clock import Clock
from inspection.projects.tables import RateEvent

KEY_MAX = 200
# Every window is at most a day (settings bounds, complaints/rules.toml): older rows count for
# nothing and are pruned whatever their key, so a spray of made-up names leaves no lasting rows.
KEEP = timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """At most `max_events` under one key in `seconds` (at most a day)."""

    max_events: int
    seconds: float


class RateCounter:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def wait_s(self, key: str, window: Window) -> int | None:
        """None while another event is allowed under `key`, else whole seconds until one is."""
        now = self.clock.now()
        since = now - timedelta(seconds=window.seconds)
        rows = await (
            RateEvent.select(RateEvent.at)
            .where((RateEvent.key == key[:KEY_MAX]) & (RateEvent.at > since))
            .order_by(RateEvent.at, ascending=False)
            .limit(window.max_events)
        )
        if len(rows) < window.max_events:
            return None
        oldest_counted = rows[-1]["at"]
        return max(1, math.ceil((oldest_counted - since).total_seconds()))

    async def record(self, keys: Iterable[str]) -> None:
        """Count one event under each key, and prune rows older than any window."""
        now = self.clock.now()
        await RateEvent.insert(*(RateEvent(key=k[:KEY_MAX], at=now) for k in keys))
        await RateEvent.delete().where(RateEvent.at <= now - KEEP)

    async def forget(self, key: str) -> None:
        await RateEvent.delete().where(RateEvent.key == key[:KEY_MAX])
