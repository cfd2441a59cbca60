"""Pure sync rules: field-level merge, mutation ordering, schema versions. No I/O."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Schema versions the server can serve to pulls; pushes are accepted from every version down to
# PUSH_MIN, so a tablet that must upgrade can still drain its outbox first.
SCHEMA_CURRENT = 1
PULL_MIN = 1
PUSH_MIN = 1


def clock_skew_ms(server_now: datetime, device_now: datetime) -> int:
    """Server time minus the device's clock, as the device reported it in a request."""
    return int((server_now - device_now).total_seconds() * 1000)


@dataclass(frozen=True)
class FieldConflict:
    field: str
    kept: Any  # the value now on the server (the arriving one)
    lost: Any  # the value the arriving write overwrote


@dataclass
class Merge:
    apply: dict[str, Any] = field(default_factory=dict)
    conflicts: list[FieldConflict] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.apply)


def _same(a: Any, b: Any) -> bool:
    # compare as JSON would carry them, so 1 == 1.0 and UUID == its string
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def merge_fields(current: dict[str, Any], base: dict[str, Any], incoming: dict[str, Any]) -> Merge:
    """Three-way merge per field. A field the server still holds at the tablet's base value is
    applied quietly. A field someone else changed since the base is still applied — the later
    arrival at the server wins — and the value it overwrote is reported as a conflict. A field
    already equal to the incoming value changes nothing."""
    result = Merge()
    for name, value in incoming.items():
        now = current.get(name)
        if _same(now, value):
            continue
        result.apply[name] = value
        if name in base and not _same(now, base[name]):
            result.conflicts.append(FieldConflict(field=name, kept=value, lost=now))
    return result


def payload_hash(mutation: dict[str, Any]) -> str:
    """What makes two pushes 'the same mutation': everything but transport details."""
    keep = {k: mutation.get(k) for k in ("id", "name", "entity_id", "base_version", "base_values", "args")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class SeqCheck:
    kind: str  # "new" | "replay" | "gap"
    expected: int


def check_seq(last_applied: int, seq: int) -> SeqCheck:
    """A device numbers its mutations 1, 2, 3 …; the server applies each exactly once, in order."""
    if seq <= last_applied:
        return SeqCheck("replay", last_applied + 1)
    if seq != last_applied + 1:
        return SeqCheck("gap", last_applied + 1)
    return SeqCheck("new", seq)
