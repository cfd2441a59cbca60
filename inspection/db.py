"""Database engines, write transactions and start-up checks for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import aiosqlite
from piccolo.columns import Column
from piccolo.engine import engine_finder
from piccolo.engine import sqlite as piccolo_sqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory
from piccolo.querystring import QueryString

from inspection.settings import Settings, parse_database_url

if TYPE_CHECKING:
    from piccolo.engine.postgres import PostgresTransaction
    from piccolo.engine.sqlite import SQLiteTransaction

log = logging.getLogger("siteinspect.db")


def _lenient(type_name: str, convert: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def read(value: bytes) -> Any:
        try:
            return convert(value)
        except (ValueError, ArithmeticError):
            log.error("SQLite holds %.100r in a %s column; read as NULL", value, type_name)
            return None

    return read


# SQLite keeps whatever it is given, even text in an INTEGER column; Piccolo's converters then
# fail the whole query, and every read of the record's project with it. Such a value (only ever
# written by hand: every write path checks its types) is read as NULL and logged instead.
for _name, _convert in piccolo_sqlite.CONVERTERS.items():
    sqlite3.register_converter(_name, _lenient(_name, _convert))


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine opens a new connection (and a new thread) for every query and every
    transaction, and re-sends `PRAGMA foreign_keys` before every statement. This keeps a few
    connections open instead, each set up once. A connection is handed to one query or one
    transaction at a time; when all are busy an extra one is opened and closed after use.

    Each query is one trip to the connection's thread (execute and fetch together), not three
    (execute, fetch, close the cursor): in a push those trips were a third of the time."""

    def __init__(self, path: str, pool_size: int = 4, synchronous: str = "FULL", **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self.pool_size = pool_size
        self.synchronous = synchronous
        self._idle: list[Any] = []

    async def _open(self) -> Any:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute(f"PRAGMA synchronous = {self.synchronous}")
        return connection

    async def _take(self) -> Any:
        while self._idle:
            connection = self._idle.pop()
            if connection._running and connection._connection is not None:  # still alive
                return connection
        return await self._open()

    async def _give_back(self, connection: Any) -> None:
        if connection.in_transaction:
            await connection.execute("ROLLBACK")
        if len(self._idle) < self.pool_size:
            self._idle.append(connection)
        else:
            await connection.close()

    async def get_connection(self) -> Any:
        return _Lease(self, await self._take())

    async def _run_in_new_connection(
        self, query: str, args: Any = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        connection = await self._take()
        try:
            return await connection.execute_fetchall(query, args or [])
        finally:
            await self._give_back(connection)

    async def _run_in_existing_connection(
        self, connection: Any, query: str, args: Any = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        return await connection.execute_fetchall(query, args or [])

    async def close_pool(self) -> None:
        while self._idle:
            await self._idle.pop().close()


class _Lease:
    """A pooled connection as a transaction sees it: closing it returns it to the pool.

    A SAVEPOINT is held back and sent in the same trip as the statement after it (a push opens
    one per mutation): it changes nothing that statement could not see, so the order of effects
    is the same, at one trip to the connection's thread less."""

    def __init__(self, engine: PooledSQLiteEngine, connection: Any) -> None:
        self._engine = engine
        self._connection = connection
        self._held: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    async def execute(self, sql: str, parameters: Any = None) -> Any:
        """What Piccolo's transactions send: BEGIN, SAVEPOINT, ROLLBACK TO, COMMIT …"""
        if sql.startswith("SAVEPOINT "):
            self._held.append(sql)
            return None
        return await self.execute_fetchall(sql, parameters)

    async def execute_fetchall(self, sql: str, parameters: Any = None) -> Any:
        if not self._held:
            return await self._connection.execute_fetchall(sql, parameters or [])
        held, self._held = self._held, []
        return await self._connection._execute(_after, self._connection._conn, held, sql, parameters or [])

    async def run_many(self, compiled: list[tuple[str, list[Any]]]) -> None:
        """Several statements (compiled for SQLite) in one trip to the connection's thread."""
        held, self._held = self._held, []
        await self._connection._execute(_many, self._connection._conn, held, compiled)

    async def close(self) -> None:
        self._held.clear()
        await self._engine._give_back(self._connection)


def _after(connection: sqlite3.Connection, held: list[str], sql: str, parameters: Any) -> list[Any]:
    """Runs on the connection's own thread: the held statements, then `sql`, in one trip."""
    for statement in held:
        connection.execute(statement)
    return connection.execute(sql, parameters).fetchall()


def _many(connection: sqlite3.Connection, held: list[str], compiled: list[tuple[str, list[Any]]]) -> None:
    for statement in held:
        connection.execute(statement)
    for sql, parameters in compiled:
        connection.execute(sql, parameters)


def build_engine(settings: Settings) -> Engine:
    url = parse_database_url(settings.database.url)
    if url.engine == "sqlite":
        Path(url.path).parent.mkdir(parents=True, exist_ok=True)
        prepare_sqlite_file(url.path)
        return PooledSQLiteEngine(path=url.path, timeout=settings.database.sqlite_busy_timeout_s)
    return PostgresEngine(
        config={
            "host": url.host,
            "port": url.port,
            "user": url.user,
            "password": url.password,
            "database": url.database,
        }
    )


def prepare_sqlite_file(path: str) -> None:
    """WAL lets readers work while one writer commits; the mode is kept in the file itself."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def engine() -> Engine:
    found = engine_finder()
    if found is None:
        raise RuntimeError("piccolo_conf.py defines no DB engine")
    return found


def is_sqlite() -> bool:
    return engine().engine_type == "sqlite"


# PostgreSQL's answers that mean "this transaction lost to another one; run it again": a deadlock
# (the server chose this one as its victim) and a serialisation failure.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def is_transient(exc: BaseException) -> bool:
    """The database gave up on a statement only because of a concurrent transaction."""
    return getattr(exc, "sqlstate", None) in TRANSIENT_SQLSTATES


def transaction() -> SQLiteTransaction | PostgresTransaction:
    """A write transaction. On SQLite it is IMMEDIATE: it takes the write lock at BEGIN, so a
    read-then-write transaction never fails half-way with 'database is locked'."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    assert isinstance(db, PostgresEngine)
    return db.transaction()


@asynccontextmanager
async def connection_pool(settings: Settings) -> AsyncIterator[None]:
    """Open PostgreSQL's pool for the app's lifetime; SQLite opens a connection per query."""
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(
            min_size=settings.database.pool_min_size, max_size=settings.database.pool_max_size, reset=_keep_session
        )
    try:
        yield
    finally:
        if isinstance(db, PostgresEngine):
            await db.close_connection_pool()
        elif isinstance(db, PooledSQLiteEngine):
            await db.close_pool()


async def _keep_session(connection: Any) -> None:
    """What asyncpg runs when a connection goes back to the pool, after it has rolled back any open
    transaction. Its default also resets the session (`RESET ALL`, `CLOSE ALL`, `UNLISTEN *`,
    `pg_advisory_unlock_all()`): one more round trip on every statement outside a transaction.
    Nothing here changes the session: settings are per transaction (`SET LOCAL`), advisory locks
    per transaction (`pg_try_advisory_xact_lock`), and no one listens."""


# Value types that are never a QueryString or a column (checked by type first: isinstance against
# Piccolo's abstract Column costs more than the rest of compiling a thousand-value statement).
_PLAIN = frozenset({str, int, float, bool, type(None), bytes, UUID, datetime, date, Decimal, list})


def compile_sql(sql: str, args: tuple[Any, ...] | list[Any], engine_type: str) -> tuple[str, list[Any]]:
    """A statement with {} placeholders as the driver takes it (`?` on SQLite, `$n` on
    PostgreSQL), as Piccolo's QueryString compiles it. Done here for plain values: the
    QueryString makes an object per placeholder, which costs more than the statement itself
    for a multi-row INSERT of thousands of values. Anything else (a nested QueryString or
    column, braces that are no placeholder) goes through QueryString."""
    parts = sql.split("{}")
    if (
        len(parts) != len(args) + 1
        or any("{" in p or "}" in p for p in parts)
        or any(type(a) not in _PLAIN and isinstance(a, (QueryString, Column)) for a in args)
    ):
        return QueryString(sql, *args).compile_string(engine_type=engine_type)
    if engine_type == "sqlite":
        return "?".join(parts), list(args)
    out = [parts[0]]
    for i, part in enumerate(parts[1:], start=1):
        out.append(f"${i}")
        out.append(part)
    return "".join(out), list(args)


class Snapshot:
    """A read-only view of the database at one moment, for reads that must agree with each other
    (a pull's targets, change index and rows). Placeholders are {} as in raw()."""

    def __init__(self, connection: Any, sqlite: bool) -> None:
        self._connection = connection
        self._sqlite = sqlite

    @property
    def sqlite(self) -> bool:
        return self._sqlite

    async def tuples(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        query, query_args = compile_sql(sql, args, "sqlite" if self._sqlite else "postgres")
        if self._sqlite:
            return await self._connection._execute(_fetch_tuples, self._connection._conn, query, query_args)  # type: ignore[no-any-return]
        return [tuple(r) for r in await self._connection.fetch(query, *query_args)]

    async def dicts(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        query, query_args = compile_sql(sql, args, "sqlite" if self._sqlite else "postgres")
        if self._sqlite:
            return await self._connection.execute_fetchall(query, query_args)  # type: ignore[no-any-return]
        return [dict(r) for r in await self._connection.fetch(query, *query_args)]


@asynccontextmanager
async def snapshot() -> AsyncIterator[Snapshot]:
    """One read transaction: REPEATABLE READ, READ ONLY on PostgreSQL (one snapshot for all its
    statements, and no row locks); a deferred transaction on SQLite, whose WAL gives it one
    snapshot from its first read and never blocks a writer."""
    db = engine()
    if isinstance(db, PooledSQLiteEngine):
        connection = await db._take()
        try:
            await connection.execute("BEGIN")
            yield Snapshot(connection, sqlite=True)
        finally:
            await db._give_back(connection)  # rolls the read transaction back
        return
    assert isinstance(db, PostgresEngine)
    if db.pool is None:
        conn = await db.get_new_connection()
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                yield Snapshot(conn, sqlite=False)
        finally:
            await conn.close()
        return
    async with db.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        yield Snapshot(conn, sqlite=False)


async def raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run SQL on the current transaction's connection (or a pooled one). Placeholders are {}."""
    db = engine()
    if db.log_queries or db.log_responses or not isinstance(db, (PooledSQLiteEngine, PostgresEngine)):
        response = await db.run_querystring(QueryString(sql, *args))
    else:
        # What run_querystring does, with the statement compiled here (`compile_sql`)
        query, query_args = compile_sql(sql, args, db.engine_type)
        transaction = db.current_transaction.get()
        if isinstance(db, PooledSQLiteEngine):
            if transaction is not None:
                response = await transaction.connection.execute_fetchall(query, query_args)
            else:
                response = await db._run_in_new_connection(query, query_args)
        elif transaction is not None:
            response = await transaction.connection.fetch(query, *query_args)
        elif db.pool is not None:
            response = await db._run_in_pool(query, query_args)
        else:
            response = await db._run_in_new_connection(query, query_args)
    if not response:
        return []
    return db.transform_response_to_dicts(response)  # type: ignore[no-any-return]


Statement = tuple[str, list[Any]]
# PostgreSQL takes at most 32,767 bound values in one statement.
_MAX_VALUES = 30_000


async def run_together(statements: list[Statement]) -> None:
    """Run statements that change rows and return nothing, in the current transaction, in as few
    trips to the database as it allows: on PostgreSQL as one statement (all but the last as
    data-changing WITH clauses; they run on one snapshot, so none may depend on another's
    effect), on SQLite in one trip to the connection's thread."""
    statements = [s for s in statements if s[0]]
    if not statements:
        return
    db = engine()
    transaction = db.current_transaction.get()
    if transaction is None:
        raise RuntimeError("run_together runs inside a transaction")
    if isinstance(db, PooledSQLiteEngine):
        compiled = [compile_sql(sql, args, "sqlite") for sql, args in statements]
        await transaction.connection.run_many(compiled)
        return
    group: list[Statement] = []
    size = 0
    for statement in statements:
        if group and size + len(statement[1]) > _MAX_VALUES:
            await _run_as_one(group)
            group, size = [], 0
        group.append(statement)
        size += len(statement[1])
    await _run_as_one(group)


async def _run_as_one(statements: list[Statement]) -> None:
    *first, (last_sql, last_args) = statements
    sql = "".join(f"{'WITH' if i == 0 else ','} s{i} AS ({s}) " for i, (s, _) in enumerate(first)) + last_sql
    query, args = compile_sql(sql, [a for _, args in first for a in args] + list(last_args), "postgres")
    transaction = engine().current_transaction.get()
    assert transaction is not None
    await transaction.connection.execute(query, *args)


async def fetch_tuples(sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows as tuples, skipping Piccolo's per-row dicts, for hot read paths outside transactions.
    Placeholders are {} as in raw()."""
    db = engine()
    query, query_args = compile_sql(sql, args, db.engine_type)
    if isinstance(db, PooledSQLiteEngine) and db.current_transaction.get() is None:
        connection = await db._take()
        try:
            return await connection._execute(_fetch_tuples, connection._conn, query, query_args)  # type: ignore[no-any-return]
        finally:
            await db._give_back(connection)
    if isinstance(db, PostgresEngine) and db.pool is not None and db.current_transaction.get() is None:
        async with db.pool.acquire() as connection:
            return [tuple(r) for r in await connection.fetch(query, *query_args)]
    rows = await raw(sql, *args)
    return [tuple(r.values()) for r in rows]


def _fetch_tuples(connection: sqlite3.Connection, query: str, args: Any) -> list[tuple[Any, ...]]:
    """Runs on an aiosqlite connection's own thread: execute and fetch in one trip."""
    cursor = connection.execute(query, args)
    cursor.row_factory = None
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


@asynccontextmanager
async def trace_statements() -> AsyncIterator[list[str]]:
    """Every statement sent to the database meanwhile, as sent (BEGIN, SAVEPOINT and COMMIT
    included): for tests and benchmarks that count a request's trips to the database. On
    PostgreSQL the pool's connections are traced (open them before); on SQLite every connection."""
    seen: list[str] = []
    db = engine()
    if isinstance(db, PooledSQLiteEngine):
        traced: list[Any] = []

        async def trace(connection: Any) -> None:
            await connection._execute(connection._conn.set_trace_callback, seen.append)
            traced.append(connection)

        for connection in db._idle:
            await trace(connection)
        opened = db._open

        async def open_traced() -> Any:
            connection = await opened()
            await trace(connection)
            return connection

        db._open = open_traced  # type: ignore[method-assign]
        try:
            yield seen
        finally:
            db._open = opened  # type: ignore[method-assign]
            for connection in traced:
                if connection._running and connection._connection is not None:
                    await connection._execute(connection._conn.set_trace_callback, None)
        return
    assert isinstance(db, PostgresEngine) and db.pool is not None

    def log(record: Any) -> None:
        seen.append(record.query)

    connections = [h._con for h in db.pool._holders if h._con is not None]
    for connection in connections:
        connection.add_query_logger(log)
    try:
        yield seen
    finally:
        await asyncio.sleep(0)  # the loggers are called soon after each statement
        for connection in connections:
            connection.remove_query_logger(log)


async def pending_migrations() -> list[str]:
    """Names of the migrations not yet applied, as 'app:migration_id'."""
    from piccolo.apps.migrations.commands.check import CheckMigrationManager

    statuses = await CheckMigrationManager(app_name="all").get_migration_statuses()
    return [f"{s.app_name}:{s.migration_id}" for s in statuses if not s.has_ran]


async def apply_migrations() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")


async def ping() -> None:
    await raw("SELECT 1 AS ok")
