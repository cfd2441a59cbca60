"""Database engines, write transactions and start-up checks for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite
from piccolo.engine import engine_finder
from piccolo.engine import sqlite as piccolo_sqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory

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

    async def close(self) -> None:
        self._held.clear()
        await self._engine._give_back(self._connection)


def _after(connection: sqlite3.Connection, held: list[str], sql: str, parameters: Any) -> list[Any]:
    """Runs on the connection's own thread: the held statements, then `sql`, in one trip."""
    for statement in held:
        connection.execute(statement)
    return connection.execute(sql, parameters).fetchall()


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
            min_size=settings.database.pool_min_size, max_size=settings.database.pool_max_size
        )
    try:
        yield
    finally:
        if isinstance(db, PostgresEngine):
            await db.close_connection_pool()
        elif isinstance(db, PooledSQLiteEngine):
            await db.close_pool()


async def raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run SQL on the current transaction's connection (or a new one). Placeholders are {}."""
    from inspection.sync.tables import ChangeCounter

    return await ChangeCounter.raw(sql, *args)


async def fetch_tuples(sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows as tuples, skipping Piccolo's per-row dicts, for hot read paths outside transactions.
    Placeholders are {} as in raw()."""
    from piccolo.querystring import QueryString

    db = engine()
    query, query_args = QueryString(sql, *args).compile_string(engine_type=db.engine_type)
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
