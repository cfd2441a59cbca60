"""Test set-up shared by every folder: one database (SQLite by default, PostgreSQL when
SITEINSPECT_DATABASE_URL names one), migrated once, emptied before and after every test; an app per
test on a controllable clock that starts at the suite's fixed instant (tests/instant.py); Faker and
the other random sources seeded per test, so a failure replays."""

from __future__ import annotations

import os
import random
import tempfile
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.instant import SERVER_VARIABLE, TEST_NOW, VARIABLE

_tmp = Path(tempfile.mkdtemp(prefix="siteinspect-test-"))
if not os.environ.get("SITEINSPECT_DATABASE_URL"):
    os.environ["SITEINSPECT_DATABASE_URL"] = f"sqlite:///{_tmp / 'test.sqlite3'}"
elif _suffix := os.environ.get("SITEINSPECT_TEST_DATABASE_SUFFIX"):
    # One of several test processes at once (scripts/fuzz-shards.sh) on one PostgreSQL server: each
    # empties its database between tests, so each gets a database of its own. (On SQLite each
    # process has its own file anyway.)
    import asyncio
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    _parts = urlsplit(os.environ["SITEINSPECT_DATABASE_URL"])
    _name = f"{_parts.path.lstrip('/')}_{_suffix}"

    async def _create() -> None:
        conn = await asyncpg.connect(os.environ["SITEINSPECT_TEST_PG_ADMIN_URL"])
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{_name}"')
            await conn.execute(f'CREATE DATABASE "{_name}"')
        finally:
            await conn.close()

    asyncio.run(_create())
    os.environ["SITEINSPECT_DATABASE_URL"] = urlunsplit(_parts._replace(path=f"/{_name}"))
os.environ.setdefault("SITEINSPECT_SECURITY_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
# argon2 at its cheapest: the tests check behaviour, not the cost of guessing passwords.
os.environ.setdefault("SITEINSPECT_SECURITY_ARGON2_TIME_COST", "1")
os.environ.setdefault("SITEINSPECT_SECURITY_ARGON2_MEMORY_KIB", "8")
os.environ.setdefault("SITEINSPECT_SECURITY_ARGON2_PARALLELISM", "1")
os.environ.setdefault("SITEINSPECT_STORAGE_DISK_ROOT", str(_tmp / "evidence"))
os.environ["SITEINSPECT_TEST_TMP"] = str(_tmp)
# tests drive the alert jobs themselves, on a controlled clock
os.environ.setdefault("SITEINSPECT_SCHEDULER_ENABLED", "false")
# Subprocesses run at the suite's instant too: the browser tests' seed reads it, and every server
# process started through DevServer runs on a clock stopped at it.
os.environ[VARIABLE] = TEST_NOW.isoformat()
os.environ.setdefault(SERVER_VARIABLE, TEST_NOW.isoformat())

import httpx  # noqa: E402
import pytest  # noqa: E402

from inspection import db  # noqa: E402
from inspection.clock import FixedClock  # noqa: E402
from inspection.settings import get_settings  # noqa: E402
from tests import factories  # noqa: E402
from tests.factories import World  # noqa: E402

IS_SQLITE = os.environ["SITEINSPECT_DATABASE_URL"].startswith("sqlite")

# Rows survive between tests only in these: migrations stay applied. The ordering scopes
# (sync_scope) are emptied with everything else: a scope's row is made by its first write, and
# keeping one would keep the head of an audit chain whose entries are gone.
KEEP_TABLES = {"migration"}


def tables_to_empty() -> list[str]:
    """Every table of every registered app, children before parents, so foreign keys never block
    the clean-up. New apps are picked up without editing this file."""
    from piccolo.conf.apps import Finder
    from piccolo.table import sort_table_classes

    tables = sort_table_classes(Finder().get_table_classes())
    return [t._meta.tablename for t in reversed(tables) if t._meta.tablename not in KEEP_TABLES]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if IS_SQLITE and item.get_closest_marker("postgres_only"):
            item.add_marker(pytest.mark.skip(reason="PostgreSQL only; this run is on SQLite"))
        if not IS_SQLITE and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="SQLite only; this run is on PostgreSQL"))


