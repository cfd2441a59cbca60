"""A database as it was before ordering scopes, then migrated: run by test_migration.py in a process
of its own with SITEINSPECT_DATABASE_URL naming an empty database. Prints one JSON object."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards

from inspection import db
from inspection.actor import SYSTEM, Actor
from inspection.audit.chain import GENESIS, canonical_json, entry_hash
from inspection.audit.service import verify
from inspection.clock import SystemClock
from inspection.ids import new_id
from inspection.projects.tables import Building, Membership, Project, Site, User
from inspection.records import context_buckets, write
from inspection.settings import get_settings
from inspection.signing import sign
from inspection.sync.service import CURSOR_PURPOSE, SyncService

KEY = b"migration-scenario-key-0123456789abcdef"
# the last migration of each app before scopes; apps not named ran nothing new since
BEFORE_SCOPES = {"audit": "2026-11-22T22:34:56:385628", "reports": "2026-11-23T09:35:29:576622"}
DEVICE = "old-tablet"


async def migrate_to_before_scopes() -> None:
    for app in BaseMigrationManager().get_sorted_app_names():
        if app == "changefeed":
            continue
        result = await run_forwards(app, BEFORE_SCOPES.get(app, "all"))
        assert result.success, result.message


async def old_world() -> dict[str, Any]:
    """What the global counter's code left: buildings numbered 1–6 in one project's buckets, an
    organisation at 7 in `ref`, the counter at 7, a global audit chain of three entries."""
    now = datetime.now(UTC)
    user_id, project_id, site_id = new_id(), new_id(), new_id()
    await User.insert(
        User(id=user_id, username="old-supervisor", display_name="老监理", password_hash="x", version=1, updated_at=now)
    )
    await Project.insert(Project(id=project_id, code="OLD-1", name="旧项目", year=2026, version=1, updated_at=now))
    await Site.insert(Site(id=site_id, project=project_id, name="旧小区", version=1, updated_at=now))
    await Membership.insert(
        Membership(id=new_id(), project=project_id, user=user_id, role="supervisor", version=1, updated_at=now)
    )
    buildings = []
    for n in range(1, 7):
        bid = new_id()
        buildings.append(str(bid))
        await Building.insert(
            Building(id=bid, project=project_id, site=site_id, name=f"B{n}", version=n, updated_at=now)
        )
        for bucket in context_buckets(project_id):
            await db.raw(
                "INSERT INTO sync_change (seq, bucket, table_name, row_id, deleted)"
                " VALUES ({}, {}, 'building', {}, {})",
                n,
                bucket,
                bid,
                False,
            )
    await db.raw("UPDATE sync_counter SET value = 7 WHERE id = 1")
    prev = GENESIS
    last_id = 0
    for n in range(1, 4):
        fields = {
            "seq": n,
            "at": now.isoformat(timespec="microseconds"),
            "actor_id": "",
            "actor_name": "system",
            "device_id": "server",
            "action": "create",
            "table_name": "building",
            "record_id": buildings[n - 1],
            "changes": canonical_json({"name": f"B{n}"}),
        }
        digest = entry_hash(fields, prev)
        rows = await db.raw(
            "INSERT INTO audit_entry (seq, at, actor_id, actor_name, device_id, action, table_name, record_id, changes,"
            " prev_hash, hash, written_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) RETURNING id",
            *fields.values(),
            prev,
            digest,
            now,
        )
        prev, last_id = digest, rows[0]["id"]
    await db.raw("INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, {}, {})", last_id, prev)
    base = {"uid": str(user_id), "dev": DEVICE, "v": 1}
    project_bucket = context_buckets(project_id)[0]
    return {
        "user": user_id,
        "project": project_id,
        "site": site_id,
        "buildings": buildings,
        # had everything up to 4, done
        "done": sign({**base, "b": {"ref": 7, project_bucket: 4}, "tgt": None, "k": None}, KEY, CURSOR_PURPOSE),
        # caught between pages of a pull from 2 to 7, having received up to building 4
        "paging": sign(
            {**base, "b": {"ref": 7, project_bucket: 2}, "tgt": 7, "k": [4, "building", buildings[3]]},
            KEY,
            CURSOR_PURPOSE,
        ),
    }


async def pulled(sync: SyncService, actor: Actor, cursor: str) -> dict[str, Any]:
    names: list[str] = []
    reset = False
    while True:
        result = await sync.pull(actor, DEVICE, cursor, 1, limit=2)
        reset = reset or result.reset_required
        names += [r["name"] for r in result.upserts("building")]
        cursor = result.cursor
        if not result.has_more:
            return {"names": sorted(names), "reset": reset}


async def main() -> None:
    async with db.connection_pool(get_settings()):
        await migrate_to_before_scopes()
        old = await old_world()
        result = await run_forwards("all")
        assert result.success, result.message
        scopes = {str(r["scope"]): int(r["seq"]) for r in await db.raw("SELECT scope, seq FROM sync_scope")}
        async with write(SYSTEM, SystemClock()) as w:
            await w.insert(
                Building,
                {"project": old["project"], "site": old["site"], "name": "B-new"},
                context_buckets(old["project"]),
            )
        actor = Actor(user_id=old["user"], username="old-supervisor", device_id=DEVICE)
        sync = SyncService(KEY, SystemClock(), services=None)  # type: ignore[arg-type]
        checked = await verify(KEY)
        split = await db.raw("SELECT changes FROM audit_entry WHERE action = 'split'")
        print(
            json.dumps(
                {
                    "scopes": scopes,
                    "project": str(old["project"]),
                    "done": await pulled(sync, actor, old["done"]),
                    "paging": await pulled(sync, actor, old["paging"]),
                    "verify": [checked.ok, str(checked.reason or ""), checked.checked],
                    "split": json.loads(split[0]["changes"]) if split else None,
                    "new_seq": (
                        await db.raw(
                            "SELECT seq FROM sync_change WHERE table_name = 'building' ORDER BY seq DESC LIMIT 1"
                        )
                    )[0]["seq"],
                }
            )
        )


asyncio.run(main())
