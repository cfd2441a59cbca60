"""A server killed with SIGKILL in the middle of push batches and photo uploads, restarted, and the
tablet retried: every accepted mutation is there exactly once, no half-written record exists and
the audit chain verifies. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from inspection import db
from inspection.audit import service as audit
from inspection.evidence.store import build_store
from inspection.settings import get_settings
from inspection.sync.client import SyncFailed, TabletClient
from inspection.tools.devserver import DevServer
from tests.evidence.conftest import jpeg
from tests.factories import PASSWORD, World

# Enough that four kills fall inside the pushes now that a batch commits in one transaction.
EDITS = 1200
PHOTOS = 4


class Killing(httpx.AsyncBaseTransport):
    """The network, with two ways of losing the server at a chosen moment:

    - the `lost_push`-th push is answered, and the server is killed before the tablet reads the
      answer (the answer is lost): the tablet must send those mutations again to a server that
      already committed them;
    - the `cut_upload`-th photo upload (PUT) sends half its body, then the server is killed, then
      the rest goes into the void."""

    def __init__(self, server: DevServer, lost_push: int, cut_upload: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.server = server
        self.lost_push, self.cut_upload = lost_push, cut_upload
        self.pushes = self.puts = 0
        self.lost_seqs: list[int] = []  # the mutations whose answer was lost
        self.cut = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/sync/push"):
            self.pushes += 1
            if self.pushes == self.lost_push:
                body = json.loads(await request.aread())
                response = await self.inner.handle_async_request(request)
                await response.aread()
                assert response.status_code == 200, response.text
                self.server.kill()
                self.lost_seqs = [m["seq"] for m in body["mutations"]]
                raise httpx.ReadError("the server died before its answer arrived")
        if request.method == "PUT":
            self.puts += 1
            if self.puts == self.cut_upload:
                body = await request.aread()

                async def halves() -> AsyncIterator[bytes]:
                    yield body[: len(body) // 2]
                    self.server.kill()
                    self.cut = True
                    yield body[len(body) // 2 :]

                request = httpx.Request(request.method, request.url, headers=request.headers, content=halves())
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_sigkill_during_pushes_and_uploads_loses_and_doubles_nothing(
    world: World, tmp_path: Path, seeded: int
) -> None:
    server = DevServer()
    server.start()
    transport = Killing(server, lost_push=EDITS // 20 // 2, cut_upload=2)
    http = httpx.AsyncClient(base_url=server.url, timeout=10, transport=transport)
    tablet = TabletClient(
        http, str(tmp_path / "owner.sqlite3"), "crash-tablet", push_batch=20, retries=1, rng=random.Random(seeded)
    )
    try:
        await tablet.login(world.users["owner"].username, PASSWORD)
        await tablet.sync()
        site = str(world.id_of("site1"))
        for i in range(EDITS):
            tablet.edit("site", site, {"households": 1000 + i}, "site.update@1")
        shas = [tablet.add_photo(jpeg(800, 600, seed=i), world.id_of("p1"), name=f"p{i}.jpg") for i in range(PHOTOS)]

        async def committed() -> int:
            return int((await db.raw("SELECT COUNT(*) AS n FROM sync_mutation"))[0]["n"])

        # Each kill waits for an event, not for a time: three fall inside the pushes (after a
        # quarter, half and three quarters of the outbox has committed, before the rest has), one
        # between a push's commit and its answer, one in the middle of the second photo's body
        # (the last two from the transport, see Killing).
        at_kill: list[int] = []
        rounds = 0
        while tablet.outbox("pending") or tablet.photos("pending"):
            # five kills, each costing a sync or two: a tablet still not through after many more
            # rounds is stuck (a refused retry, say), which must fail the test, not hang it
            rounds += 1
            assert rounds <= 30, f"the tablet never got through: {len(tablet.outbox('pending'))} mutations pending"
            if not server.running:
                server.start()
            task = asyncio.create_task(tablet.sync())
            if len(at_kill) < 3:
                target = EDITS * (len(at_kill) + 1) // 4
                while not task.done() and await committed() < target:
                    await asyncio.sleep(0.005)
                server.kill()
                at_kill.append(await committed())
            with contextlib.suppress(SyncFailed, httpx.TransportError):
                await task
        assert len(at_kill) == 3 and all(0 < n < EDITS for n in at_kill), at_kill
        assert transport.lost_seqs, "a push's answer was lost with the server"
        assert transport.cut, "a kill fell in the middle of the second photo"

        # every mutation reached the server exactly once, in order, and has one stored outcome
        device = await db.raw("SELECT id FROM sync_device WHERE device_id = {}", "crash-tablet")
        logged = await db.raw("SELECT seq FROM sync_mutation WHERE device = {} ORDER BY seq", device[0]["id"])
        assert [r["seq"] for r in logged] == list(range(1, EDITS + 1))
        outcomes = {o["result"]["status"] for o in tablet.outbox()}
        assert outcomes <= {"applied", "conflict_recorded"}, outcomes

        # each edit changed the site once, those whose answer was lost too (sent again, answered
        # from what was stored): one audited update per mutation, the last value wins
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
