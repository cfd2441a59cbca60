"""Sign-in, tokens, refresh rotation, sign-out, device revocation and the login rate limit."""

from __future__ import annotations

from datetime import timedelta

from inspection.clock import FixedClock
from tests.factories import PASSWORD, World, login


async def test_login_returns_tokens_and_user(world: World) -> None:
    body = await login(world.client, world.users["inspector"].username, "tablet-7")
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["user"]["username"] == world.users["inspector"].username
    assert "password" not in str(body["user"])
    r = await world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.status_code == 200
    assert {m["role"] for m in r.json()["memberships"]} == {"inspector"}


async def test_wrong_password_and_unknown_user_look_the_same(world: World) -> None:
    a = await world.client.post(
        "/api/v1/auth/login",
        json={"username": world.users["owner"].username, "password": "nope-nope-1", "device_id": "d"},
    )
    b = await world.client.post(
        "/api/v1/auth/login", json={"username": "ghost", "password": "nope-nope-1", "device_id": "d"}
    )
    assert a.status_code == b.status_code == 401
    assert a.json()["detail"] == b.json()["detail"]


async def test_login_is_rate_limited(world: World) -> None:
    name = world.users["viewer"].username
    for _ in range(5):
        r = await world.client.post(
            "/api/v1/auth/login", json={"username": name, "password": "wrong-pass-1", "device_id": "d"}
        )
        assert r.status_code == 401
    r = await world.client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD, "device_id": "d"})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    assert r.json()["type"].endswith(":rate-limited")


async def test_refresh_rotates_and_is_bound_to_the_device(world: World) -> None:
    first = await login(world.client, world.users["owner"].username, "phone-1")
    r = await world.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"], "device_id": "phone-2"}
    )
    assert r.status_code == 401
    assert r.json()["field"] == "device_id"
    r = await world.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"], "device_id": "phone-1"}
    )
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    r = await world.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"], "device_id": "phone-1"}
    )
    assert r.status_code == 401, "an old refresh token must stop working after rotation"
    # a reused token is taken for a stolen one: the session it came from is over too
    # (tests/security/test_refresh_reuse.py)
    r = await world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert r.status_code == 401


async def test_access_token_expires(world: World, clock: FixedClock) -> None:
    headers = world.headers("owner")
    assert (await world.client.get("/api/v1/me", headers=headers)).status_code == 200
    clock.advance(timedelta(seconds=901))
    r = await world.client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401
    assert r.json()["token_expired"] is True
    assert r.headers["www-authenticate"] == "Bearer"


async def test_tampered_and_malformed_tokens(world: World) -> None:
    token = world.tokens["owner"]
    body, mac = token.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    for bad in [forged, token + "x", "a.b", "", "Bearer", "x" * 5000]:
        r = await world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad[:20]


async def test_logout_revokes_at_once(world: World) -> None:
    session = await login(world.client, world.users["supervisor"].username, "laptop")
    headers = {"Authorization": f"Bearer {session['access_token']}"}
    assert (await world.client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await world.client.get("/api/v1/me", headers=headers)).status_code == 401
    r = await world.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"], "device_id": "laptop"}
    )
    assert r.status_code == 401


async def test_revoke_a_lost_device(world: World) -> None:
    name = world.users["contractor_a"].username
    lost = await login(world.client, name, "lost-phone")
    kept = await login(world.client, name, "desk")
    kept_headers = {"Authorization": f"Bearer {kept['access_token']}"}
    devices = (await world.client.get("/api/v1/auth/devices", headers=kept_headers)).json()
    assert {"lost-phone", "desk"} <= {d["device_id"] for d in devices}
    r = await world.client.delete("/api/v1/auth/devices/lost-phone", headers=kept_headers)
    assert r.status_code == 200 and r.json()["sessions_revoked"] == 1
    lost_headers = {"Authorization": f"Bearer {lost['access_token']}"}
    assert (await world.client.get("/api/v1/me", headers=lost_headers)).status_code == 401
    assert (await world.client.get("/api/v1/me", headers=kept_headers)).status_code == 200


async def test_weak_password_refused(world: World) -> None:
    r = await world.post(
        "admin", "/api/v1/users", {"username": "weakling", "display_name": "弱", "password": "12345678901"}
    )
    assert r.status_code == 422
    assert r.json()["field"] == "password"
    r = await world.post("admin", "/api/v1/users", {"username": "shorty", "display_name": "短", "password": "ab1"})
    assert r.status_code == 422


async def test_health_is_public_and_ready_checks_the_database(client) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/health")).json()["status"] == "ok"
    r = await client.get("/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "object_store": "ok"}
    assert r.headers["x-request-id"]
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_openapi_lists_the_endpoints(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for p in [
        "/api/v1/auth/login",
        "/api/v1/projects",
        "/api/v1/projects/{project_id}/sites",
        "/api/v1/work-items/{work_item_id}",
    ]:
        assert p in paths, p
    assert (await client.get("/schema/swagger")).status_code == 200


async def test_a_user_name_with_nul_is_refused_not_a_500(world: World, app) -> None:  # type: ignore[no-untyped-def]
    """Found by `make fuzz` on PostgreSQL, which cannot compare text holding NUL: the API refuses
    the name by its pattern (naming the field), the portal's form as a wrong name or password."""
    from tests.portal.helpers import browser, sign_in

    r = await world.client.post(
        "/api/v1/auth/login", json={"username": "owner\x00", "password": PASSWORD, "device_id": "d"}
    )
    assert r.status_code == 400 and r.json()["field"] == "username", r.text
    async with browser(app) as b:
        page = await sign_in(b, "owner\x00")
        assert page.status_code in (200, 401) and "用户名或密码" in page.text, page.text[:500]
