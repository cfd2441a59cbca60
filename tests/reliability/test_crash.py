"""A server killed with SIGKILL in the middle of push batches and photo uploads, restarted, and the
tablet retried: every accepted mutation is there exactly once, no half-written record exists and
the audit chain verifies. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from pathlib import Path

import httpx

from inspection import db
from inspection.audit import service as audit
from inspection.devserver import DevServer
from inspection.evidence.store import build_store
from inspection.settings import get_settings
from inspection.sync.client import SyncFailed, TabletClient
from tests.evidence.conftest import jpeg
from tests.factories import PASSWORD, World

# Enough that four kills fall inside the pushes now that a batch commits in one transaction.
EDITS = 1200
PHOTOS = 4


async def test_sigkill_during_pushes_and_uploads_loses_and_doubles_nothing(world: World, tmp_path: Path) -> None:
    rng = random.Random(5)
    server = DevServer()
    server.start()
    http = httpx.AsyncClient(base_url=server.url, timeout=10)
    tablet = TabletClient(http, str(tmp_path / "owner.sqlite3"), "crash-tablet", push_batch=20, retries=1)
    try:
        await tablet.login(world.users["owner"].username, PASSWORD)
        await tablet.sync()
        site = str(world.id_of("site1"))
        for i in range(EDITS):
            tablet.edit("site", site, {"households": 1000 + i}, "site.update@1")
        shas = [tablet.add_photo(jpeg(800, 600, seed=i), world.id_of("p1"), name=f"p{i}.jpg") for i in range(PHOTOS)]

        kills = 0
        mid_push = 0  # kills that fell after some mutations of the outbox committed and before the last
        while tablet.outbox("pending") or tablet.photos("pending"):
            if not server.running:
                server.start()
            task = asyncio.create_task(tablet.sync())
            if kills < 4:
                await asyncio.sleep(rng.uniform(0.05, 0.3))
                server.kill()
                kills += 1
                committed = await db.raw("SELECT COUNT(*) AS n FROM sync_mutation")
                mid_push += 0 < committed[0]["n"] < EDITS
            with contextlib.suppress(SyncFailed, httpx.TransportError):
                await task
        assert kills == 4 and mid_push >= 1, (kills, mid_push)

        # every mutation reached the server exactly once, in order, and has one stored outcome
        device = await db.raw("SELECT id FROM sync_device WHERE device_id = {}", "crash-tablet")
        logged = await db.raw("SELECT seq FROM sync_mutation WHERE device = {} ORDER BY seq", device[0]["id"])
        assert [r["seq"] for r in logged] == list(range(1, EDITS + 1))
        outcomes = {o["result"]["status"] for o in tablet.outbox()}
        assert outcomes <= {"applied", "conflict_recorded"}, outcomes
        # each edit changed the site once: one audited update per mutation, the last value wins
        updates = await db.raw(
            "SELECT COUNT(*) AS n FROM audit_entry WHERE table_name = 'site' AND action = 'update' AND record_id = {}",
            site,
        )
        assert updates[0]["n"] == EDITS
        final = await db.raw("SELECT households FROM site WHERE id = {}", site)
        assert final[0]["households"] == 1000 + EDITS - 1

        # photos: stored once each, and the bytes in the store are the bytes the tablet took
        assert {p["status"] for p in tablet.photos()} == {"stored"}
        rows = await db.raw("SELECT sha256, status FROM evidence")
        assert sorted(r["sha256"] for r in rows) == sorted(shas)
        assert {r["status"] for r in rows} == {"stored"}
        store = build_store(get_settings())
        from inspection.evidence import rules

        for sha in shas:
            digest = hashlib.sha256()
            async for chunk in store.chunks(rules.object_key(sha)):
                digest.update(chunk)
            assert digest.hexdigest() == sha

        result = await audit.verify()
        assert result.ok, result.reason
    finally:
        tablet.close()
        await http.aclose()
        server.stop()
