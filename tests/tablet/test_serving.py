"""How the server serves the tablet app at /tablet/: hashed assets kept for good, the page and the
service worker always revalidated (or a tablet keeps an old version), the worker's scope, gzip
copies, a same-origin Content-Security-Policy, nothing outside the built folder, and a page that
says how to build the app when it is missing."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest

from inspection.clock import FixedClock
from inspection.settings import get_settings


def built(root: Path) -> Path:
    (root / "assets").mkdir(parents=True)
    files = {
        "index.html": b'<!doctype html><script type="module" src="assets/app-ABC123.js"></script>',
        "sw.js": b"self.addEventListener('fetch', () => {});",
        "manifest.webmanifest": b'{"name": "x"}',
        "assets/app-ABC123.js": b"console.log('app');" * 50,
        "assets/app-ABC123.css": b"body{}",
    }
    for name, body in files.items():
        (root / name).write_bytes(body)
    (root / "assets/app-ABC123.js.gz").write_bytes(gzip.compress(files["assets/app-ABC123.js"]))
    return root


@pytest.fixture
async def serve(tmp_path: Path, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    from api.app import create_app

    settings = get_settings()
    settings = msgspec.structs.replace(
        settings, tablet=msgspec.structs.replace(settings.tablet, dist_dir=str(built(tmp_path / "dist")))
    )
    app = create_app(settings, clock, check_migrations=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_caching_scope_and_security_headers(serve: httpx.AsyncClient) -> None:
    r = await serve.get("/tablet", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/tablet/"
    page = await serve.get("/tablet/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "worker-src 'self'" in csp
    assert "cdn" not in csp and "*" not in csp.replace("*.amazonaws.com", "")
    assert page.headers["x-frame-options"] == "DENY"
    again = await serve.get("/tablet/", headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304

    worker = await serve.get("/tablet/sw.js")
    assert worker.headers["cache-control"] == "no-cache"
    assert worker.headers["service-worker-allowed"] == "/tablet/"
    assert worker.headers["content-type"].startswith("text/javascript")

    asset = await serve.get("/tablet/assets/app-ABC123.css")
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    manifest = await serve.get("/tablet/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")


async def test_gzip_copies_for_browsers_that_take_them(serve: httpx.AsyncClient) -> None:
    packed = await serve.get("/tablet/assets/app-ABC123.js", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.text == "console.log('app');" * 50  # httpx unpacks it
    assert packed.headers["vary"] == "Accept-Encoding"
    plain = await serve.get("/tablet/assets/app-ABC123.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == packed.text
    assert (await serve.get("/tablet/assets/app-ABC123.js.gz")).status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/tablet/nothing.js", "/tablet/.hidden", "/tablet/%2e%2e/config.toml", "/tablet/assets/../../config.toml"],
)
async def test_nothing_outside_the_built_app(serve: httpx.AsyncClient, path: str) -> None:
    r = await serve.get(path)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


async def test_a_server_without_the_built_app_says_how_to_build_it(tmp_path: Path, clock: FixedClock) -> None:
    from api.app import create_app

    settings = get_settings()
    settings = msgspec.structs.replace(
        settings, tablet=msgspec.structs.replace(settings.tablet, dist_dir=str(tmp_path / "missing"))
    )
    transport = httpx.ASGITransport(app=create_app(settings, clock, check_migrations=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.get("/tablet/")
    assert r.status_code == 503 and "make tablet" in r.text and "平板应用尚未构建" in r.text
