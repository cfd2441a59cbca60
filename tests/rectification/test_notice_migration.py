"""The notice migration on a database with orders in it, on the engine the suite runs on: the old
orders stay as they were (no notice: each its own 整改通知单) and can cite a notice afterwards."""

from __future__ import annotations

from pathlib import Path

from tests.scratch_database import run_scenario


async def test_orders_written_before_notices_survive_the_migration(tmp_path: Path) -> None:
    out = await run_scenario("tests.rectification.notice_migration_scenario", tmp_path)
    assert out["kept"] == {"status": "issued", "notice": None, "description": "旧整改单"}
    assert out["cited"] is True