def _replay_line(config: pytest.Config) -> str:
    seed = config.getoption("randomly_seed", default=None)
    order = f"-p randomly --randomly-seed={seed}" if isinstance(seed, int) else "-p no:randomly (file order)"
    local = TEST_NOW.astimezone(ZoneInfo("Asia/Shanghai"))
    return f"siteinspect: order and data {order}; instant {VARIABLE}={local.isoformat()}"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Even under -q: what it takes to run this again exactly (order, seeds, instant)."""
    terminalreporter.write_line(_replay_line(config))


def pytest_report_header(config: pytest.Config) -> list[str]:
    local = TEST_NOW.astimezone(ZoneInfo("Asia/Shanghai"))
    return [
        f"siteinspect database: {'SQLite' if IS_SQLITE else 'PostgreSQL'}",
        f"siteinspect test instant: {local.isoformat()} ({local:%A}; set {VARIABLE} to run as of another)",
    ]


@pytest.fixture(scope="session", autouse=True)
async def database() -> AsyncIterator[None]:
    settings = get_settings()
    async with db.connection_pool(settings):
        await db.apply_migrations()
        yield


@cache
def _probe(tables: tuple[str, ...]) -> str:
    """One query naming the tables that hold rows: most tests touch a few, and emptying only those
    costs far less than emptying all (measured: DELETE from all 44 tables about 100 ms a time on
    PostgreSQL, TRUNCATE of all about 340 ms, this probe and the few DELETEs a test needs a few ms)."""
    return " UNION ALL ".join(f"SELECT '{t}' AS t WHERE EXISTS (SELECT 1 FROM {t})" for t in tables)


_sequences: list[str] | None = None


async def _owned_sequences(tables: list[str]) -> list[str]:
    """PostgreSQL: the sequences behind the serial and identity columns of `tables`."""
    global _sequences
    if _sequences is None:
        rows = await db.raw(
            "SELECT pg_get_serial_sequence(quote_ident(table_name), column_name) AS seq"
            " FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND (column_default LIKE 'nextval%' OR is_identity = 'YES')"
            f" AND table_name IN ({', '.join('{}' for _ in tables)})",
            *tables,
        )
        _sequences = sorted(r["seq"] for r in rows if r["seq"])
    return _sequences


async def empty_database() -> None:
    """Every table as a freshly migrated database has it: no rows (no ordering scope either, so
    every scope's numbers start again at 1), and every serial id starting again at 1 (PostgreSQL's
    sequences, SQLite's AUTOINCREMENT), so ids and sequence numbers do not depend on which tests
    ran before."""
    tables = tables_to_empty()
    dirty = {r["t"] for r in await db.raw(_probe(tuple(tables)))}
    if not dirty:
        return  # nothing committed since the last emptying (a rolled-back write leaves no row)
    async with db.transaction():
        for table in tables:  # children before parents
            if table in dirty:
                await db.raw(f"DELETE FROM {table}")
        if IS_SQLITE:
            if await db.raw("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'"):
                await db.raw("DELETE FROM sqlite_sequence")
        else:
            sequences = await _owned_sequences(tables)
            if sequences:
                await db.raw("SELECT " + ", ".join(f"setval('{q}', 1, false)" for q in sequences))


# SITEINSPECT_TEST_KEEP_ROWS=1 keeps every row between tests: a run that way shows which tests
# count rows they did not make (each should look only at its own records).
KEEP_ROWS = os.environ.get("SITEINSPECT_TEST_KEEP_ROWS") == "1"


@pytest.fixture(autouse=True)
async def empty_tables(database: None) -> AsyncIterator[None]:
    """Before each test, whatever ran earlier (a server process, a task that outlived its test, a
    failed teardown); after it, so what a test leaves never reaches the next one's set-up."""
    if not KEEP_ROWS:
        await empty_database()
    else:  # failed sign-ins of earlier tests would lock every later one out: not records, forget them
        await db.raw("DELETE FROM rate_event")
    yield
    if not KEEP_ROWS:
        await empty_database()


def _seed_for(request: pytest.FixtureRequest) -> int:
    """The test's own seed: its id mixed with pytest-randomly's seed for the run (printed in the
    header as --randomly-seed=N; 0 without the plugin). Running the one test again with the same
    --randomly-seed gives it the same data, whatever ran before it."""
    run_seed = request.config.getoption("randomly_seed", default=0)
    return zlib.crc32(request.node.nodeid.encode()) ^ (int(run_seed) if isinstance(run_seed, int) else 0)


@pytest.fixture(autouse=True)
def seeded(request: pytest.FixtureRequest) -> int:
    """Faker, the factories' own random numbers and the global `random` start from the test's seed."""
    seed = _seed_for(request)
    factories.reseed(seed, restart_names=not KEEP_ROWS)
    random.seed(seed)
    return seed


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> FixedClock:
    """Stands still at the suite's instant (tests/instant.py) until the test moves it; a test marked
    `wall_clock` starts it at the real time instead."""
    if request.node.get_closest_marker("wall_clock"):
        return FixedClock(datetime.now(UTC).replace(microsecond=0))
    return FixedClock(TEST_NOW)


@pytest.fixture
def rng(seeded: int) -> random.Random:
    """A random source of the test's own, from its seed (the sync client's retry jitter, say)."""
    return random.Random(seeded)


@pytest.fixture
def app(clock: FixedClock):  # type: ignore[no-untyped-def]
    from api.app import create_app

    return create_app(get_settings(), clock, check_migrations=False)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def world(app, client: httpx.AsyncClient) -> World:  # type: ignore[no-untyped-def]
    """Two projects with a person in every role, two contractors, sites, buildings, work items."""
    return await World.build(app.state.services, client)
