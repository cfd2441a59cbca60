"""The one write path for domain records: sync columns, change sequence, change index, audit.

Every service writes through `write(actor, clock)`. The transaction it opens first takes the next
number from the change counter (whose row lock is held until commit, so sequence order is commit
order), then each insert, update or tombstone stamps that number as the row's `version`, adds a
row per bucket to the change index, and appends to the audit chain, all before the commit.

`batch(clock)` runs several such writes in ONE transaction (a sync push): each gets its own
savepoint and its own sequence number, and a write that fails is rolled back to its savepoint
alone, so the others still commit together. Holding the counter's lock for the whole transaction
is what lets a transaction keep some things in memory and write them once, just before it
commits (see `Pending`): no other writer can touch them until then.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import BigInt, Boolean, Timestamptz, Varchar
from piccolo.table import Table

from inspection import db
from inspection.actor import Actor
from inspection.audit import service as audit
from inspection.clock import Clock
from inspection.errors import NotFound, ValidationFailed, VersionConflict
from inspection.messages import t
from inspection.sync.tables import ChangeCounter

if TYPE_CHECKING:
    from piccolo.engine.postgres import PostgresTransaction
    from piccolo.engine.sqlite import SQLiteTransaction

REFERENCE_BUCKET = "ref"
# Change index rows per INSERT when a transaction writes them (5 values each; both engines take
# 32,766 values in one statement).
INDEX_ROWS_PER_STATEMENT = 500

T = TypeVar("T", bound=Table)
V = TypeVar("V")


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


def office_bucket(project_id: UUID | str) -> str:
    """What only the project's office roles (projects.rules.OFFICE_ROLES) receive: complaints."""
    return f"project:{project_id}:office"


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
            raise ValidationFailed(t("records.text_must_not_contain_nul_character"), field=key)


@cache
def _select_by_id(table: type[Table]) -> str:
    columns = ", ".join(f'"{c._meta.db_column_name}" AS "{c._meta.name}"' for c in table._meta.columns)
    key = table._meta.primary_key._meta.db_column_name
    return f'SELECT {columns} FROM "{table._meta.tablename}" WHERE "{key}" = {{}}'  # noqa: S608 - model names


async def load_row(table: type[Table], row_id: Any) -> dict[str, Any] | None:
    """A record's current row by primary key, as `table.select()` gives it, without building the
    query through the ORM each time (that costs more than the query on a push's hot path)."""
    rows = await db.raw(_select_by_id(table), row_id)
    return rows[0] if rows else None


async def next_seq() -> int:
    rows = await db.raw("UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value")
    if not rows:
        await ChangeCounter.insert(ChangeCounter(id=1, value=1))
        return 1
    return int(rows[0]["value"])


@dataclass(frozen=True)
class _Mark:
    next_seq: int
    index: int
    audit_rows: int


@dataclass
class Pending:
    """What one write transaction keeps in memory while it holds the change counter's lock, and
    writes once just before it commits: the counter's new value, the change index rows, the
    audit entries and the chain's head. Reads that only this transaction can change are
    remembered here too (`remembered`).

    This is safe only because every writer takes the counter first (see `write`): until this
    transaction commits, nobody else can number a change, index one or append to the chain."""

    seq_in_db: int  # the counter's value this transaction wrote when it took the lock
    next_seq: int
    index: list[tuple[int, str, str, UUID, bool]] = field(default_factory=list)
    audit: audit.PendingEntries | None = None  # from the first append on
    memo: dict[Hashable, tuple[frozenset[str], Any]] = field(default_factory=dict)

    @classmethod
    def start(cls, seq: int) -> Pending:
        return cls(seq_in_db=seq, next_seq=seq)

    def take_seq(self) -> int:
        seq = self.next_seq
        self.next_seq += 1
        return seq

    def mark(self) -> _Mark:
        return _Mark(self.next_seq, len(self.index), len(self.audit.rows) if self.audit else 0)

    def undo(self, mark: _Mark) -> None:
        """Forget what was kept since `mark`: its writes were rolled back to a savepoint. A number
        handed out since is handed out again; nothing that used it was committed."""
        self.next_seq = mark.next_seq
        del self.index[mark.index :]
        if self.audit is not None:  # the head it read is still the head: only entries are undone
            del self.audit.rows[mark.audit_rows :]
        self.memo.clear()  # a read remembered since may have seen the rolled-back writes

    def forget(self, tablename: str) -> None:
        for key in [k for k, (tables, _) in self.memo.items() if tablename in tables]:
            del self.memo[key]

    async def flush(self) -> None:
        last = self.next_seq - 1
        if last > self.seq_in_db:
            await db.raw("UPDATE sync_counter SET value = {} WHERE id = 1", last)
            self.seq_in_db = last
        if self.index:
            # One row per (bucket, table, record): the last change of a record in this transaction
            # wins (numbers rise in list order), and a statement never names a row twice, which
            # PostgreSQL's ON CONFLICT DO UPDATE refuses.
            latest = {(b, t, r): (seq, b, t, r, d) for seq, b, t, r, d in self.index}
            rows = list(latest.values())
            for start in range(0, len(rows), INDEX_ROWS_PER_STATEMENT):
                part = rows[start : start + INDEX_ROWS_PER_STATEMENT]
                await db.raw(
                    "INSERT INTO sync_change (seq, bucket, table_name, row_id, deleted) VALUES "  # noqa: S608
                    + ", ".join("({}, {}, {}, {}, {})" for _ in part)
                    + " ON CONFLICT (bucket, table_name, row_id)"
                    " DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted",
                    *[value for row in part for value in row],
                )
            self.index.clear()
        if self.audit is not None:
            await audit.write_pending(self.audit)


