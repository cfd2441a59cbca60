"""The notice migration on a database with orders in it, on the engine the suite runs on: the old
orders stay as they were (no notice: each its own 整改通知单) and can cite a notice afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parents[2]


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(os.environ["SITEINSPECT_TEST_PG_ADMIN_URL"])
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def test_orders_written_before_notices_survive_the_migration(tmp_path: Path) -> None:
    own = os.environ["SITEINSPECT_DATABASE_URL"]
    dropped = None
    if own.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'before-notices.sqlite3'}"
    else:
        dropped = f"siteinspect_notice_{uuid.uuid4().hex[:8]}"
        await _admin(f'CREATE DATABASE "{dropped}"')
        url = urlunsplit(urlsplit(own)._replace(path=f"/{dropped}"))
    try:
        run = subprocess.run(
            [sys.executable, "-m", "tests.rectification.notice_migration_scenario"],
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
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["kept"] == {"status": "issued", "notice": None, "description": "旧整改单"}
    assert out["cited"] is True
