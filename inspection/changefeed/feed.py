"""Reading the change feed: where a reader stands (`Position`), the scopes' heads, a page of changes.

A position holds, per bucket, the sequence number (in the bucket's scope) up to which the reader
has everything. A pull in progress also pins a target per scope, so that all its pages come from
one range, and the key of the last change it sent. Pages walk the index in (scope, seq, table,
record) order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from inspection import db
from inspection.changefeed.scopes import scope_from_name, scope_name, scope_of_bucket

Key = tuple[UUID, int, str, str]  # scope, seq, table, record id


@dataclass
class Position:
    buckets: dict[str, int] = field(default_factory=dict)
    targets: dict[UUID, int] | None = None
    key: Key | None = None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Position:
        """A cursor's content. Version 1 (one global sequence) stays readable: every scope began
        at the global counter's last value, so its bucket positions hold in their scopes as they
        are. A version 1 pull caught between pages starts that pull again from its positions
        (what it had received is sent again; nothing is skipped)."""
        buckets = {str(b): int(s) for b, s in dict(payload.get("b") or {}).items()}
        if payload.get("v", 1) < 2:
            return cls(buckets)
        targets = payload.get("t")
        key = payload.get("k")
        return cls(
            buckets,
            {scope_from_name(n): int(s) for n, s in targets.items()} if targets is not None else None,
            (scope_from_name(key[0]), int(key[1]), str(key[2]), str(key[3])) if key else None,
        )

    def payload(self) -> dict[str, Any]:
        return {
            "v": 2,
            "b": self.buckets,
            "t": {scope_name(s): n for s, n in self.targets.items()} if self.targets is not None else None,
            "k": [scope_name(self.key[0]), self.key[1], self.key[2], self.key[3]] if self.key else None,
        }


@dataclass(frozen=True)
class ScopeHead:
    seq: int
    purged_through: int


async def heads(snapshot: db.Snapshot, scopes: list[UUID]) -> dict[UUID, ScopeHead]:
    """The scopes' last committed numbers (0 for a scope nothing was written in yet)."""
    if not scopes:
        return {}
    rows = await snapshot.tuples(
        "SELECT scope, seq, purged_through FROM sync_scope WHERE scope IN ("  # noqa: S608
        + ", ".join("{}" for _ in scopes)
        + ")",
        *scopes,
    )
    found = {(s if isinstance(s, UUID) else UUID(str(s))): ScopeHead(int(n), int(p)) for s, n, p in rows}
    return {s: found.get(s, ScopeHead(0, 0)) for s in scopes}


@dataclass(frozen=True)
class Listed:
    scope: UUID
    seq: int
    table_name: str
    row_id: str
    deleted: bool


async def page(
    snapshot: db.Snapshot,
    since: dict[str, int],
    new: list[str],
    targets: dict[UUID, int],
    after: Key | None,
    limit: int,
) -> list[Listed]:
    """Changes after `since` in known buckets, and the live records of `new` buckets (a snapshot
    without tombstones), up to each scope's target, after the key `after`, in key order; each
    record once."""
    clauses: list[str] = []
    args: list[Any] = []
    for bucket, seq in since.items():
        scope = scope_of_bucket(bucket)
        clauses.append("(bucket = {} AND seq > {} AND seq <= {})")
        args += [bucket, seq, targets[scope]]
    for bucket in new:
        scope = scope_of_bucket(bucket)
        clauses.append("(bucket = {} AND deleted = {} AND seq <= {})")
        args += [bucket, False, targets[scope]]
    if not clauses:
        return []
    sql = (
        "SELECT DISTINCT scope, seq, table_name, CAST(row_id AS TEXT) AS row_id, deleted"  # noqa: S608
        " FROM sync_change WHERE (" + " OR ".join(clauses) + ")"
    )
    if after is not None:
        scope, seq, table_name, row_id = after
        sql += (
            " AND (scope > {} OR (scope = {} AND (seq > {} OR (seq = {} AND"
            " (table_name > {} OR (table_name = {} AND row_id > {}))))))"
        )
        args += [scope, scope, seq, seq, table_name, table_name, UUID(row_id)]
    sql += " ORDER BY scope, seq, table_name, row_id LIMIT {}"
    args.append(limit)
    # A record listed under two of the reader's buckets (a project's and a contractor's) has one
    # change: the same scope, number and flag; it is sent once.
    seen: set[tuple[str, str]] = set()
    out = []
    for scope, seq, table_name, row_id, deleted in await snapshot.tuples(sql, *args):
        if (table_name, row_id) in seen:
            continue
        seen.add((table_name, row_id))
        out.append(
            Listed(scope if isinstance(scope, UUID) else UUID(str(scope)), int(seq), table_name, row_id, bool(deleted))
        )
    return out
