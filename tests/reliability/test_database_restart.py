"""PostgreSQL stopped and started again while tablets push and people read: every request during
the outage fails cleanly (503 problem JSON with Retry-After, never a 500, never a dropped
connection), the same server process answers again once the database is back, and the tablets'
retries land every change exactly once with the audit chain intact."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from inspection import db
from inspection.audit import service as audit
from inspection.sync.client import SyncFailed, TabletClient
from inspection.tools.devserver import DevServer
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.postgres_only

TABLETS = 3
EDITS = 80
DOWN_S = 3.0


def pg_ctl(*args: str) -> None:
    """Run pg_ctl on the test server. Output goes to its log file, never to a pipe this process
    would wait on (a server started with its output on our pipe keeps the pipe open)."""
    data = os.environ["SITEINSPECT_TEST_PG_DATA"]
    command = [f"{os.environ['SITEINSPECT_TEST_PG_BINDIR']}/pg_ctl", "-D", data, *args]
    if os.environ.get("SITEINSPECT_TEST_PG_RUN_AS"):
        command = ["runuser", "-u", os.environ["SITEINSPECT_TEST_PG_RUN_AS"], "--", *command]
    subprocess.run(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=60
    )


def restart_database() -> None:
    log = str(Path(os.environ["SITEINSPECT_TEST_PG_DATA"]).parent / "server.log")
    pg_ctl("-m", "fast", "-w", "stop")
    time.sleep(DOWN_S)
    pg_ctl("-l", log, "-w", "start")


@pytest.mark.skipif("SITEINSPECT_TEST_PG_DATA" not in os.environ, reason="needs the server from with-postgres.sh")
async def test_database_restart_under_load(world: World, tmp_path: Path, seeded: int) -> None:
    server = DevServer()
    server.start()
    pid = server.proc.pid if server.proc else None
    http = httpx.AsyncClient(base_url=server.url, timeout=15)
    tablets = [
        TabletClient(
            http,
            str(tmp_path / f"t{i}.sqlite3"),
            f"restart-{i}",
            push_batch=10,
            retries=2,
            backoff_s=0.1,
            rng=random.Random(seeded + i),
        )
        for i in range(TABLETS)
    ]
    site = str(world.id_of("site1"))
    statuses: Counter[int] = Counter()
    bad: list[str] = []
    stop = asyncio.Event()
    try:
        for i, tablet in enumerate(tablets):
            await tablet.login(world.users["owner"].username, PASSWORD)
            await tablet.sync()
            for n in range(EDITS):
                tablet.edit("site", site, {"address": f"tablet {i} edit {n}"}, "site.update@1")

        async def push(tablet: TabletClient) -> None:
            while tablet.outbox("pending") and not stop.is_set():
                with contextlib.suppress(SyncFailed):
                    await tablet.sync()
                await asyncio.sleep(0.05)

        async def read() -> None:
            headers = {"Authorization": f"Bearer {world.tokens['owner']}"}
            while not stop.is_set():
                r = await http.get(f"/api/v1/projects/{world.id_of('p1')}/sites", headers=headers)
                statuses[r.status_code] += 1
                if r.status_code == 503:
                    if not (
                        r.headers["content-type"].startswith("application/problem+json") and "retry-after" in r.headers
                    ):
                        bad.append(r.text)
                elif r.status_code != 200:
                    bad.append(f"{r.status_code} {r.text[:200]}")
                await asyncio.sleep(0.02)

        readers = [asyncio.create_task(read()) for _ in range(2)]
        pushers = [asyncio.create_task(push(t)) for t in tablets]

        # stop the database once the tablets' pushes are landing, not after some time
        async def _landing() -> None:
            while not (await db.raw("SELECT COUNT(*) AS n FROM sync_mutation"))[0]["n"]:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(_landing(), timeout=120)
        await asyncio.to_thread(restart_database)
        await asyncio.wait_for(asyncio.gather(*pushers), timeout=120)
        # the same process answers normally again: a read after the pushes are all in succeeds
        settled = statuses[200]

        async def _recovered() -> None:
            while statuses[200] <= settled:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(_recovered(), timeout=60)
        stop.set()
        await asyncio.gather(*readers)
        assert server.proc is not None and server.proc.pid == pid and server.proc.poll() is None
        assert bad == [], bad[:5]
        assert statuses[503] >= 1, statuses  # the outage was seen
        r = await http.get("/ready")
        assert r.status_code == 200, r.text

        # every change exactly once, in order, per tablet
        for i, tablet in enumerate(tablets):
            assert tablet.outbox("pending") == []
            device = await db.raw("SELECT id FROM sync_device WHERE device_id = {}", f"restart-{i}")
            logged = await db.raw("SELECT seq FROM sync_mutation WHERE device = {} ORDER BY seq", device[0]["id"])
            assert [row["seq"] for row in logged] == list(range(1, EDITS + 1))
        result = await audit.verify()
        assert result.ok, result.reason
    finally:
        stop.set()
        for tablet in tablets:
            tablet.close()
        await http.aclose()
        server.stop()
