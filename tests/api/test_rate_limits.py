"""Rate limits are counted in the database: every server process and every restart sees the same
count, the window slides on the server clock, and old rows are pruned."""

from __future__ import annotations

from datetime import timedelta

from api.app import create_app
from inspection.clock import FixedClock
from inspection.projects.auth import login_account_key
from inspection.projects.tables import RateEvent
from inspection.ratelimit import KEEP, RateCounter, Window
from inspection.settings import get_settings
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
    assert [r["key"] for r in await RateEvent.select(RateEvent.key)] == ["login-user:late"]


async def test_two_server_processes_share_the_login_count(world: World, clock: FixedClock) -> None:
    """Five failures spread over two app instances (as two worker processes) lock the account on
    both; before, each process kept its own count and an attacker got five tries per process."""
    import httpx

    other = create_app(get_settings(), clock, check_migrations=False)
    transport = httpx.ASGITransport(app=other, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as second:
        name = world.users["viewer"].username
        for i in range(5):
            client = world.client if i % 2 else second
            r = await client.post(
                "/api/v1/auth/login", json={"username": name, "password": "Wrong-pass-99", "device_id": "d"}
            )
            assert r.status_code == 401
        for client in (world.client, second):
            r = await client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD, "device_id": "d"})
            assert r.status_code == 429, r.text
            assert 0 < int(r.headers["retry-after"]) <= get_settings().security.login_window_s
        # the window passes: the right password works again and clears the account's count
        clock.advance(timedelta(seconds=get_settings().security.login_window_s + 1))
        r = await second.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD, "device_id": "d"})
        assert r.status_code == 200
        assert await RateEvent.count().where(RateEvent.key == login_account_key(name, "127.0.0.1")) == 0
