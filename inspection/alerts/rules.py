"""Pure rules for alerts and schedules: which lead-time threshold a date has reached, when a
recurring inspection falls due.
No database, no clock, no settings: everything is passed in."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol

from inspection.messages import Message, t


def tightest_threshold(days_left: int, leads: Sequence[int]) -> int | None:
    """The smallest lead time (in days) that `days_left` has come within, or None. After downtime
    an item 5 days from its end has passed the 90- and 30-day marks too; only the 7-day alert is
    made, once: the state, not the missed ticks, decides."""
    reached = [lead for lead in leads if days_left <= lead]
    return min(reached) if reached else None


class Frequency(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"


class WorkingDays(Protocol):
    def is_working_day(self, day: date) -> bool: ...


@dataclass(frozen=True)
class Recurrence:
    frequency: Frequency
    starts_on: date
    ends_on: date | None = None
    interval: int = 1
    weekday: int | None = None  # 0 = Monday (weekly)
    day_of_month: int | None = None  # monthly; a short month uses its last day
    working_days_only: bool = False


def recurrence_problem(r: Recurrence) -> tuple[str, Message] | None:
    """(field, why) when the recurrence cannot work, else None."""
    if r.interval < 1:
        return "interval", t("alerts.must_at_least_1")
    if r.ends_on is not None and r.ends_on < r.starts_on:
        return "ends_on", t("alerts.must_not_come_before_starts")
    if r.frequency is Frequency.weekly and (r.weekday is None or not 0 <= r.weekday <= 6):
        return "weekday", t("alerts.weekly_schedule_names_weekday_0_monday")
    if r.frequency is Frequency.monthly and (r.day_of_month is None or not 1 <= r.day_of_month <= 31):
        return "day_of_month", t("alerts.monthly_schedule_names_day_month_1")
    return None


def _nominal(r: Recurrence, until: date) -> Iterable[date]:
    """Due days before the working-day rule, from starts_on up to `until`."""
    if r.frequency is Frequency.daily:
        day = r.starts_on
        while day <= until:
            yield day
            day += timedelta(days=r.interval)
    elif r.frequency is Frequency.weekly:
        assert r.weekday is not None
        day = r.starts_on + timedelta(days=(r.weekday - r.starts_on.weekday()) % 7)
        while day <= until:
            yield day
            day += timedelta(weeks=r.interval)
    else:
        assert r.day_of_month is not None
        year, month = r.starts_on.year, r.starts_on.month
        while True:
            day = date(year, month, min(r.day_of_month, calendar.monthrange(year, month)[1]))
            if day > until:
                return
            if day >= r.starts_on:
                yield day
            month += r.interval
            year, month = year + (month - 1) // 12, (month - 1) % 12 + 1


def due_days(r: Recurrence, start: date, end: date, cal: WorkingDays) -> list[date]:
    """The days from `start` to `end` (both included) on which the schedule has an inspection due.
    With the working-day rule a daily check skips rest days, and a weekly or monthly one moves to
    the next working day (never past the schedule's end)."""
    last = min(end, r.ends_on) if r.ends_on else end
    out: list[date] = []
    # a nominal day just before `start` may move onto a working day inside the window
    for nominal in _nominal(r, last):
        day = nominal
        if r.working_days_only and not cal.is_working_day(day):
            if r.frequency is Frequency.daily:
                continue
            while not cal.is_working_day(day):
                day += timedelta(days=1)
        if start <= day <= last and (not out or out[-1] != day):
            out.append(day)
    return out