@dataclass
class Write:
    """One write: its sequence number, its time and who is acting, in a transaction that holds
    the change counter (`pending`)."""

    actor: Actor
    seq: int
    now: datetime
    pending: Pending
    changed: list[tuple[str, UUID]] = field(default_factory=list)

    async def _index(self, table: type[Table], row_id: UUID, buckets: Iterable[str], deleted: bool) -> None:
        """Record this write as the latest change of the row in each bucket. One row per
        (bucket, table, record), moved forward on every write, so a pull meets each record once.
        The rows are written when the transaction is about to commit (`Pending.flush`)."""
        tablename = table._meta.tablename
        for b in dict.fromkeys(buckets):
            self.pending.index.append((self.seq, b, tablename, row_id, deleted))
        self.pending.forget(tablename)
        self.changed.append((tablename, row_id))

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
        row = await load_row(table, row_id)
        if row is None:
            raise NotFound(t("records.does_not_exist", tablename=table._meta.tablename, row_id=row_id))
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
                t(
                    "records.at_version_not",
                    tablename=table._meta.tablename,
                    row_id=row_id,
                    version=row["version"],
                    expected_version=expected_version,
                ),
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


def _gate() -> contextlib.AbstractAsyncContextManager[Any]:
    """The write gate, except inside a transaction opened by other means (a scheduler job holding
    its lock): that transaction may already hold the counter, and queueing behind another writer
    would deadlock."""
    if db.engine().current_transaction.get() is not None:
        return contextlib.nullcontext()
    return _write_gate()


_batch: ContextVar[Batch | None] = ContextVar("current_batch", default=None)


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
    if _batch.get() is not None:
        raise RuntimeError("inside a batch, write through Batch.write: it hands out the batch's numbers")
    async with _gate(), db.transaction():
        pending = Pending.start(await next_seq())
        current = Write(actor=actor, seq=pending.take_seq(), now=clock.now(), pending=pending)
        token = _current.set(current)
        try:
            yield current
        finally:
            _current.reset(token)
        await pending.flush()


class Batch:
    """Writes that share one transaction, each under its own savepoint and sequence number."""

    def __init__(self, transaction: SQLiteTransaction | PostgresTransaction, pending: Pending, clock: Clock) -> None:
        self._transaction = transaction
        self._pending = pending
        self._clock = clock

    @asynccontextmanager
    async def write(self, actor: Actor) -> AsyncIterator[Write]:
        """Like `write()`, inside the batch: if the block raises, everything it wrote (rows,
        change index, audit entries, its number) is rolled back and the batch goes on."""
        if _current.get() is not None:
            raise RuntimeError("a batch's writes cannot be nested in each other")
        savepoint = await self._transaction.savepoint()
        mark = self._pending.mark()
        current = Write(actor=actor, seq=self._pending.take_seq(), now=self._clock.now(), pending=self._pending)
        token = _current.set(current)
        try:
            yield current
        except Exception:
            # PostgreSQL refuses every statement after a failed one until this rollback
            await savepoint.rollback_to()
            self._pending.undo(mark)
            raise
        finally:
            _current.reset(token)
        # Not released: releasing is one more trip to the database per write, and a savepoint
        # left open only nests the next one (keep batches short: PostgreSQL caches 64 per
        # transaction). Rolling back to one leaves the earlier ones as they are.


@asynccontextmanager
async def batch(clock: Clock) -> AsyncIterator[Batch]:
    """One transaction for many writes (see `Batch.write`), committed together when the block
    ends without an exception. It holds the change counter, and on SQLite the write lock, from
    start to commit: keep it short, other writers wait for it."""
    if _current.get() is not None or _batch.get() is not None:
        raise RuntimeError("a batch cannot run inside a write or another batch")
    async with _gate(), db.transaction() as transaction:
        pending = Pending.start(await next_seq())
        current = Batch(transaction, pending, clock)
        token = _batch.set(current)
        try:
            yield current
        finally:
            _batch.reset(token)
        await pending.flush()


async def remembered(key: Hashable, tables: Iterable[str], load: Callable[[], Awaitable[V]]) -> V:
    """Inside a write transaction, read once what depends only on `tables`, and read again after
    this transaction writes to one of them. Nobody else can change those rows before it commits
    as long as they are only written through this module (which takes the change counter first).
    Outside a write, just reads."""
    current = _current.get()
    if current is None:
        return await load()
    found = current.pending.memo.get(key)
    if found is not None:
        return found[1]  # type: ignore[no-any-return]
    value = await load()
    current.pending.memo[key] = (frozenset(tables), value)
    return value
