"""Test set-up shared by every folder: one database (SQLite by default, PostgreSQL when
SITEINSPECT_DATABASE_URL names one), migrated once, emptied between tests; an app per test on a
controllable clock; Faker-backed factories."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

_tmp = Path(tempfile.mkdtemp(prefix="siteinspect-test-"))
if not os.environ.get("SITEINSPECT_DATABASE_URL"):
    os.environ["SITEINSPECT_DATABASE_URL"] = f"sqlite:///{_tmp / 'test.sqlite3'}"
os.environ.setdefault("SITEINSPECT_SECURITY_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
# argon2 at its cheapest: the tests check behaviour, not the cost of guessing passwords.
os.environ.setdefault("SITEINSPECT_SECURITY_ARGON2_TIME_COST", "1")
os.environ.setdefault("SITEINSPECT_SECURITY_ARGON2_MEMORY_KIB", "8")
os.environ.setdefault("SITEINSPECT_SECURITY_ARGON2_PARALLELISM", "1")
os.environ.setdefault("SITEINSPECT_STORAGE_DISK_ROOT", str(_tmp / "evidence"))
os.environ["SITEINSPECT_TEST_TMP"] = str(_tmp)
# tests drive the alert jobs themselves, on a controlled clock
os.environ.setdefault("SITEINSPECT_SCHEDULER_ENABLED", "false")

import httpx  # noqa: E402
import pytest  # noqa: E402

from inspection import db  # noqa: E402
from inspection.clock import FixedClock  # noqa: E402
from inspection.settings import get_settings  # noqa: E402
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


def pytest_report_header(config: pytest.Config) -> str:
    return f"siteinspect database: {'SQLite' if IS_SQLITE else 'PostgreSQL'}"


@pytest.fixture(scope="session", autouse=True)
async def database() -> AsyncIterator[None]:
    settings = get_settings()
    async with db.connection_pool(settings):
        await db.apply_migrations()
        yield


@pytest.fixture(autouse=True)
async def empty_tables(database: None) -> AsyncIterator[None]:
    yield
    async with db.transaction():
        for table in tables_to_empty():
            await db.raw(f"DELETE FROM {table}")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


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
