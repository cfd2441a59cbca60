"""Injected time, so deadline and expiry logic can be tested without sleeping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

# Every programme is in mainland China; settings.warranty.timezone names another zone if one ever is not.
DEFAULT_ZONE = "Asia/Shanghai"


def _zone(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


class Clock(Protocol):
    tz: tzinfo  # the programme's zone: what "today" and a plain date mean

    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    def __init__(self, tz: str | tzinfo = DEFAULT_ZONE) -> None:
        self.tz = _zone(tz)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's date where the programme is (not UTC's: 00:00–08:00 in Beijing is yesterday there)."""
        return self.now().astimezone(self.tz).date()


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, at: datetime, tz: str | tzinfo = DEFAULT_ZONE) -> None:
        self._at = at
        self.tz = _zone(tz)

    def now(self) -> datetime:
        return self._at

    def today(self) -> date:
        return self._at.astimezone(self.tz).date()

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def set(self, at: datetime) -> None:
        self._at = at


def local_day(moment: datetime, tz: str | tzinfo = DEFAULT_ZONE) -> date:
    """The programme's date of a moment other than now (a record's time)."""
    return moment.astimezone(_zone(tz)).date()
