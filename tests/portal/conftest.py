"""The browser tests' server: a real uvicorn process on 127.0.0.1 and a free port, with its own
database (an SQLite file in a temporary folder, or a fresh database on the test PostgreSQL server,
because the test process empties its own database between tests), migrated and seeded before it
starts. And where the screenshots go."""

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

from inspection.devserver import DevServer

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


async def _admin_sql(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _server_database(tmp: Path) -> tuple[str, str | None]:
    """(url, name of a PostgreSQL database to drop afterwards)."""
    own = os.environ["SITEINSPECT_DATABASE_URL"]
    if own.startswith("sqlite"):
        return f"sqlite:///{tmp / 'portal.sqlite3'}", None
    admin = os.environ["SITEINSPECT_TEST_PG_ADMIN_URL"]
    name = f"siteinspect_portal_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin_sql(admin, f'CREATE DATABASE "{name}"'))
    parts = urlsplit(own)
    return urlunsplit(parts._replace(path=f"/{name}")), name


@contextmanager
def running_server(seed: list[str], prefix: str = "siteinspect-portal-") -> Iterator[PortalServer]:
    """A server process on its own database, migrated, then seeded by running `seed` (python -m …
    arguments) with the server's environment; its last line of output, if JSON, is the data."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; run scripts/install-system-deps.sh (Debian package chromium)")
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    url, pg_name = _server_database(tmp)
    env = {
        "SITEINSPECT_DATABASE_URL": url,
        "SITEINSPECT_STORAGE_DISK_ROOT": str(tmp / "evidence"),
        "SITEINSPECT_LOGGING_FORMAT": "text",
    }
    server = DevServer(env, log=tmp / "server.log", log_level="info", access_log=True)
    python = sys.executable
    try:
        subprocess.run(
            [python, "-m", "inspection.cli", "migrate"], env=server.env, cwd=ROOT, check=True, capture_output=True
        )
        seeded = subprocess.run(
            [python, "-m", *seed], env=server.env, cwd=ROOT, check=True, capture_output=True, text=True
        )
        last = seeded.stdout.strip().splitlines()[-1] if seeded.stdout.strip() else ""
        data = json.loads(last) if last.startswith("{") else {}
        server.start()
        yield PortalServer(url=server.url, data=data, log=tmp / "server.log")
    finally:
        server.stop()
        if pg_name:
            asyncio.run(_admin_sql(os.environ["SITEINSPECT_TEST_PG_ADMIN_URL"], f'DROP DATABASE IF EXISTS "{pg_name}"'))
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def portal_server() -> Iterator[PortalServer]:
    with running_server(["tests.portal.seed"]) as server:
        yield server


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"portal screenshots: {SCREENSHOTS}")
