"""The one write path for domain records: sync columns, compare-and-set versions, the change feed.

Every service writes through `write(actor, clock)`: one transaction, with no lock but the rows it
writes until it is about to commit. Then the change feed (inspection/changefeed/) locks the
scopes (projects, `ref`, `sys`) the transaction wrote, numbers its changes in each, indexes them
per bucket, lets the audit log chain its entries, and the transaction commits.

A record's `version` counts its writes. An update is a compare-and-set on it (`WHERE id = … AND
version = …`): when another transaction wrote the row since it was read, nothing is written and
`RaceLost` is raised (409; a sync push reloads and merges again instead).

`batch(clock)` runs several writes in ONE transaction (a sync push): each under its own savepoint
and with its own numbers, and a write that fails is rolled back to its savepoint alone, so the
others still commit together. A batch may hold records (`Batch.hold`: read and locked in one
statement): its writes then read them from memory, and their updates are compare-and-sets kept
until the batch writes them all in one statement per table (`Batch.write_out`); a write that
changes nothing else (`Batch.write(lazy=True)`) needs no savepoint at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable, Iterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import asyncpg
from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import BigInt, Boolean, Timestamptz, Varchar
from piccolo.table import Table

from inspection import db
from inspection.actor import Actor
from inspection.changefeed.pending import Change, Event, Pending, ProjectSwitch, Step
from inspection.changefeed.scopes import (
    REF_SCOPE,
    REFERENCE_BUCKET,
    SYS_SCOPE,
    context_bucket,
    context_buckets,
    contractor_bucket,
    office_bucket,
    project_bucket,
    scope_of_bucket,
    scope_of_row,
)
from inspection.clock import Clock
from inspection.errors import NotFound, ValidationFailed, VersionConflict
from inspection.ids import new_id
from inspection.messages import t

if TYPE_CHECKING:
    from piccolo.engine.postgres import PostgresTransaction
    from piccolo.engine.sqlite import SQLiteTransaction

__all__ = [
    "REFERENCE_BUCKET",
    "REF_SCOPE",
    "Batch",
    "ProjectSwitch",
    "RaceLost",
    "SyncColumns",
    "Write",
    "batch",
    "bookkeeping",
    "contended",
    "context_bucket",
    "context_buckets",
    "contractor_bucket",
    "load_row",
    "locked_row",
    "new_id",
    "office_bucket",
    "project_bucket",
    "read_row",
    "remembered",
    "retry_races",
    "share_lock",
    "write",
]

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


class RaceLost(VersionConflict):
    """Another transaction wrote the same record (or made one with the same key) between this
    one's read and its write. Nothing of this write is kept; reading again and retrying is safe."""

    slug = "concurrent-change"
    title = "The record was changed by someone else at the same moment"
    # (table, id) of the record the write lost, when it was an update: the next attempt reads it
    # locked (`contended`)
    record: tuple[str, str] | None = None


