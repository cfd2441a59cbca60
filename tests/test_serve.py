"""`siteinspect serve` as production runs it: on a port already taken it stops with a message and
never starts the scheduler; SIGTERM ends it within its grace period, a render in flight and the
scheduler running included."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from inspection.alerts.tables import SchedulerRun
from inspection.clock import FixedClock
from inspection.settings import PROJECT_ROOT
from inspection.tools.devserver import HOST, DevServer
from tests.factories import World
from tests.reports.helpers import STARTED, bearer, render_env, slow_weekly, wait_until_gone

# the scheduler on, ticking every second: were it started, it would leave runs behind at once
SCHEDULER_ON = {"SITEINSPECT_SCHEDULER_ENABLED": "true", "SITEINSPECT_SCHEDULER_INTERVAL_S": "1"}


async def test_serve_on_a_busy_port_exits_with_a_message(world: World) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, "-m", "inspection.cli", "serve", "--host", HOST, "--port", str(port)],
            env={**os.environ, **SCHEDULER_ON},
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            out, err = await asyncio.to_thread(proc.communicate, timeout=120)
        finally:
            proc.kill()
    assert proc.returncode == 1, (out, err)
    assert f"无法监听 {HOST}:{port}：该端口已被其他程序" in err
    assert "用 --port 或 SITEINSPECT_SERVER_PORT 换一个端口" in err
    assert "已在" not in out and "启动" not in out
    runs = await SchedulerRun.select().where(SchedulerRun.worker == f"{socket.gethostname()}:{proc.pid}")
    assert runs == []


async def test_sigterm_ends_the_server_within_the_grace_period_mid_render(
    world: World, clock: FixedClock, tmp_path: Path
) -> None:
    slow = await slow_weekly(world, clock)
    grace = 2
    env = render_env(workers=1, queue=1, timeout_s=600, SITEINSPECT_SERVER_SHUTDOWN_GRACE_S=str(grace), **SCHEDULER_ON)
    server = DevServer(env, log=tmp_path / "server.log", cli=True)
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            auth = await bearer(http, world, "supervisor")
            mark = server.log_size()
            in_flight = asyncio.create_task(http.get(slow, headers=auth))
            worker = int((await asyncio.to_thread(server.wait_for_log, STARTED, after=mark))[1])
            assert server.proc is not None
            began = time.monotonic()
            server.proc.terminate()
            # the render alone would take far longer than this (and its limit is 600 s)
            code = await asyncio.to_thread(server.proc.wait, grace + 30)
            took = time.monotonic() - began
            r = await in_flight
    finally:
        server.kill()
    assert code == -15, code  # uvicorn ends by the signal it got, once its shutdown is done
    assert took < grace + 30
    # the request cut short by the shutdown is told to come back, not given a bare 500
    assert r.status_code == 503, r.text
    assert r.json()["type"] == "urn:siteinspect:problem:shutting-down"
    assert int(r.headers["retry-after"]) >= 1
    await asyncio.to_thread(wait_until_gone, worker)
