"""The one write path for domain records: sync columns, change sequence, change index, audit.

Every service writes through `write(actor, clock)`. The transaction it opens first takes the next
number from the change counter (whose row lock is held until commit, so sequence order is commit
order), then each insert, update or tombstone stamps that number as the row's `version`, adds a
row per bucket to the change index, and appends to the audit chain, all before the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import weakref
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import BigInt, Boolean, Timestamptz, Varchar
from piccolo.table import Table

from inspection import db
from inspection.actor import Actor
from inspection.audit import service as audit
from inspection.clock import Clock
from inspection.errors import NotFound, ValidationFailed, VersionConflict
from inspection.sync.tables import ChangeCounter

REFERENCE_BUCKET = "ref"

T = TypeVar("T", bound=Table)


class SyncColumns:
    """Columns every syncable table carries (see shared/DESIGN.md). Mixed into each table class,
    which declares its own `id = UUID(primary_key=True)`."""

    version = BigInt(default=0, index=True)
    updated_at = Timestamptz()
    deleted = Boolean(default=False)
    created_by = UUIDColumn(null=True, default=None)
    device_id = Varchar(length=64, default="")


def new_id() -> UUID:
    """UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits; time-ordered, so ids made
    offline on tablets index well. Python 3.11 has no uuid7 of its own."""
    ms = time.time_ns() // 1_000_000
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return UUID(int=value)


def project_bucket(project_id: UUID | str) -> str:
    return f"project:{project_id}"


def contractor_bucket(project_id: UUID | str, organisation_id: UUID | str) -> str:
    return f"project:{project_id}:org:{organisation_id}"


def context_bucket(project_id: UUID | str) -> str:
    """What a contractor needs around its own records: the project, its sites and buildings."""
    return f"project:{project_id}:context"


def context_buckets(project_id: UUID | str) -> list[str]:
    return [project_bucket(project_id), context_bucket(project_id)]


def _plain(value: Any) -> Any:
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def refuse_nul(values: dict[str, Any]) -> None:
    """PostgreSQL cannot store U+0000 in text and SQLite would keep it silently: refuse it on both
    engines alike, before anything is written, naming the field."""
    for key, value in values.items():
        if isinstance(value, str) and "\x00" in value:
            raise ValidationFailed("text must not contain the NUL character (U+0000)", field=key)


async def next_seq() -> int:
    rows = await db.raw("UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value")
    if not rows:
        await ChangeCounter.insert(ChangeCounter(id=1, value=1))
        return 1
    return int(rows[0]["value"])


@dataclass
class Write:
    """One write transaction: its sequence number, its time and who is acting."""

    actor: Actor
    seq: int
    now: datetime
    changed: list[tuple[str, UUID]] = field(default_factory=list)

    async def _index(self, table: type[Table], row_id: UUID, buckets: Iterable[str], deleted: bool) -> None:
        """Record this transaction as the latest change of the row in each bucket. One row per
        (bucket, table, record), moved forward on every write, so a pull meets each record once."""
        unique_buckets = list(dict.fromkeys(buckets))
        if unique_buckets:
            values = ", ".join("({}, {}, {}, {}, {})" for _ in unique_buckets)
            args: list[Any] = []
            for b in unique_buckets:
                args += [self.seq, b, table._meta.tablename, row_id, deleted]
            await db.raw(
                "INSERT INTO sync_change (seq, bucket, table_name, row_id, deleted) VALUES "  # noqa: S608
                + values
                + " ON CONFLICT (bucket, table_name, row_id)"
                " DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted",
                *args,
            )
        self.changed.append((table._meta.tablename, row_id))

    def _stamp(self) -> dict[str, Any]:
        return {
            "version": self.seq,
            "updated_at": self.now,
            "device_id": self.actor.device_id,
        }

    async def insert(
        self, table: type[T], values: dict[str, Any], buckets: Iterable[str], *, audit_values: bool = True
    ) -> dict[str, Any]:
        refuse_nul(values)
        row_id = values.get("id") or new_id()
        record = {
            **values,
            "id": row_id,
            **self._stamp(),
            "deleted": False,
            "created_by": self.actor.user_id,
        }
        await table.insert(table(**record))
        await self._index(table, row_id, buckets, deleted=False)
        shown = {k: _plain(v) for k, v in values.items() if k != "id"} if audit_values else {}
        await audit.append(self, "create", table._meta.tablename, row_id, shown)
        return record

    async def load(self, table: type[T], row_id: UUID) -> dict[str, Any]:
        row = await table.select().where(table._meta.primary_key == row_id).first()
        if row is None:
            raise NotFound(f"{table._meta.tablename} {row_id} does not exist")
        return row

    async def update(
        self,
        table: type[T],
        row_id: UUID,
        changes: dict[str, Any],
        buckets: Iterable[str],
        *,
        expected_version: int | None = None,
        action: str = "update",
        current: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Apply `changes`; with `expected_version`, refuse if someone else wrote in between."""
        row = current if current is not None else await self.load(table, row_id)
        if expected_version is not None and row["version"] != expected_version:
            raise VersionConflict(
                f"{table._meta.tablename} {row_id} is at version {row['version']}, not {expected_version}",
                field="version",
                current_version=row["version"],
            )
        refuse_nul(changes)
        diff = {k: v for k, v in changes.items() if row.get(k) != v}
        if not diff and action == "update":
            return row
        stamped = {**diff, **self._stamp()}
        await table.update({getattr(table, k): v for k, v in stamped.items()}).where(table._meta.primary_key == row_id)
        await self._index(table, row_id, buckets, deleted=bool(stamped.get("deleted", row.get("deleted"))))
        await audit.append(
            self,
            action,
            table._meta.tablename,
            row_id,
            {k: {"from": _plain(row.get(k)), "to": _plain(v)} for k, v in diff.items()},
        )
        return {**row, **stamped}

    async def tombstone(
        self, table: type[T], row_id: UUID, buckets: Iterable[str], *, expected_version: int | None = None
    ) -> dict[str, Any]:
        """Rows are never hard-deleted while a tablet may hold them: mark them deleted instead."""
        return await self.update(
            table, row_id, {"deleted": True}, buckets, expected_version=expected_version, action="delete"
        )


_current: ContextVar[Write | None] = ContextVar("current_write", default=None)
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _write_gate() -> asyncio.Lock:
    """This process's queue for the change counter (one per event loop).

    Write transactions take turns on the counter row anyway. Queueing for it here, before a
    connection is taken, keeps the waiting writers from holding the pool's connections (readers
    and pulls would wait behind them), and on SQLite replaces the busy handler's sleep-and-retry
    with first come, first served. Across processes the counter row's lock still orders them.
    """
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Lock()
    return gate


@asynccontextmanager
async def write(actor: Actor, clock: Clock) -> AsyncIterator[Write]:
    """One write transaction with one sequence number. Called inside another write (a service
    used by a sync push handler), it joins the outer one: still one transaction, one number.
    Writers of one process queue for the counter in this process first (`_write_gate`)."""
    outer = _current.get()
    if outer is not None:
        if outer.actor.user_id != actor.user_id:
            raise RuntimeError("a nested write must act for the same user as the outer one")
        yield outer
        return
    # Inside a transaction opened by other means (a scheduler job holding its lock) the counter
    # may already be held by that transaction: queueing behind another writer would deadlock.
    gate = _write_gate() if db.engine().current_transaction.get() is None else contextlib.nullcontext()
    async with gate, db.transaction():
        current = Write(actor=actor, seq=await next_seq(), now=clock.now())
        token = _current.set(current)
        try:
            yield current
        finally:
            _current.reset(token)
