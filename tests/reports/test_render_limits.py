"""Renders under limits, against real server processes: a report whose data makes it slow is cut
off at reports.render_timeout_s with a clear problem while /health, the API and other reports are
served; a client that leaves frees its worker at once; a full queue answers 503 with Retry-After.
And texts longer than the API accepts print cut, so they cannot make a layout explode."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from inspection.clock import FixedClock
from inspection.projects.tables import Project, Site
from inspection.rectification.tables import RectificationOrder
from inspection.settings import PROJECT_ROOT
from inspection.tools.devserver import DevServer
from tests.factories import World
from tests.rectification.helpers import actor_of, create_body
from tests.reports.helpers import (
    STARTED,
    bearer,
    page_count,
    pdf_text,
    quick_notice,
    render_env,
    request_and_leave_open,
    slow_weekly,
    squeeze,
    wait_until_gone,
)

PROBLEM = "urn:siteinspect:problem:"


async def _start(server: DevServer) -> DevServer:
    # in a worker thread: the event loop stays free for the test's database
    return await asyncio.to_thread(server.start)


async def test_a_slow_render_is_cut_off_at_the_limit_while_others_are_served(
    world: World, clock: FixedClock, tmp_path: Path
) -> None:
    slow, quick = await slow_weekly(world, clock), await quick_notice(world)
    server = await _start(DevServer(render_env(workers=2, queue=4, timeout_s=10), log=tmp_path / "server.log"))
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            auth = await bearer(http, world, "supervisor")
            mark = server.log_size()
            began = time.monotonic()
            cut = asyncio.create_task(http.get(slow, headers=auth))
            worker = int((await asyncio.to_thread(server.wait_for_log, STARTED, after=mark))[1])

            # while that worker is busy: liveness, a read of the API, and a report in the other worker
            health = await http.get("/health")
            project = await http.get(f"/api/v1/projects/{world.id_of('p1')}", headers=auth)
            notice = await http.get(quick, headers=auth)
            assert (health.status_code, project.status_code, notice.status_code) == (200, 200, 200), notice.text
            assert notice.content.startswith(b"%PDF")
            assert not cut.done(), "the other requests were answered only after the slow render ended"

            r = await cut
            took = time.monotonic() - began
            assert r.status_code == 504, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            problem = r.json()
            assert problem["type"] == PROBLEM + "render-timeout"
            assert problem["title"] == "报表生成超时"
            assert "10 秒" in problem["detail"] and problem["limit_s"] == 10
            assert took >= 10  # never cut before its limit

            # the worker that overran is gone, and its successor renders the next report
            await asyncio.to_thread(wait_until_gone, worker)
            again = await http.get(quick, headers=auth)
            assert again.status_code == 200 and again.content.startswith(b"%PDF")
    finally:
        server.stop()
    assert "report render stopped at the limit of 10 s" in (tmp_path / "server.log").read_text()


async def test_a_client_that_leaves_frees_its_worker(world: World, clock: FixedClock, tmp_path: Path) -> None:
    slow, quick = await slow_weekly(world, clock), await quick_notice(world)
    # one worker, no queue and a limit far away: only the client's leaving can free the worker
    server = await _start(DevServer(render_env(workers=1, queue=0, timeout_s=600), log=tmp_path / "server.log"))
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            auth = await bearer(http, world, "supervisor")
            mark = server.log_size()
            leaving = request_and_leave_open(server, slow, auth)
            worker = int((await asyncio.to_thread(server.wait_for_log, STARTED, after=mark))[1])
            refused = await http.get(quick, headers=auth)
            assert refused.status_code == 503, refused.text

            leaving.close()
            await asyncio.to_thread(server.wait_for_log, rf"render cancelled .*worker {worker} killed", after=mark)
            await asyncio.to_thread(wait_until_gone, worker)
            r = await http.get(quick, headers=auth)
            assert r.status_code == 200, r.text
            assert r.content.startswith(b"%PDF")
    finally:
        server.stop()


async def test_a_full_queue_answers_503_with_retry_after(world: World, clock: FixedClock, tmp_path: Path) -> None:
    slow, quick = await slow_weekly(world, clock), await quick_notice(world)
    server = await _start(DevServer(render_env(workers=1, queue=1, timeout_s=600), log=tmp_path / "server.log"))
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            auth = await bearer(http, world, "supervisor")
            mark = server.log_size()
            rendering = request_and_leave_open(server, slow, auth)
            await asyncio.to_thread(server.wait_for_log, STARTED, after=mark)
            waiting = asyncio.create_task(http.get(quick, headers=auth))
            await asyncio.to_thread(server.wait_for_log, r"waiting for a worker \(1 waiting\)", after=mark)

            r = await http.get(quick, headers=auth)
            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert int(r.headers["retry-after"]) >= 1
            problem = r.json()
            assert problem["type"] == PROBLEM + "reports-busy"
            assert problem["title"] == "报表生成繁忙"
            assert f"{r.headers['retry-after']} 秒后重试" in problem["detail"]
            assert not waiting.done()

            # the queued request is served as soon as the worker is free again
            rendering.close()
            served = await waiting
            assert served.status_code == 200, served.text
            assert served.content.startswith(b"%PDF")
    finally:
        server.stop()


async def _long_notice(world: World, description: str) -> str:
    detail = await world.services.rectification.create_order(
        actor_of(world, "inspector"), create_body(world, issue=True)
    )
    await RectificationOrder.update({RectificationOrder.description: description}).where(
        RectificationOrder.id == detail.order.id
    )
    r = await world.get("supervisor", f"/api/v1/reports/rectification/{detail.order.id}.pdf")
    assert r.status_code == 200, r.text
    assert page_count(r.content) < 10
    return squeeze(pdf_text(r.content))


async def test_texts_longer_than_the_api_accepts_print_cut(world: World) -> None:
    """A description of 300,000 characters, written straight into the database (as the sync path
    could before it checked lengths): it prints cut to the API's 5,000, with a note of how many
    characters were left out, and the report renders at once."""
    text = await _long_notice(world, "渗漏" * 150_000)
    assert "漏…（以下省略295,017字）" in text or "渗…（以下省略295,017字）" in text  # 4,983 of 300,000


@pytest.mark.sqlite_only  # PostgreSQL refuses such names: the columns are VARCHAR(200)
async def test_names_longer_than_the_api_accepts_print_cut(world: World) -> None:
    """A project name of 5,000 characters in the letterhead of every page took WeasyPrint over seven
    minutes; names print cut to the API's 200 characters, with the note."""
    await Project.update({Project.name: "量" * 5000}).where(Project.id == world.id_of("p1"))
    await Site.update({Site.name: "幸福里" + "a" * 300_000}).where(Site.id == world.id_of("site1"))
    text = await _long_notice(world, "屋面渗漏")
    assert "量…（以下省略4,815字）" in text  # 185 of 5,000
    assert "幸福里" + "a" * 20 in text and "a…（以下省略299,820字）" in text  # 183 of 300,003


async def test_the_command_line_stops_a_slow_render_at_the_limit(
    world: World, clock: FixedClock, tmp_path: Path
) -> None:
    """`siteinspect report` renders in a worker under the same limit, and says why it stopped."""
    slow = await slow_weekly(world, clock)
    week = slow.rsplit("week=", 1)[1]
    out = tmp_path / "week.pdf"
    done = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "inspection.cli",
            "report",
            "weekly",
            str(world.id_of("p1")),
            "--week",
            week,
            "-o",
            str(out),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "SITEINSPECT_REPORTS_RENDER_TIMEOUT_S": "2"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "报表未能在 2 秒内生成，已中止" in done.stderr
    assert not out.exists()
