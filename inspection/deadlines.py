"""Deadlines as people give them: a date (the end of that day where the programme is) or a time with its offset."""

from __future__ import annotations

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
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, END_OF_DAY, tzinfo=tz)
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), END_OF_DAY, tzinfo=tz)
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(t("field.invalid-deadline"), field=field) from None


def bound(value: str | datetime | None, tz: tzinfo, *, field: str, upper: bool) -> datetime | None:
    """A list filter's limit as people give it: a time with its offset, or a date, which as a
    lower limit (`>=`) means the start of that day and as an upper one (`<`) takes the whole day in.
    Never a bare number: query strings are read leniently, and 1.5e-9 is not a moment."""
    if value is None or isinstance(value, datetime):
        return value
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + timedelta(days=1 if upper else 0)
            return datetime.combine(day, time(0), tzinfo=tz)
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(t("field.invalid-deadline"), field=field) from None