def plain(value: Any) -> Any:
    """A column value as JSON holds it: UUIDs and decimals as strings, times and dates in ISO 8601."""
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
    query through the ORM each time (that costs more than the query on a push's hot path).
    Inside a write that lost a race for this record before (`contended`), read and locked."""
    batch = _batch.get()
    if batch is not None and batch.held:
        held = batch.held.get((table._meta.tablename, str(row_id)))
        if held is not None:
            return dict(held)  # read and locked when the batch began (`Batch.hold`)
    sql = _select_by_id(table)
    if _contended.get() and (table._meta.tablename, str(row_id)) in _contended.get() and _current.get() is not None:
        sql += "" if db.is_sqlite() else " FOR UPDATE"
    rows = await db.raw(sql, row_id)
    return rows[0] if rows else None


# Records a write lost a race for: read again locked, so that the next attempt cannot lose again.
_contended: ContextVar[frozenset[tuple[str, str]]] = ContextVar("contended_records", default=frozenset())


@contextlib.contextmanager
def contended(lost: Iterable[RaceLost]) -> Iterator[None]:
    """Run the next attempt of a write that lost races (`RaceLost`) with the records it lost read
    locked to its commit (`FOR UPDATE` on PostgreSQL). The first attempt reads without a lock
    and a compare-and-set catches a concurrent write; on a hot record (ten tablets editing one
    site) an optimistic writer can lose every attempt to the next writer, so after one loss it
    waits its turn for the row instead."""
    keys = frozenset(exc.record for exc in lost if exc.record is not None)
    token = _contended.set(_contended.get() | keys)
    try:
        yield
    finally:
        _contended.reset(token)


async def read_row(table: type[Table], row_id: Any) -> dict[str, Any] | None:
    """`load_row`, read once per write transaction until it writes to the table (a push's command
    reads its record, then the service it calls reads it again). An update through `Write` checks
    the version it read, so a row changed meanwhile by someone else is never written over."""
    return await remembered(
        ("row", table._meta.tablename, row_id), (table._meta.tablename,), lambda: load_row(table, row_id)
    )


async def locked_row(table: type[Table], row_id: Any, *, exclusive: bool = False) -> dict[str, Any] | None:
    """Inside a write, a row read and locked to the commit, for a write that depends on the row
    without changing it (shared: an answer needs its inspection to stay a draft) or on everything
    under it (exclusive: submitting scores the answers, so none may be added meanwhile). On SQLite,
    and outside a write, a plain read: no one else writes meanwhile there."""
    if _current.get() is None or db.is_sqlite():
        return await load_row(table, row_id)
    rows = await db.raw(_select_by_id(table) + (" FOR UPDATE" if exclusive else " FOR SHARE"), row_id)
    return rows[0] if rows else None


@cache
def _select_by_ids(table: type[Table], count: int, lock: bool, member: bool = False) -> str:
    """By id, in key order; with `member`, only rows of projects the user (one more mark) belongs to."""
    key = table._meta.primary_key._meta.db_column_name
    head = _select_by_id(table).rpartition(" WHERE ")[0]
    marks = ", ".join("{}" for _ in range(count))
    within = ' AND "project" IN (SELECT project FROM membership WHERE "user" = {} AND deleted = {})' if member else ""
    return f'{head} WHERE "{key}" IN ({marks}){within} ORDER BY "{key}"' + (" FOR UPDATE" if lock else "")


def _cast_type(table: type[Table], name: str) -> str:
    """The SQL type a value of column `name` is cast to in a VALUES list (PostgreSQL infers none
    there). Without a length or precision: the assignment itself checks those, as it does in a
    plain UPDATE, where a cast to VARCHAR(n) would cut a longer text short silently."""
    column = next(c for c in table._meta.columns if c._meta.name == name)
    return str(column.column_type).partition("(")[0]


@cache
def _compare_and_set_many(table: type[Table], columns: tuple[str, ...], count: int, sqlite: bool) -> str:
    """One compare-and-set for `count` rows, each `(id, version read, *columns)`: set-based, so a
    push of many field edits writes each table in one statement instead of one per record."""
    by_name = {c._meta.name: c._meta.db_column_name for c in table._meta.columns}
    key = table._meta.primary_key._meta.db_column_name
    names = ("id", "version", *columns)
    if sqlite:
        row = "(" + ", ".join("{}" for _ in names) + ")"
    else:
        types = [_cast_type(table, key if n == "id" else n) for n in names]
        row = "(" + ", ".join(f"CAST({{}} AS {t})" for t in types) + ")"
    sets = ", ".join(f'"{by_name[c]}" = v.column{i + 3}' for i, c in enumerate(columns))
    name = table._meta.tablename
    return (
        f'UPDATE "{name}" SET {sets} FROM (VALUES {", ".join(row for _ in range(count))}) AS v'  # noqa: S608
        f' WHERE "{name}"."{key}" = v.column1 AND "{name}"."version" = v.column2 RETURNING "{name}"."{key}"'
    )


@cache
def _compare_and_set(table: type[Table], columns: tuple[str, ...]) -> str:
    by_name = {c._meta.name: c._meta.db_column_name for c in table._meta.columns}
    sets = ", ".join(f'"{by_name[c]}" = {{}}' for c in columns)
    key = table._meta.primary_key._meta.db_column_name
    return (
        f'UPDATE "{table._meta.tablename}" SET {sets} WHERE "{key}" = {{}} AND "version" = {{}}'  # noqa: S608
        ' RETURNING "version"'
    )


def _unique_violation(exc: BaseException) -> str | None:
    """The column a failed insert collided on, when it collided with a unique key."""
    if isinstance(exc, asyncpg.exceptions.UniqueViolationError):
        detail = exc.detail or ""  # Key (label_code)=(…) already exists.
        return detail.partition("(")[2].partition(")")[0].split(", ")[-1] or "id"
    if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc):
        return str(exc).rpartition(".")[2] or "id"
    return None


@dataclass
class Write:
    """One write: who is acting and when, its share of the transaction (`step`, numbered at
    commit), in a transaction whose commit the change feed prepares (`pending`)."""

    actor: Actor
    now: datetime
    pending: Pending
    step: Step
    changed: list[tuple[str, UUID]] = field(default_factory=list)
    # Run before this write's first statement that changes rows: a batch's write that may need no
    # statement at all takes its savepoint only then (`Batch.write(lazy=True)`).
    before_change: Callable[[], Awaitable[None]] | None = None

    @property
    def seq(self) -> int:
        """This write's number in its project's scope (or its only scope); known after commit."""
        return self.step.seq

    def allow_projects(self, *projects: UUID) -> None:
        """This transaction writes to these projects together (none named: to any). Say it only
        where it must: on a sharded database it becomes a two-phase commit."""
        self.pending.allow_projects(*projects)

    def _scope(self, table: type[Table], row: dict[str, Any], buckets: list[str]) -> UUID:
        if buckets:
            scopes = {scope_of_bucket(b) for b in buckets}
            if len(scopes) > 1:
                raise RuntimeError(f"{table._meta.tablename}: buckets {buckets} span several scopes")
            return scopes.pop()
        return scope_of_row(table._meta.tablename, row)

    def _record(
        self,
        table: type[Table],
        row: dict[str, Any],
        buckets: Iterable[str],
        deleted: bool,
        action: str,
        changes: dict[str, Any],
    ) -> None:
        """Note the change for the index (one row per bucket and record, moved forward on every
        write, so a pull meets each record once) and the event for the audit log. Both are
        written when the transaction is about to commit (`Pending.flush`)."""
        tablename = table._meta.tablename
        bucket_list = list(dict.fromkeys(buckets))
        scope = self._scope(table, row, bucket_list)
        self.pending.touch(self.step, scope)
        row_id = row["id"]
        for b in bucket_list:
            self.step.changes.append(Change(scope, b, tablename, row_id, deleted))
        self.step.events.append(Event(scope, action, tablename, row_id, changes))
        self.pending.forget(tablename)
        self.pending.written.add((tablename, row_id))
        self.changed.append((tablename, row_id))

    def note(
        self, action: str, table_name: str, record_id: Any, changes: dict[str, Any], *, scope: UUID | None = None
    ) -> None:
        """An audit entry for something done outside `insert`/`update` (a raw statement, a fact
        about a record written just before). It goes to `scope`, else to the scope of what this
        write recorded last, else to `sys`; it changes nothing a tablet receives."""
        if scope is None:
            scope = self.step.events[-1].scope if self.step.events else SYS_SCOPE
        self.pending.touch(self.step, scope)
        self.step.events.append(Event(scope, action, table_name, record_id, changes))

    def _stamp(self, version: int) -> dict[str, Any]:
        return {"version": version, "updated_at": self.now, "device_id": self.actor.device_id}

    async def insert(
        self, table: type[T], values: dict[str, Any], buckets: Iterable[str], *, audit_values: bool = True
    ) -> dict[str, Any]:
        refuse_nul(values)
        row_id = values.get("id") or new_id()
        record = {**values, "id": row_id, **self._stamp(1), "deleted": False, "created_by": self.actor.user_id}
        if self.before_change is not None:
            await self.before_change()
        try:
            await table.insert(table(**record))
        except (asyncpg.exceptions.UniqueViolationError, sqlite3.IntegrityError) as exc:
            column = _unique_violation(exc)
            if column is None:
                raise
            # Only a concurrent writer gets here: services look for the key first. PostgreSQL has
            # given up on this transaction (or savepoint) already; the caller must not go on in it.
            raise RaceLost(
                t("records.made_at_the_same_moment", column=column),
                field=column,
            ) from None
        shown = {k: plain(v) for k, v in values.items() if k != "id"} if audit_values else {}
        self._record(table, record, buckets, False, "create", shown)
        return record

    def bulk_inserted(self, table: type[Table], ids: list[UUID], buckets: list[str], project_id: UUID) -> None:
        """Index rows the caller inserted in bulk itself (seeding a benchmark or an import), with
        `version` 1: they are numbered and sent to tablets like any others; the audit log gets
        one entry for the lot."""
        scope = self._scope(table, {"project": project_id}, buckets)
        self.pending.touch(self.step, scope)
        for row_id in ids:
            self.step.changes.extend(Change(scope, b, table._meta.tablename, row_id, False) for b in buckets)
        self.step.events.append(Event(scope, "bulk_create", table._meta.tablename, "", {"rows": len(ids)}))

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
        batch = _batch.get()
        if batch is not None and (table._meta.tablename, str(row_id)) in batch.held:
            return self._update_held(batch, table, row, changes, buckets, action)
        if self.before_change is not None:
            await self.before_change()
        for attempt in (1, 2):
            diff = {k: v for k, v in changes.items() if row.get(k) != v}
            if not diff and action == "update":
                return row
            stamped = {**diff, **self._stamp(int(row["version"]) + 1)}
            columns = tuple(stamped)
            written = await db.raw(
                _compare_and_set(table, columns), *[stamped[c] for c in columns], row_id, row["version"]
            )
            if written:
                break
            fresh = await load_row(table, row_id)
            # The row given as `current` was read before this very transaction wrote it: compare
            # with what it wrote. Anyone else's write since the read is a lost race.
            if attempt == 2 or fresh is None or (table._meta.tablename, row_id) not in self.pending.written:
                lost = RaceLost(
                    t("records.changed_at_the_same_moment"),
                    field="version",
                    current_version=fresh["version"] if fresh else None,
                )
                lost.record = (table._meta.tablename, str(row_id))
                raise lost
            row = fresh
        new = {**row, **stamped}
        self._record(
            table,
            new,
            buckets,
            bool(stamped.get("deleted", row.get("deleted"))),
            action,
            {k: {"from": plain(row.get(k)), "to": plain(v)} for k, v in diff.items()},
        )
        return new

    def _update_held(
        self,
        batch: Batch,
        table: type[T],
        row: dict[str, Any],
        changes: dict[str, Any],
        buckets: Iterable[str],
        action: str,
    ) -> dict[str, Any]:
        """`update` of a row the batch holds locked (`Batch.hold`): no one else can write it until
        the commit, so the compare-and-set cannot miss; it is kept and written with the others at
        the end (`Batch.write_out`), and the held row is what this transaction reads meanwhile."""
        key = (table._meta.tablename, str(row["id"]))
        held = batch.held[key]
        if row["version"] != held["version"]:
            # read before this very transaction wrote it: compare with what it wrote
            if (table._meta.tablename, row["id"]) not in self.pending.written:
                lost = RaceLost(
                    t("records.changed_at_the_same_moment"), field="version", current_version=held["version"]
                )
                lost.record = key
                raise lost
            row = dict(held)
        diff = {k: v for k, v in changes.items() if row.get(k) != v}
        if not diff and action == "update":
            return row
        stamped = {**diff, **self._stamp(int(row["version"]) + 1)}
        batch.defer(table, key, stamped)
        new = {**row, **stamped}
        self._record(
            table,
            new,
            buckets,
            bool(stamped.get("deleted", row.get("deleted"))),
            action,
            {k: {"from": plain(row.get(k)), "to": plain(v)} for k, v in diff.items()},
        )
        return new

    async def tombstone(
        self, table: type[T], row_id: UUID, buckets: Iterable[str], *, expected_version: int | None = None
    ) -> dict[str, Any]:
        """Rows are never hard-deleted while a tablet may hold them: mark them deleted instead."""
        return await self.update(
            table, row_id, {"deleted": True}, buckets, expected_version=expected_version, action="delete"
        )


# Times a service call that lost a race for a record is run again from the start.
RACE_ATTEMPTS = 3
C = TypeVar("C", bound=type)


def retry_races(cls: C) -> C:
    """Make every public coroutine method of a service class run again from the start, up to
    RACE_ATTEMPTS times, when its transaction lost a race for a record (`RaceLost`: rolled back
    whole, nothing kept). So a REST call behaves as if it had waited its turn: it reads again and
    judges the move on what is there now (a 409 naming the current state, say, rather than one
    saying "someone else was faster"). A call inside a write or a batch (a sync push's command)
    is not repeated here: the push rolls back and repeats the mutation itself. Only for methods
    whose arguments can be used twice (not a request body being streamed)."""
    for name, method in list(vars(cls).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(method):
            setattr(cls, name, _retrying(method))
    return cls


def _retrying(method: Callable[..., Awaitable[V]]) -> Callable[..., Awaitable[V]]:
    @functools.wraps(method)
    async def run(*args: Any, **kw: Any) -> V:
        if _current.get() is not None or _batch.get() is not None or db.engine().current_transaction.get() is not None:
            return await method(*args, **kw)
        lost: list[RaceLost] = []
        for attempt in range(1, RACE_ATTEMPTS + 1):
            try:
                with contended(lost):
                    return await method(*args, **kw)
            except RaceLost as exc:
                if attempt == RACE_ATTEMPTS:
                    raise
                lost.append(exc)
        raise AssertionError("unreachable")

    return run


_current: ContextVar[Write | None] = ContextVar("current_write", default=None)
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
# Connections of the PostgreSQL pool that writers leave to readers and pulls.
READER_CONNECTIONS = 2


def _write_gate() -> asyncio.Semaphore:
    """This process's queue for writing (one per event loop).

    On SQLite one transaction writes at a time anyway: queueing here, first come first served,
    replaces the busy handler's sleep-and-retry. On PostgreSQL writers of different projects run
    side by side; this only keeps them from taking every pooled connection, so that readers and
    pulls never queue behind writers waiting for a row."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        engine = db.engine()
        pool = getattr(engine, "pool", None)
        size = 1 if db.is_sqlite() or pool is None else max(1, pool.get_max_size() - READER_CONNECTIONS)
        gate = _gates[loop] = asyncio.Semaphore(size)
    return gate


def _gate() -> contextlib.AbstractAsyncContextManager[Any]:
    """The write gate, except inside a transaction opened by other means (a scheduler job holding
    its lock): that transaction holds a connection (and on SQLite the write lock) already, and
    queueing behind another writer could deadlock."""
    if db.engine().current_transaction.get() is not None:
        return contextlib.nullcontext()
    return _write_gate()


_batch: ContextVar[Batch | None] = ContextVar("current_batch", default=None)


@asynccontextmanager
async def write(actor: Actor, clock: Clock) -> AsyncIterator[Write]:
    """One write transaction. Called inside another write (a service used by a sync push
    handler), it joins the outer one: still one transaction, one step."""
    outer = _current.get()
    if outer is not None:
        if outer.actor.user_id != actor.user_id:
            raise RuntimeError("a nested write must act for the same user as the outer one")
        yield outer
        return
    if _batch.get() is not None:
        raise RuntimeError("inside a batch, write through Batch.write: it numbers the batch's steps")
    async with _gate(), db.transaction():
        pending = Pending()
        now = clock.now()
        current = Write(actor=actor, now=now, pending=pending, step=pending.step(actor, now))
        token = _current.set(current)
        try:
            yield current
        finally:
            _current.reset(token)
        await pending.flush()


@dataclass
class _Deferred:
    """A held row's update kept for `Batch.write_out`: what it set, and the row before it."""

    table: type[Table]
    key: tuple[str, str]
    before: dict[str, Any]
    columns: tuple[str, ...]


# Rows per set-based compare-and-set (PostgreSQL takes at most 32,767 bound values a statement).
HELD_ROWS_PER_STATEMENT = 500


class Batch:
    """Writes that share one transaction, each under its own savepoint and with its own numbers."""

    def __init__(self, transaction: SQLiteTransaction | PostgresTransaction, pending: Pending, clock: Clock) -> None:
        self._transaction = transaction
        self.pending = pending
        self._clock = clock
        # Rows read and locked for the whole batch (`hold`), as this transaction sees them now,
        # and their updates not written yet (`write_out`).
        self.held: dict[tuple[str, str], dict[str, Any]] = {}
        self.deferred: list[_Deferred] = []
        self.broken: BaseException | None = None
        self.savepoints = 0  # taken so far

    async def hold(self, table: type[Table], ids: Iterable[Any], member: UUID | None = None) -> None:
        """Read these records in one statement and lock them to the commit (`FOR UPDATE` on
        PostgreSQL, in key order, so two batches never wait for each other in a circle; SQLite
        has one writer). Until then the batch's writes read them from here and update them
        without a statement each: their compare-and-sets are written together (`write_out`).
        With `member`, only records of projects that user belongs to are held (a push must not
        lock records its user cannot reach; the others are read, and refused, one by one).
        Call between writes, not inside one."""
        if _current.get() is not None:
            raise RuntimeError("hold rows between a batch's writes, not inside one")
        name = table._meta.tablename
        wanted = sorted({str(i) for i in ids} - {k[1] for k in self.held if k[0] == name})
        lock = not db.is_sqlite()
        within = () if member is None else (member, False)
        for start in range(0, len(wanted), HELD_ROWS_PER_STATEMENT):
            part = wanted[start : start + HELD_ROWS_PER_STATEMENT]
            sql = _select_by_ids(table, len(part), lock, member is not None)
            for row in await db.raw(sql, *[UUID(i) for i in part], *within):
                self.held[(name, str(row["id"]))] = row

    def defer(self, table: type[Table], key: tuple[str, str], stamped: dict[str, Any]) -> None:
        before = self.held[key]
        self.held[key] = {**before, **stamped}
        self.deferred.append(_Deferred(table, key, before, tuple(stamped)))

    def _undo_deferred(self, mark: int) -> None:
        while len(self.deferred) > mark:
            d = self.deferred.pop()
            self.held[d.key] = d.before

    async def write_out(self) -> None:
        """Write the held rows' updates: per table one compare-and-set for all its rows, each row
        once with its final values, checked against the version the batch read. The rows are
        locked, so every one must match; if one does not, the batch cannot commit (`broken`)."""
        if not self.deferred:
            return
        # Per table, the columns any of its rows changed: a row that changed fewer is written its
        # held values in the others, which are what the database holds (it is locked).
        first: dict[tuple[str, str], _Deferred] = {}
        columns: dict[type[Table], set[str]] = {}
        for d in self.deferred:
            first.setdefault(d.key, d)
            columns.setdefault(d.table, set()).update(d.columns)
        groups: dict[tuple[type[Table], tuple[str, ...]], list[tuple[str, str]]] = {}
        for key, d in first.items():
            order = tuple(c._meta.name for c in d.table._meta.columns if c._meta.name in columns[d.table])
            groups.setdefault((d.table, order), []).append(key)
        self.deferred.clear()
        sqlite = db.is_sqlite()
        try:
            for (table, order), keys in groups.items():
                for start in range(0, len(keys), HELD_ROWS_PER_STATEMENT):
                    part = keys[start : start + HELD_ROWS_PER_STATEMENT]
                    args: list[Any] = []
                    for key in part:
                        row = self.held[key]
                        args += [row["id"], first[key].before["version"], *[row[c] for c in order]]
                    written = await db.raw(_compare_and_set_many(table, order, len(part), sqlite), *args)
                    if len(written) != len(part):
                        raise RuntimeError(f"{table._meta.tablename}: a held row changed under the batch holding it")
        except BaseException as exc:
            self.broken = exc
            raise

    @asynccontextmanager
    async def write(self, actor: Actor, *, lazy: bool = False) -> AsyncIterator[Write]:
        """Like `write()`, inside the batch: if the block raises, everything it wrote (rows,
        changes, audit events) is rolled back and the batch goes on. A write that turns to a
        project other than the batch's raises `ProjectSwitch` (rolled back likewise): the
        caller commits the batch and runs it in the next.

        `lazy`: the write takes its savepoint only before its first statement that changes
        rows through `Write` (a field edit of held rows may need none). Only for writes whose
        other statements are reads that cannot fail but with the connection."""
        if _current.get() is not None:
            raise RuntimeError("a batch's writes cannot be nested in each other")
        if self.broken is not None:
            raise RuntimeError("the batch cannot go on") from self.broken
        savepoints: list[Any] = []

        async def take_savepoint() -> None:
            if not savepoints:
                savepoints.append(await self._transaction.savepoint())
                self.savepoints += 1

        if not lazy:
            # what this write reads must be in the database: it may read it by other means
            await self.write_out()
            await take_savepoint()
        mark = self.pending.mark()
        deferred_mark = len(self.deferred)
        now = self._clock.now()
        current = Write(actor=actor, now=now, pending=self.pending, step=self.pending.step(actor, now))
        if lazy:
            current.before_change = take_savepoint
        token = _current.set(current)
        try:
            yield current
        except Exception:
            # PostgreSQL refuses every statement after a failed one until this rollback
            if savepoints:
                await savepoints[0].rollback_to()
            self.pending.undo(mark)
            self._undo_deferred(deferred_mark)
            raise
        finally:
            _current.reset(token)
        # Not released: releasing is one more trip to the database per write, and a savepoint
        # left open only nests the next one (keep batches short: PostgreSQL caches 64 per
        # transaction). Rolling back to one leaves the earlier ones as they are.

    def before_commit(self, statements: Callable[[], Awaitable[list[db.Statement]]]) -> None:
        """Statements made once the batch's writes are numbered, run with the change index."""
        self.pending.before_commit.append(statements)


@asynccontextmanager
async def batch(clock: Clock) -> AsyncIterator[Batch]:
    """One transaction for many writes (see `Batch.write`), committed together when the block
    ends without an exception. It keeps the rows it wrote locked to its commit (and on SQLite
    the write lock): keep it short."""
    if _current.get() is not None or _batch.get() is not None:
        raise RuntimeError("a batch cannot run inside a write or another batch")
    async with _gate(), db.transaction() as transaction:
        pending = Pending(batch=True)
        current = Batch(transaction, pending, clock)
        token = _batch.set(current)
        try:
            yield current
        finally:
            _batch.reset(token)
        if current.broken is not None:
            raise RuntimeError("the batch cannot commit") from current.broken
        await current.write_out()
        await pending.flush()


@asynccontextmanager
async def bookkeeping() -> AsyncIterator[None]:
    """A short transaction for rows that are no domain record (a device's last contact, the
    tombstone horizon): no numbers, no audit, but in the writers' queue, so that on SQLite it
    waits its turn instead of sleeping in the busy handler."""
    if _current.get() is not None or _batch.get() is not None:
        raise RuntimeError("bookkeeping runs in a transaction of its own")
    async with _gate(), db.transaction():
        yield


async def remembered(key: Hashable, tables: Iterable[str], load: Callable[[], Awaitable[V]]) -> V:
    """Inside a write transaction, read once what depends only on `tables`, and read again after
    this transaction writes to one of them. `load` must lock what it reads against writers until
    the commit (`FOR SHARE` on PostgreSQL, see `share_lock`; SQLite has one writer at a time), so
    nobody else can change it meanwhile. Outside a write, just reads."""
    current = _current.get()
    if current is None:
        return await load()
    found = current.pending.memo.get(key)
    if found is not None:
        return found[1]  # type: ignore[no-any-return]
    value = await load()
    current.pending.memo[key] = (frozenset(tables), value)
    return value


def share_lock(*of: str) -> str:
    """The clause that keeps rows read inside a write transaction from changing until it commits
    (of the tables aliased `of`, else all): `FOR SHARE` on PostgreSQL; nothing on SQLite, where
    no one else writes meanwhile, and nothing outside a write transaction."""
    if _current.get() is None or db.is_sqlite():
        return ""
    return " FOR SHARE" + (" OF " + ", ".join(of) if of else "")
