"""The sign-in limit cannot be turned against an account's owner: failures count per account and
address, and per address alone only at a much higher limit, so made-up user names sprayed from
one address, or a colleague's mistakes behind the same NAT address, never refuse a correct
password for an account that is not itself locked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest

from api.app import create_app
from inspection.clock import FixedClock
from inspection.settings import get_settings
from tests.factories import PASSWORD, World

ADDRESS_LIMIT = 12


async def _login(client: httpx.AsyncClient, username: str, password: str) -> int:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": password, "device_id": "d"})
    return r.status_code


@pytest.fixture
async def office(world: World, clock: FixedClock) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Two client addresses (a site office's NAT address and somewhere else) on an app whose
    per-address limit is low enough to reach in a test."""
    settings = get_settings()
    security = msgspec.structs.replace(settings.security, login_address_max_failures=ADDRESS_LIMIT)
    app = create_app(msgspec.structs.replace(settings, security=security), clock, check_migrations=False)
    clients = {}
    for name, address in (("nat", "198.51.100.7"), ("home", "203.0.113.20")):
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        clients[name] = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    yield clients
    for c in clients.values():
        await c.aclose()


async def test_sprayed_user_names_do_not_lock_out_the_administrator(
    world: World, office: dict[str, httpx.AsyncClient]
) -> None:
    nat = office["nat"]
    for i in range(5):
        assert await _login(nat, f"nobody-{i}", "Wrong-pass-99") == 401
    assert await _login(nat, world.users["admin"].username, PASSWORD) == 200


async def test_an_account_locked_from_one_address_still_signs_in_elsewhere(
    world: World, office: dict[str, httpx.AsyncClient]
) -> None:
    nat, home = office["nat"], office["home"]
    viewer = world.users["viewer"].username
    for _ in range(5):
        assert await _login(nat, viewer, "Wrong-pass-99") == 401
    # locked from that address, even with the right password …
    assert await _login(nat, viewer, PASSWORD) == 429
    # … but a colleague behind the same NAT address, and the owner from elsewhere, sign in
    assert await _login(nat, world.users["owner"].username, PASSWORD) == 200
    assert await _login(home, viewer, PASSWORD) == 200


async def test_one_address_guessing_across_accounts_is_stopped_at_the_higher_limit(
    world: World, office: dict[str, httpx.AsyncClient]
) -> None:
    nat, home = office["nat"], office["home"]
    for i in range(ADDRESS_LIMIT):
        assert await _login(nat, f"guess-{i}", "Wrong-pass-99") == 401
    r = await nat.post(
        "/api/v1/auth/login",
        json={"username": world.users["owner"].username, "password": PASSWORD, "device_id": "d"},
    )
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert await _login(home, world.users["owner"].username, PASSWORD) == 200
