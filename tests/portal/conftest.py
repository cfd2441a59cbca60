"""The browser tests' servers: a real uvicorn process on 127.0.0.1 and a free port for each test,
with its own database (an SQLite file, or a database on the test PostgreSQL server, because the
test process empties its own database between tests). The data is migrated and seeded once per
session into a template; each test gets a fresh copy of it (and of its photos), so no browser test
sees what another one did, whatever the order. And where the screenshots go."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from inspection.tools.devserver import NOW_VARIABLE, DevServer

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SITEINSPECT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(
    os.environ.get("SITEINSPECT_SCREENSHOTS")
    or ROOT
    / "var"
    / "screenshots"
    / ("sqlite" if os.environ["SITEINSPECT_DATABASE_URL"].startswith("sqlite") else "postgres")
)


@dataclass
class PortalServer:
    url: str
    data: dict[str, Any]
    log: Path


@dataclass
class Seeded:
    """The migrated and seeded template: an SQLite file or a PostgreSQL database, its photos, and
    the ids the seed printed."""

    url: str
    pg_name: str | None
    evidence: Path
    data: dict[str, Any]


async def _admin_sql(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _is_sqlite() -> bool:
    return os.environ["SITEINSPECT_DATABASE_URL"].startswith("sqlite")


def _pg_url(name: str) -> str:
    return urlunsplit(urlsplit(os.environ["SITEINSPECT_DATABASE_URL"])._replace(path=f"/{name}"))


def _server_env(url: str, evidence: Path) -> dict[str, str]:
    return {
        "SITEINSPECT_DATABASE_URL": url,
        "SITEINSPECT_STORAGE_DISK_ROOT": str(evidence),
        "SITEINSPECT_LOGGING_FORMAT": "text",
    }


@pytest.fixture(scope="session")
def portal_seed() -> Iterator[Seeded]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; run scripts/install-system-deps.sh (Debian package chromium)")
    tmp = Path(tempfile.mkdtemp(prefix="siteinspect-portal-seed-"))
    pg_name = None
    if _is_sqlite():
        url = f"sqlite:///{tmp / 'portal.sqlite3'}"
    else:
        pg_name = f"siteinspect_portal_seed_{uuid.uuid4().hex[:8]}"
        asyncio.run(_admin_sql(os.environ["SITEINSPECT_TEST_PG_ADMIN_URL"], f'CREATE DATABASE "{pg_name}"'))
        url = _pg_url(pg_name)
    env = {**os.environ, **_server_env(url, tmp / "evidence")}
    try:
        subprocess.run(
            [sys.executable, "-m", "inspection.cli", "migrate"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        seeded = subprocess.run(
            [sys.executable, "-m", "tests.portal.seed"], env=env, cwd=ROOT, check=True, capture_output=True, text=True
        )
        yield Seeded(url, pg_name, tmp / "evidence", json.loads(seeded.stdout.strip().splitlines()[-1]))
    finally:
        if pg_name:
            asyncio.run(_admin_sql(os.environ["SITEINSPECT_TEST_PG_ADMIN_URL"], f'DROP DATABASE IF EXISTS "{pg_name}"'))
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def portal_server(portal_seed: Seeded) -> Iterator[PortalServer]:
    """A server of this test's own on a fresh copy of the seeded data."""
    tmp = Path(tempfile.mkdtemp(prefix="siteinspect-portal-"))
    pg_name = None
    if portal_seed.pg_name is None:
        template = Path(portal_seed.url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{template}{suffix}").exists():
                shutil.copyfile(f"{template}{suffix}", tmp / f"portal.sqlite3{suffix}")
        url = f"sqlite:///{tmp / 'portal.sqlite3'}"
    else:
        pg_name = f"siteinspect_portal_{uuid.uuid4().hex[:8]}"
        admin = os.environ["SITEINSPECT_TEST_PG_ADMIN_URL"]
        asyncio.run(_admin_sql(admin, f'CREATE DATABASE "{pg_name}" TEMPLATE "{portal_seed.pg_name}"'))
        url = _pg_url(pg_name)
    shutil.copytree(portal_seed.evidence, tmp / "evidence")
    server = DevServer(_server_env(url, tmp / "evidence"), log=tmp / "server.log", log_level="info", access_log=True)
    try:
        server.start()
        yield PortalServer(url=server.url, data=portal_seed.data, log=tmp / "server.log")
    finally:
        server.stop()
        if pg_name:
            asyncio.run(_admin_sql(os.environ["SITEINSPECT_TEST_PG_ADMIN_URL"], f'DROP DATABASE IF EXISTS "{pg_name}"'))
        shutil.rmtree(tmp, ignore_errors=True)


def _server_database(tmp: Path) -> tuple[str, str | None]:
    """A new empty database for a server process: (its url, the PostgreSQL database to drop after)."""
    if _is_sqlite():
        return f"sqlite:///{tmp / 'portal.sqlite3'}", None
    name = f"siteinspect_portal_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin_sql(os.environ["SITEINSPECT_TEST_PG_ADMIN_URL"], f'CREATE DATABASE "{name}"'))
    return _pg_url(name), name


@contextmanager
def running_server(seed: list[str], prefix: str = "siteinspect-portal-") -> Iterator[PortalServer]:
    """A server process on a database of its own, migrated, then seeded by running `seed` (python -m
    arguments) with the server's environment; the last line of its output, if JSON, is the data.
    Seeds through the command line run on the wall clock (as `inspection.cli` does for its users),
    so this server does too."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; run scripts/install-system-deps.sh (Debian package chromium)")
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    url, pg_name = _server_database(tmp)
    env = {**_server_env(url, tmp / "evidence"), NOW_VARIABLE: ""}
    server = DevServer(env, log=tmp / "server.log", log_level="info", access_log=True)
    try:
        for command in (["inspection.cli", "migrate"], seed):
            done = subprocess.run(
                [sys.executable, "-m", *command], env=server.env, cwd=ROOT, check=True, capture_output=True, text=True
            )
        last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
        data = json.loads(last) if last.startswith("{") else {}
        server.start()
        yield PortalServer(url=server.url, data=data, log=tmp / "server.log")
    finally:
        server.stop()
        if pg_name:
            asyncio.run(_admin_sql(os.environ["SITEINSPECT_TEST_PG_ADMIN_URL"], f'DROP DATABASE IF EXISTS "{pg_name}"'))
        shutil.rmtree(tmp, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"portal screenshots: {SCREENSHOTS}")
