"""Deadlines as people give them: a date (the end of that day where the programme is) or a time with its offset."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated

from msgspec import Meta

from inspection.errors import ValidationFailed
from inspection.messages import t
from inspection.messages.decoding import DEADLINE_PATTERN

Deadline = Annotated[
    str,
    Meta(
        pattern=DEADLINE_PATTERN,
        description="A date (the end of that day in the programme's time zone) or an RFC 3339 time with its offset.",
        examples=["2026-12-10", "2026-12-10T18:00:00+08:00"],
    ),
]
Moment = Annotated[
    str,
    Meta(
        pattern=DEADLINE_PATTERN,
        description="A date (from its start, or up to and including it) or an RFC 3339 time with its offset.",
        examples=["2026-12-10", "2026-12-10T18:00:00+08:00"],
    ),
]
# the last second of a day, as the portal's date picker has always meant it
END_OF_DAY = time(23, 59, 59)


def resolve(value: str | datetime | date | None, tz: tzinfo, *, field: str = "deadline") -> datetime | None:
    """The moment a deadline means. A naive time stays naive, so the rules refuse it by name."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, END_OF_DAY, tzinfo=tz)
    return _moment(value, lambda day: datetime.combine(day, END_OF_DAY, tzinfo=tz), field)


def bound(value: str | datetime | None, tz: tzinfo, *, field: str, upper: bool) -> datetime | None:
    """A list filter's limit as people give it: a time with its offset, or a date, which as a
    lower limit (`>=`) means the start of that day and as an upper one (`<`) takes the whole day in.
    Never a bare number: query strings are read leniently, and 1.5e-9 is not a moment."""
    return _moment(value, lambda day: datetime.combine(day + timedelta(days=int(upper)), time(0), tzinfo=tz), field)


def _moment(value: str | datetime | None, of_day: Callable[[date], datetime], field: str) -> datetime | None:
    """A time as given, or what `of_day` makes of a plain date; a problem naming `field` otherwise."""
    if value is None or isinstance(value, datetime):
        return value
    text = value.strip()
    try:
        if len(text) == 10:
            return of_day(date.fromisoformat(text))
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(t("field.invalid-deadline"), field=field) from None
