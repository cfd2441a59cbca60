"""The tablet's browser tests' server and browser: a real uvicorn process on 127.0.0.1 with its own
database (migrated and seeded before it starts) serving a copy of the built app (`make tablet`),
and Debian's Chromium driven by Playwright, with a fresh or a kept profile per tablet."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, Playwright, async_playwright, expect

from inspection.settings import get_settings, secret_key
from inspection.signing import sign, unsign
from inspection.tools.devserver import NOW_VARIABLE, DevServer
from tests.factories import PASSWORD
from tests.portal.conftest import CHROMIUM, _admin_sql, _server_database

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "tablet" / "dist"
ENGINE = "sqlite" if os.environ["SITEINSPECT_DATABASE_URL"].startswith("sqlite") else "postgres"
SCREENSHOTS = Path(os.environ.get("SITEINSPECT_SCREENSHOTS") or ROOT / "var" / "screenshots" / ENGINE) / "tablet"
TABLET = {"width": 1280, "height": 800}
TABLET_SMALL = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}


@dataclass
class TabletServer:
    url: str
    data: dict[str, Any]
    dist: Path
    log: Path
    tmp: Path
    profiles: list[Path] = field(default_factory=list)

    def api(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30)

    async def login(self, username: str, device_id: str) -> dict[str, str]:
        async with self.api() as http:
            r = await http.post(
                "/api/v1/auth/login", json={"username": username, "password": PASSWORD, "device_id": device_id}
            )
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(scope="session")
def tablet_server() -> Iterator[TabletServer]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; run scripts/install-system-deps.sh (Debian package chromium)")
    if not (DIST / "index.html").exists():
        pytest.fail("the tablet app is not built: run `make tablet` (npm ci and esbuild in tablet/)")
    tmp = Path(tempfile.mkdtemp(prefix="siteinspect-tablet-"))
    dist = tmp / "dist"
    shutil.copytree(DIST, dist)
    url, pg_name = _server_database(tmp)
    env = {
        "SITEINSPECT_DATABASE_URL": url,
        "SITEINSPECT_STORAGE_DISK_ROOT": str(tmp / "evidence"),
        "SITEINSPECT_LOGGING_FORMAT": "text",
        "SITEINSPECT_TABLET_DIST_DIR": str(dist),
        "SITEINSPECT_SECURITY_LOGIN_MAX_FAILURES": "1000",
        # the seed, the browser and the tokens the tests forge all go by the wall clock
        NOW_VARIABLE: "",
    }
    server = DevServer(env, log=tmp / "server.log", log_level="info", access_log=True)
    python = sys.executable
    subprocess.run(
        [python, "-m", "inspection.cli", "migrate"], env=server.env, cwd=ROOT, check=True, capture_output=True
    )
    seeded = subprocess.run(
        [python, "-m", "tests.tablet.seed"], env=server.env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    data = json.loads(seeded.stdout.strip().splitlines()[-1])
    try:
        server.start()
        yield TabletServer(url=server.url, data=data, dist=dist, log=tmp / "server.log", tmp=tmp)
    finally:
        server.stop()
        if pg_name:
            asyncio.run(_admin_sql(os.environ["SITEINSPECT_TEST_PG_ADMIN_URL"], f'DROP DATABASE IF EXISTS "{pg_name}"'))
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
async def pw() -> AsyncIterator[Playwright]:
    async with async_playwright() as p:
        yield p


class Tablets:
    """Tablets for one test: each a Chromium profile of its own that survives closing the browser."""

    def __init__(self, pw: Playwright, server: TabletServer, tmp: Path) -> None:
        self.pw = pw
        self.server = server
        self.tmp = tmp
        self.open: list[BrowserContext] = []

    def profile(self, name: str) -> Path:
        return self.tmp / f"profile-{name}"

    async def launch(
        self, name: str, viewport: dict[str, int] = TABLET, base_url: str | None = None, **kw: Any
    ) -> BrowserContext:
        ctx = await self.pw.chromium.launch_persistent_context(
            str(self.profile(name)),
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox"],
            base_url=base_url or self.server.url,
            viewport=viewport,  # type: ignore[arg-type]
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            has_touch=True,
            **kw,
        )
        ctx.set_default_timeout(15_000)
        self.open.append(ctx)
        return ctx

    async def close(self, ctx: BrowserContext) -> None:
        await ctx.close()
        self.open.remove(ctx)

    async def close_all(self) -> None:
        for ctx in list(self.open):
            await ctx.close()
        self.open.clear()


@pytest.fixture
async def tablets(pw: Playwright, tablet_server: TabletServer, tmp_path: Path) -> AsyncIterator[Tablets]:
    t = Tablets(pw, tablet_server, tmp_path)
    yield t
    await t.close_all()


async def open_app(ctx: BrowserContext) -> Page:
    page = ctx.pages[0] if ctx.pages else await ctx.new_page()
    await page.goto("/tablet/")
    return page


async def sign_in(page: Page, username: str) -> None:
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_test_id("statusbar")).to_be_visible()


async def synced(page: Page, timeout: float = 30_000) -> None:
    """Sync now and wait until it is done with nothing left to send."""
    await wait_sync(page, timeout)
    await page.evaluate("() => siteinspect.tablet.syncNow()")
    await wait_sync(page, timeout)


async def wait_sync(page: Page, timeout: float = 30_000) -> None:
    await page.wait_for_function(
        "() => siteinspect.tablet.user && !siteinspect.tablet.status.syncing && !siteinspect.tablet.running",
        timeout=timeout,
    )


async def outbox(page: Page) -> list[dict[str, Any]]:
    return await page.evaluate(  # type: ignore[no-any-return]
        "() => siteinspect.store.outbox(siteinspect.tablet.user)"
    )


async def expire_access_token(page: Page) -> str:
    """Age the tablet's access token past its expiry, as its 15 minutes running out would: the
    same token signed again with the server's key (tests and server share it) and an expiry in the
    past. Returns it; the server answers it 401 "expired"."""
    token = await page.evaluate("() => siteinspect.store.meta(siteinspect.tablet.user, 'access_token')")
    key = secret_key(get_settings())
    payload = unsign(token, key, "access")
    assert payload is not None
    expired = sign({**payload, "exp": int(time.time()) - 1}, key, "access")
    await page.evaluate(
        "(t) => siteinspect.store.setMeta(siteinspect.tablet.user, 'access_token', t)",
        expired,
    )
    return expired


async def shot(page: Page, name: str) -> None:
    """The screen as it is now at tablet and phone width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    was = page.viewport_size
    for size in (TABLET, PHONE):
        await page.set_viewport_size(size)  # type: ignore[arg-type]
        await page.evaluate("window.scrollTo(0, 0)")  # sticky bars stay at the top of a full-page shot
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{size['width']}.png"), full_page=True)
    if was:
        await page.set_viewport_size(was)


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 in front of the server that can cut the connection half-way through
    the body of photo uploads (PUT /api/v1/evidence/…): the server gets part of the photo and then
    nothing, the tablet gets a reset connection, as when the signal drops mid-upload."""

    def __init__(self, upstream: str) -> None:
        parts = upstream.rsplit(":", 1)
        self.upstream_port = int(parts[1])
        self.cuts = 0
        self.cut_done = 0
        self.server: asyncio.base_events.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> CuttingProxy:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def answers() -> None:
            try:
                while chunk := await up_reader.read(65536):
                    writer.write(chunk)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        back = asyncio.create_task(answers())
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                found = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                length = int(found.group(1)) if found else 0
                upload = head.startswith(b"PUT ") and b" /api/v1/evidence/" in head.split(b"\r\n", 1)[0]
                if upload and self.cuts > 0:
                    self.cuts -= 1
                    self.cut_done += 1
                    up_writer.write(head + await reader.readexactly(length // 2))
                    await up_writer.drain()
                    break
                up_writer.write(head)
                while length > 0:
                    chunk = await reader.read(min(length, 65536))
                    if not chunk:
                        raise ConnectionError("the browser closed the connection")
                    up_writer.write(chunk)
                    length -= len(chunk)
                await up_writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
            pass
        finally:
            up_writer.close()
            writer.close()
            back.cancel()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"tablet screenshots: {SCREENSHOTS}")
