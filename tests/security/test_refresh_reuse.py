"""A refresh token presented after it was rotated is taken for a stolen one: the whole device
session (every token issued from it) is revoked, the audit log records it, and the account's other
devices stay signed in."""

from __future__ import annotations

from typing import Any

import httpx

from inspection.audit.service import verify
from inspection.audit.tables import AuditEntry
from tests.factories import World, login


async def _refresh(client: httpx.AsyncClient, tokens: dict[str, Any], device: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"], "device_id": device}
    )


async def _me(client: httpx.AsyncClient, tokens: dict[str, Any]) -> int:
    r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    return r.status_code


async def test_reused_refresh_token_revokes_the_session_and_is_audited(world: World) -> None:
    name = world.users["supervisor"].username
    first = await login(world.client, name, "tablet-7")
    elsewhere = await login(world.client, name, "desk")
    r = await _refresh(world.client, first, "tablet-7")
    assert r.status_code == 200, r.text
    second = r.json()
    r = await _refresh(world.client, second, "tablet-7")  # the owner keeps rotating
    assert r.status_code == 200, r.text
    third = r.json()
    assert await _me(world.client, third) == 200

    # the first token comes back (a copy taken off the tablet, two rotations ago)
    r = await _refresh(world.client, first, "tablet-7")
    assert r.status_code == 401
    assert r.json()["field"] == "refresh_token"

    # the whole family is gone: the newest access and refresh tokens too
    assert await _me(world.client, third) == 401
    assert (await _refresh(world.client, third, "tablet-7")).status_code == 401
    # the account's other device is another session and stays signed in
    assert await _me(world.client, elsewhere) == 200

    entries = await AuditEntry.select().where(AuditEntry.action == "refresh_token_reused")
    assert len(entries) == 1
    (entry,) = entries
    assert entry["record_id"] == first["session_id"]
    assert entry["table_name"] == "device_session"
    assert entry["actor_id"] == str(world.users["supervisor"].id)
    for token in (first, second, third):  # the audit log keeps no token
        assert token["refresh_token"] not in entry["changes"]
    assert (await verify()).ok

    # presented once more: refused, and nothing more to revoke or record
    assert (await _refresh(world.client, second, "tablet-7")).status_code == 401
    assert await AuditEntry.count().where(AuditEntry.action == "refresh_token_reused") == 1


async def test_unknown_refresh_token_revokes_nothing(world: World) -> None:
    tokens = await login(world.client, world.users["owner"].username, "phone")
    forged = {"refresh_token": "x" * 43}
    assert (await _refresh(world.client, forged, "phone")).status_code == 401
    assert await _me(world.client, tokens) == 200
    assert await AuditEntry.count().where(AuditEntry.action == "refresh_token_reused") == 0
