"""What the reports and the programme's records share: Beijing days and weeks, the Chinese label of
an enum value (labels.toml), and one canonical JSON spelling of a value for hashing. Pure: no
database, clock or settings."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

# China keeps one time zone and no daylight saving: documents show Beijing time.
BEIJING = timezone(timedelta(hours=8), "北京时间")
LABELS_FILE = Path(__file__).with_name("labels.toml")


@lru_cache(maxsize=1)
def labels() -> dict[str, Any]:
    return tomllib.loads(LABELS_FILE.read_text(encoding="utf-8"))


def label(group: str, value: str | Enum | None) -> str:
    """The Chinese label of an enum value (labels.toml); the value itself when it has none."""
    if value is None:
        return ""
    key = value.value if isinstance(value, Enum) else str(value)
    return str(labels().get(group, {}).get(key, key))


def _canonical(value: Any) -> Any:
    """JSON-ready data: datetimes as UTC (one instant, one spelling, whatever zone a row came back
    in), dates, UUIDs and decimals as strings, enums as their values, keys sorted."""
    if isinstance(value, dict):
        return {str(k): _canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_canonical(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, (date, UUID, Decimal)):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, msgspec.Struct):
        return _canonical(msgspec.structs.asdict(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _canonical(dataclasses.asdict(value))
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot put {type(value).__name__} in a report's content")


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no spaces, UTC times: the same data always gives the same bytes."""
    return msgspec.json.encode(_canonical(data))


def beijing(value: datetime | None) -> datetime | None:
    return value.astimezone(BEIJING) if value is not None else None


def local_day(value: datetime) -> date:
    return value.astimezone(BEIJING).date()


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in Beijing, as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=BEIJING)


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week that holds `day` (weeks run Monday to Sunday in China)."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)
