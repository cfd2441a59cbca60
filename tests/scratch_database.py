"""An empty database of the engine the suite runs on, for a scenario run in a process of its own
(migrations on old data): a file beside the test's, or a PostgreSQL database dropped afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parents[1]


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(os.environ["SITEINSPECT_TEST_PG_ADMIN_URL"])
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def run_scenario(module: str, tmp_path: Path) -> dict[str, Any]:
    """Run `python -m module` against a new empty database; the JSON object it printed last."""
    own = os.environ["SITEINSPECT_DATABASE_URL"]
    dropped = None
    if own.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'scenario.sqlite3'}"
    else:
        dropped = f"siteinspect_scenario_{uuid.uuid4().hex[:8]}"
        await _admin(f'CREATE DATABASE "{dropped}"')
        url = urlunsplit(urlsplit(own)._replace(path=f"/{dropped}"))
    try:
        run = subprocess.run(
            [sys.executable, "-m", module],
            env={**os.environ, "SITEINSPECT_DATABASE_URL": url},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        if dropped:
            await _admin(f'DROP DATABASE IF EXISTS "{dropped}"')
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
