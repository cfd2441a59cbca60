"""The audit chain: every write is logged with who, when and what; tampering is found."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from inspection import db
from inspection.actor import SYSTEM
from inspection.audit.service import history, verify
from inspection.clock import FixedClock
from inspection.projects.tables import Building, Site
from inspection.records import context_buckets, write
from tests.factories import World


async def _site_change(world: World, households: int) -> None:
    path = f"/api/v1/sites/{world.id_of('site1')}"
    version = (await world.get("owner", path)).json()["version"]
    r = await world.patch("owner", path, {"version": version, "households": households})
    assert r.status_code == 200, r.text


async def test_writes_are_logged_with_actor_and_change(world: World) -> None:
    await _site_change(world, 999)
    entries = await history("site", world.id_of("site1"))
    assert [e["action"] for e in entries] == ["create", "update"]
    last = entries[-1]
    assert last["actor_name"] == world.users["owner"].username
    assert last["changes"] == {"households": {"from": 320, "to": 999}}
    assert (await verify()).ok


async def test_password_hashes_never_enter_the_log(world: World) -> None:
    rows = await db.raw("SELECT changes FROM audit_entry WHERE table_name = 'app_user'")
    assert rows and all("argon2" not in r["changes"] and "password" not in r["changes"] for r in rows)


async def test_edited_entry_is_named(world: World) -> None:
    await _site_change(world, 500)
    rows = await db.raw("SELECT id FROM audit_entry ORDER BY id")
    target = rows[len(rows) // 2]["id"]
    await db.raw("UPDATE audit_entry SET changes = {} WHERE id = {}", json.dumps({"households": 1}), target)
    result = await verify()
    assert not result.ok and result.first_bad_id == target
    assert "被改动过" in str(result.reason)


async def test_removed_entry_is_found(world: World) -> None:
    rows = await db.raw("SELECT id FROM audit_entry ORDER BY id")
    victim = rows[3]["id"]
    await db.raw("DELETE FROM audit_entry WHERE id = {}", victim)
    result = await verify()
    assert not result.ok and result.first_bad_id == rows[4]["id"]
    assert "被删除" in str(result.reason)


async def test_reordered_entries_are_found(world: World) -> None:
    rows = await db.raw("SELECT * FROM audit_entry ORDER BY id")
    a, b = rows[2], rows[3]
    cols = [
        "seq",
        "at",
        "actor_id",
        "actor_name",
        "device_id",
        "action",
        "table_name",
        "record_id",
        "changes",
        "prev_hash",
        "hash",
    ]
    for target, source in [(a["id"], b), (b["id"], a)]:
        sets = ", ".join(f"{c} = {{}}" for c in cols)
        await db.raw(f"UPDATE audit_entry SET {sets} WHERE id = {{}}", *[source[c] for c in cols], target)
    result = await verify()
    assert not result.ok and result.first_bad_id == a["id"]


async def test_removed_newest_entry_is_found(world: World) -> None:
    rows = await db.raw("SELECT id FROM audit_entry ORDER BY id DESC")
    await db.raw("DELETE FROM audit_entry WHERE id = {}", rows[0]["id"])
    result = await verify()
    assert not result.ok and "最新的记录" in str(result.reason)


async def test_cli_audit_verify_names_the_edited_entry(world: World) -> None:
    rows = await db.raw("SELECT id FROM audit_entry ORDER BY id")
    target = rows[5]["id"]
    ok = subprocess.run(
        [sys.executable, "-m", "inspection.cli", "audit", "verify"], capture_output=True, text=True, env=os.environ
    )
    assert ok.returncode == 0, ok.stderr
    assert "审计链完好" in ok.stdout
    await db.raw("UPDATE audit_entry SET actor_name = {} WHERE id = {}", "someone-else", target)
    bad = subprocess.run(
        [sys.executable, "-m", "inspection.cli", "audit", "verify"], capture_output=True, text=True, env=os.environ
    )
    assert bad.returncode == 2
    assert f"审计链已被破坏，第 {target} 条记录" in bad.stdout and "被改动过" in bad.stdout


async def test_failed_write_leaves_no_audit_or_change(world: World, clock: FixedClock) -> None:
    """A write that fails half-way (a record inserted, another changed, then an error) leaves
    nothing: not the record, not the change, not their change-index or audit entries, and the
    project's scope where it was."""
    p1, site_id = world.id_of("p1"), world.id_of("site1")
    scopes = await db.raw("SELECT scope, seq, audit_no, audit_hash FROM sync_scope ORDER BY scope")
    before = {
        "audit": await db.raw("SELECT id FROM audit_entry ORDER BY id"),
        "changes": await db.raw("SELECT bucket, table_name, row_id, seq FROM sync_change ORDER BY seq, bucket"),
        "site": await db.raw("SELECT households, version FROM site WHERE id = {}", site_id),
    }

    class Interrupted(Exception):
        pass

    with pytest.raises(Interrupted):
        async with write(SYSTEM, clock) as w:
            new = await w.insert(Building, {"project": p1, "site": site_id, "name": "半途楼"}, context_buckets(p1))
            await w.update(Site, site_id, {"households": 1}, context_buckets(p1))
            raise Interrupted

    assert await Building.count().where(Building.id == new["id"]) == 0
    assert await db.raw("SELECT households, version FROM site WHERE id = {}", site_id) == before["site"]
    assert await db.raw("SELECT id FROM audit_entry ORDER BY id") == before["audit"]
    assert (
        await db.raw("SELECT bucket, table_name, row_id, seq FROM sync_change ORDER BY seq, bucket")
        == (before["changes"])
    )
    assert await db.raw("SELECT scope, seq, audit_no, audit_hash FROM sync_scope ORDER BY scope") == scopes
    assert (await verify()).ok


async def test_refused_request_leaves_no_audit_or_change(world: World) -> None:
    before = await db.raw("SELECT COUNT(*) AS n FROM audit_entry")
    changes_before = await db.raw("SELECT COUNT(*) AS n FROM sync_change")
    r = await world.post(
        "owner",
        f"/api/v1/projects/{world.id_of('p1')}/members",
        {"user_id": str(world.users["owner"].id), "role": "owner"},
    )
    assert r.status_code == 409
    assert await db.raw("SELECT COUNT(*) AS n FROM audit_entry") == before
    assert await db.raw("SELECT COUNT(*) AS n FROM sync_change") == changes_before
    assert await Site.count().where(Site.project == world.id_of("p1")) == 1


async def test_every_write_numbers_its_change_in_its_project_and_indexes_buckets(world: World) -> None:
    p1 = world.id_of("p1")
    before = (await db.raw("SELECT seq FROM sync_scope WHERE scope = {}", p1))[0]["seq"]
    r = await world.post("owner", f"/api/v1/projects/{p1}/sites", {"name": "新小区"})
    site = r.json()
    assert site["version"] == 1, "a new record's version counts its writes"
    rows = await db.raw("SELECT scope, seq, bucket, table_name FROM sync_change WHERE row_id = {}", site["id"])
    assert sorted((str(row["scope"]), row["seq"], row["bucket"]) for row in rows) == [
        (str(p1), before + 1, f"project:{p1}"),
        (str(p1), before + 1, f"project:{p1}:context"),
    ]
    work = (await world.get("owner", f"/api/v1/work-items/{world.id_of('work_a')}")).json()
    rows = await db.raw("SELECT bucket FROM sync_change WHERE row_id = {}", work["id"])
    assert {row["bucket"] for row in rows} == {
        f"project:{world.id_of('p1')}",
        f"project:{world.id_of('p1')}:org:{world.orgs['contractor_a'].id}",
    }
