"""The portal session cookie's `Secure` flag comes from the mode and from how the browser really
connected (the server's scheme, or X-Forwarded-Proto from a proxy in `server.trusted_proxies`),
never from the Host header: behind nginx the Host may say 127.0.0.1 while the browser is anywhere."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest

from api.app import create_app
from inspection.clock import FixedClock
from inspection.settings import Settings, get_settings
from tests.factories import PASSWORD, World
from tests.portal.helpers import csrf_of


def _settings(mode: str = "dev", trusted: list[str] | None = None) -> Settings:
    settings = get_settings()
    server = msgspec.structs.replace(settings.server, trusted_proxies=trusted or [])
    return msgspec.structs.replace(settings, mode=mode, server=server)


def _browser(app: Any, peer: str, host: str, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 41000))
    return httpx.AsyncClient(transport=transport, base_url=f"http://{host}", headers=headers or {})


def _value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


async def _cookies(world: World, client: httpx.AsyncClient) -> list[str]:
    """Sign in as a browser behind TLS would: the browser holds Secure cookies and sends them
    back (the test client talks plain http to the app, so it is done by hand here)."""
    page = await client.get("/portal/login")
    (pre,) = [c for c in page.headers.get_list("set-cookie") if c.startswith("si_pre=")]
    client.cookies.clear()
    r = await client.post(
        "/portal/login",
        data={
            "csrf_token": csrf_of(page.text),
            "username": world.users["supervisor"].username,
            "password": PASSWORD,
            "next": "/portal/",
        },
        headers={"Cookie": f"si_pre={_value(pre)}"},
    )
    assert r.status_code == 303, r.text
    found = [pre, *(c for c in r.headers.get_list("set-cookie") if c.startswith("si_session="))]
    assert len(found) == 2
    client.cookies.clear()
    client.headers["Cookie"] = f"si_session={_value(found[1])}"
    return found


@pytest.mark.parametrize(
    ("mode", "trusted", "peer", "headers", "secure"),
    [
        # nginx on this machine terminates TLS and passes Host: 127.0.0.1:8501; production mode
        # always marks the cookie Secure
        ("production", [], "127.0.0.1", {}, True),
        # the same in dev mode, with nginx named as a trusted proxy that says the browser used HTTPS
        ("dev", ["127.0.0.1"], "127.0.0.1", {"X-Forwarded-Proto": "https"}, True),
        ("dev", ["127.0.0.0/8"], "127.0.0.1", {"X-Forwarded-Proto": "https, http"}, True),
        # a browser elsewhere talking plain http while claiming Host: 127.0.0.1
        ("dev", [], "10.0.0.9", {}, True),
        # a forwarded scheme from a peer nobody trusts is not believed; on this machine in dev
        # mode over plain http the cookie goes without Secure so that development works
        ("dev", [], "127.0.0.1", {"X-Forwarded-Proto": "https"}, False),
        ("dev", ["127.0.0.1"], "127.0.0.1", {"X-Forwarded-Proto": "http"}, False),
    ],
)
async def test_secure_flag_follows_mode_and_trusted_proxy_not_host(
    world: World,
    clock: FixedClock,
    mode: str,
    trusted: list[str],
    peer: str,
    headers: dict[str, str],
    secure: bool,
) -> None:
    app = create_app(_settings(mode, trusted), clock, check_migrations=False)
    async with _browser(app, peer, "127.0.0.1:8501", headers) as b:
        for cookie in await _cookies(world, b):
            assert ("Secure" in cookie) is secure, cookie


async def test_production_refreshed_cookie_is_secure_too(world: World, clock: FixedClock) -> None:
    """The cookie written when a page refreshes the tokens follows the same rule as at sign-in."""
    from datetime import timedelta

    app = create_app(_settings("production"), clock, check_migrations=False)
    async with _browser(app, "127.0.0.1", "127.0.0.1:8501") as b:
        await _cookies(world, b)
        clock.advance(timedelta(seconds=get_settings().security.access_token_ttl_s - 60))
        r = await b.get("/portal/alerts/")
        assert r.status_code == 200, r.text
        (cookie,) = [c for c in r.headers.get_list("set-cookie") if c.startswith("si_session=")]
        assert "Secure" in cookie
