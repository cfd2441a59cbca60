"""Security basics: the headers every answer carries, CORS only for configured origins, and no
password, token or secret in the logs or echoed in an error."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import msgspec
import pytest

from api.app import create_app
from inspection.clock import FixedClock
from inspection.settings import get_settings
from tests.factories import PASSWORD, World

ALLOWED = "https://jianguan.example.cn"


def _assert_secure_headers(r: httpx.Response) -> None:
    h = r.headers
    where = f"{r.request.method} {r.request.url.path} -> {r.status_code}"
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("x-frame-options") == "DENY", where
    assert h.get("referrer-policy") == "no-referrer", where
    assert "max-age=" in h.get("strict-transport-security", ""), where


def _assert_not_cached(r: httpx.Response) -> None:
    where = f"{r.request.method} {r.request.url.path} -> {r.status_code}"
    directives = {d.strip().split("=")[0] for d in r.headers.get("cache-control", "").split(",")}
    assert "no-store" in directives, (where, r.headers.get("cache-control"))


async def test_every_kind_of_answer_carries_the_headers(world: World) -> None:
    owner = world.headers("owner")
    p1 = world.id_of("p1")
    answers = [
        await world.client.get("/health"),
        await world.client.get(f"/api/v1/projects/{p1}/sites", headers=owner),  # a record list
        await world.client.get(f"/api/v1/projects/{p1}/sites"),  # 401
        await world.client.get("/api/v1/no-such-thing", headers=owner),  # 404 from the router
        await world.client.delete("/health"),  # 405
        await world.client.post(f"/api/v1/projects/{p1}/sites", headers=owner, json={"name": ""}),  # 422
        await world.client.get("/schema/openapi.json"),
        await world.client.get("/portal/login"),
    ]
    login = await world.client.post(
        "/api/v1/auth/login",
        json={"username": world.users["owner"].username, "password": PASSWORD, "device_id": "hdr"},
    )
    assert login.status_code == 200
    answers.append(login)
    static = await world.client.get("/portal/static/portal.css")
    for r in [*answers, static]:
        _assert_secure_headers(r)
    # nothing is kept by any cache, records and tokens least of all, unless the answer sets its own
    # caching (the portal's static files); then it is what that answer says
    for r in answers:
        _assert_not_cached(r)
    assert static.status_code == 200 and static.headers["cache-control"] == "max-age=600, public"
    # the portal's pages add a content security policy of their own origin only
    portal = next(r for r in answers if r.request.url.path == "/portal/login")
    assert "default-src 'self'" in portal.headers["content-security-policy"]


@pytest.fixture
def cors_client(clock: FixedClock) -> Iterator[httpx.AsyncClient]:
    settings = get_settings()
    server = msgspec.structs.replace(settings.server, cors_origins=[ALLOWED])
    app = create_app(msgspec.structs.replace(settings, server=server), clock, check_migrations=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    yield httpx.AsyncClient(transport=transport, base_url="http://testserver")


def _preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_cors_only_for_configured_origins(world: World, cors_client: httpx.AsyncClient) -> None:
    url = f"/api/v1/projects/{world.id_of('p1')}/sites"
    ok = await cors_client.options(url, headers=_preflight(ALLOWED))
    assert ok.status_code in (200, 204), ok.text
    assert ok.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in ok.headers["access-control-allow-methods"]

    for origin in ("https://evil.example.com", "null", ALLOWED + ".evil.example.com", "http://jianguan.example.cn"):
        refused = await cors_client.options(url, headers=_preflight(origin))
        assert refused.headers.get("access-control-allow-origin") not in (origin, "*"), origin
        simple = await cors_client.get(url, headers={**world.headers("owner"), "Origin": origin})
        assert "access-control-allow-origin" not in simple.headers, origin

    simple = await cors_client.get(url, headers={**world.headers("owner"), "Origin": ALLOWED})
    assert simple.status_code == 200 and simple.headers["access-control-allow-origin"] == ALLOWED


async def test_no_cors_at_all_by_default(world: World) -> None:
    url = f"/api/v1/projects/{world.id_of('p1')}/sites"
    r = await world.client.options(url, headers=_preflight(ALLOWED))
    assert "access-control-allow-origin" not in r.headers
    r = await world.client.get(url, headers={**world.headers("owner"), "Origin": ALLOWED})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text} {record.args!r}")


@pytest.fixture
def every_log_line() -> Iterator[list[str]]:
    handler = _Everything()
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in list(logging.root.manager.loggerDict))]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield handler.lines
    for lg, level in saved:
        lg.removeHandler(handler)
        lg.setLevel(level)


async def test_secrets_never_reach_the_logs_or_the_answers(world: World, every_log_line: list[str]) -> None:
    client = world.client
    username = world.users["owner"].username
    wrong = "Wrong-Password-4711-zz"
    answers: list[httpx.Response] = []
    good = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD, "device_id": "logs"}
    )
    assert good.status_code == 200
    tokens = good.json()
    answers.append(
        await client.post("/api/v1/auth/login", json={"username": username, "password": wrong, "device_id": "x"})
    )
    answers.append(await client.post("/api/v1/auth/login", json={"username": username, "password": [wrong]}))
    answers.append(await client.post("/api/v1/auth/login", content=b'{"username": "a", "password": "' + wrong.encode()))
    answers.append(
        await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"] + "x", "device_id": "y"}
        )
    )
    answers.append(await client.get("/api/v1/projects", headers={"Authorization": f"Bearer {tokens['access_token']}x"}))
    answers.append(
        await client.post(
            "/api/v1/webhooks", headers=world.headers("owner"), json={"url": "http://169.254.169.254/latest/meta-data/"}
        )
    )
    hook = await client.post(
        "/api/v1/webhooks", headers=world.headers("owner"), json={"url": "https://hooks.example.cn/site"}
    )
    secret = hook.json().get("secret", "")
    weak = "abc"
    answers.append(
        await client.post(
            "/api/v1/users",
            headers=world.headers("admin"),
            json={
                "username": "weak-pw",
                "display_name": "弱",
                "password": weak,
                "organisation_id": str(world.orgs["owner"].id),
            },
        )
    )
    for r in answers:
        assert r.status_code >= 400, r.text
    secrets = {
        "password": PASSWORD,
        "wrong password": wrong,
        "access token": tokens["access_token"],
        "refresh token": tokens["refresh_token"],
        "signing key": get_settings().security.secret_key,
    }
    if secret:
        secrets["webhook secret"] = secret
    logged = "\n".join(every_log_line)
    assert every_log_line, "nothing was logged: the test would prove nothing"
    for name, value in secrets.items():
        assert value not in logged, f"the {name} was logged"
        for r in answers:
            assert value not in r.text, f"the {name} was echoed in {r.request.url.path}"
    assert f'"{weak}"' not in answers[-1].text
