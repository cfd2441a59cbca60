"""Pure rules for alerts and schedules: which lead-time threshold a date has reached, when a
recurring inspection falls due, retry back-off, and whether a webhook URL is acceptable.
No database, no clock, no settings: everything is passed in."""

from __future__ import annotations

import calendar
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlsplit


def tightest_threshold(days_left: int, leads: Sequence[int]) -> int | None:
    """The smallest lead time (in days) that `days_left` has come within, or None. After downtime
    an item 5 days from its end has passed the 90- and 30-day marks too; only the 7-day alert is
    made, once: the state, not the missed ticks, decides."""
    reached = [lead for lead in leads if days_left <= lead]
    return min(reached) if reached else None


def backoff_delay(attempt: int, base_s: float, cap_s: float = 6 * 3600) -> float:
    """Seconds before the next attempt after `attempt` failed ones: base, 2×base, 4×base, … capped."""
    return float(min(cap_s, base_s * 2 ** max(0, attempt - 1)))


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


def recurrence_problem(r: Recurrence) -> tuple[str, str] | None:
    """(field, why) when the recurrence cannot work, else None."""
    if r.interval < 1:
        return "interval", "must be at least 1"
    if r.ends_on is not None and r.ends_on < r.starts_on:
        return "ends_on", "must not come before starts_on"
    if r.frequency is Frequency.weekly and (r.weekday is None or not 0 <= r.weekday <= 6):
        return "weekday", "a weekly schedule names its weekday, 0 (Monday) to 6 (Sunday)"
    if r.frequency is Frequency.monthly and (r.day_of_month is None or not 1 <= r.day_of_month <= 31):
        return "day_of_month", "a monthly schedule names its day of the month, 1 to 31"
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


class UrlProblem(StrEnum):
    scheme = "the URL must start with http:// or https://"
    host = "the URL has no host"
    self_target = "the URL points at this server itself"
    special = "the URL points at a link-local, multicast or reserved address (such as a cloud metadata service)"


def webhook_url_problem(url: str, own: Iterable[tuple[str, int]], local_addresses: Iterable[str]) -> UrlProblem | None:
    """None when `url` may receive webhooks. `own` are the (host, port) pairs this server answers
    on; `local_addresses` the addresses the URL's host resolves to that are this machine's (the
    caller resolves them). A URL on the server's own port on one of its addresses is refused:
    the server would post alerts to itself."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return UrlProblem.scheme
    if not parts.hostname:
        return UrlProblem.host
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return UrlProblem.host
    host = parts.hostname.lower()
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    # Private addresses stay allowed (a city's supervision platform often sits on its intranet);
    # addresses no receiver lives on, such as 169.254.169.254, are not.
    if literal is not None and (literal.is_link_local or literal.is_multicast or literal.is_reserved):
        return UrlProblem.special
    own_pairs = {(h.lower(), p) for h, p in own}
    if (host, port) in own_pairs:
        return UrlProblem.self_target
    own_ports = {p for _, p in own_pairs}
    if port in own_ports:
        for address in local_addresses:
            ip = ipaddress.ip_address(address)
            if ip.is_loopback or ip.is_unspecified or any(address == h for h, _ in own_pairs):
                return UrlProblem.self_target
    return None
