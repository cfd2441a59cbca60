"""From the global counter to scopes: a database written by the old code, migrated, pulls on from
the cursors its tablets hold with no gap and no reset, and its audit log still verifies."""

from __future__ import annotations

from pathlib import Path

from tests.scratch_database import run_scenario


async def test_cursors_from_before_the_migration_pull_on(tmp_path: Path) -> None:
    out = await run_scenario("tests.changefeed.migration_scenario", tmp_path)

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
