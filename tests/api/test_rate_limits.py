"""Rate limits are counted in the database: every server process and every restart sees the same
count, the window slides on the server clock, and old rows are pruned."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from inspection.clock import FixedClock
from inspection.complaints.service import load_rate_rule
from inspection.complaints.tables import Complaint
from inspection.projects.auth import login_account_key
from inspection.projects.ratelimit import KEEP, RateCounter, Window
from inspection.projects.tables import RateEvent
from inspection.settings import get_settings
from inspection.tools.devserver import DevServer
from tests.factories import PASSWORD, World


async def test_window_slides_on_the_server_clock(clock: FixedClock) -> None:
    rates, window = RateCounter(clock), Window(max_events=2, seconds=60)
    assert await rates.wait_s("k", window) is None
    await rates.record(["k"])
    clock.advance(timedelta(seconds=10))
    await rates.record(["k"])
    clock.advance(timedelta(seconds=10))
    assert await rates.wait_s("k", window) == 40  # the first leaves the window at 60 s
    assert await rates.wait_s("other", window) is None
    clock.advance(timedelta(seconds=41))
    assert await rates.wait_s("k", window) is None
    await rates.forget("k")
    assert await RateEvent.count().where(RateEvent.key == "k") == 0


async def test_old_rows_are_pruned_whatever_their_key(clock: FixedClock) -> None:
    rates = RateCounter(clock)
    await rates.record([f"login-user:sprayed-{i}" for i in range(50)])
    clock.advance(KEEP + timedelta(seconds=1))
    await rates.record(["login-user:late"])
    ours = [f"login-user:sprayed-{i}" for i in range(50)] + ["login-user:late"]
    assert [r["key"] for r in await RateEvent.select(RateEvent.key).where(RateEvent.key.is_in(ours))] == [
        "login-user:late"
    ]


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[list[httpx.AsyncClient]]:
    """Two `uvicorn` processes on the test database (their clocks stopped at the suite's instant,
    as the test's clock is), as two workers behind one balancer."""
    servers = [DevServer(log=tmp_path / f"server{i}.log") for i in range(2)]
    try:
        for server in servers:
            server.start()
        yield [httpx.AsyncClient(base_url=server.url, timeout=30) for server in servers]
    finally:
        for server in servers:
            server.stop()


async def test_two_server_processes_share_the_login_count(world: World, two_servers: list[httpx.AsyncClient]) -> None:
    """Five failures spread over two server processes lock the account on both; before, each
    process kept its own count and an attacker got five tries per process."""
    name = world.users["viewer"].username
    window = get_settings().security.login_window_s
    for i in range(5):
        r = await two_servers[i % 2].post(
            "/api/v1/auth/login", json={"username": name, "password": "Wrong-pass-99", "device_id": "d"}
        )
        assert r.status_code == 401, r.text
    for client in two_servers:
        r = await client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD, "device_id": "d"})
        assert r.status_code == 429, r.text
        assert 0 < int(r.headers["retry-after"]) <= window
    for client in two_servers:
        await client.aclose()


async def test_two_server_processes_share_the_complaint_count(
    world: World, two_servers: list[httpx.AsyncClient]
) -> None:
    """A resident's address may send `max_per_window` complaints in all, not that many per process."""
    site = world.id_of("site1")
    limit = load_rate_rule().max_events
    for i in range(limit):
        r = await two_servers[i % 2].post(
            f"/portal/notice/{site}/complaints", data={"topic": "other", "text": f"第{i + 1}条意见：路面不平"}
        )
        assert r.status_code == 200, r.text
    for client in two_servers:
        r = await client.post(f"/portal/notice/{site}/complaints", data={"topic": "other", "text": "又一条意见"})
        assert r.status_code == 429 and "retry-after" in r.headers, r.text
    assert await Complaint.count().where(Complaint.site == site) == limit
    for client in two_servers:
        await client.aclose()


async def test_the_login_count_passes_with_the_window(world: World, clock: FixedClock) -> None:
    """In one process, on a clock the test moves: the window passes, the right password works again
    and clears the account's count."""
    name = world.users["viewer"].username
    for _ in range(5):
        r = await world.client.post(
            "/api/v1/auth/login", json={"username": name, "password": "Wrong-pass-99", "device_id": "d"}
        )
        assert r.status_code == 401
    r = await world.client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD, "device_id": "d"})
    assert r.status_code == 429
    clock.advance(timedelta(seconds=get_settings().security.login_window_s + 1))
    r = await world.client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD, "device_id": "d"})
    assert r.status_code == 200
    assert await RateEvent.count().where(RateEvent.key == login_account_key(name, "127.0.0.1")) == 0
