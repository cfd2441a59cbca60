"""From the global counter to scopes: a database written by the old code, migrated, pulls on from
the cursors its tablets hold with no gap and no reset, and its audit log still verifies."""

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


async def test_cursors_from_before_the_migration_pull_on(tmp_path: Path) -> None:
    own = os.environ["SITEINSPECT_DATABASE_URL"]
    dropped = None
    if own.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        dropped = f"siteinspect_old_{uuid.uuid4().hex[:8]}"
        await _admin(f'CREATE DATABASE "{dropped}"')
        url = urlunsplit(urlsplit(own)._replace(path=f"/{dropped}"))
    try:
        run = subprocess.run(
            [sys.executable, "-m", "tests.changefeed.migration_scenario"],
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

    # every scope starts at the counter's value, so old positions hold in every scope
    assert out["scopes"][out["project"]] == 7
    assert set(out["scopes"].values()) == {7}
    # a tablet that had everything up to 4 gets 5, 6 and what came after: no gap, no reset
    assert out["done"] == {"names": ["B-new", "B5", "B6"], "reset": False}
    # one caught between pages starts that pull again from its positions: nothing skipped
    assert out["paging"] == {"names": ["B-new", "B3", "B4", "B5", "B6"], "reset": False}
    assert out["new_seq"] == 8, "the first change after the migration is numbered above the counter"
    # the global chain is closed by an entry naming the scopes, which each chain from it
    assert out["split"]["from_seq"] == 7 and out["project"] in out["split"]["scopes"]
    ok, reason, checked = out["verify"]
    assert ok, reason
    assert checked == 3 + 1 + 1  # three old entries, the split, the new building's
