"""Helpers for the portal tests: a browser-like client per person (its own cookie jar), the
CSRF token read from a page, photos, and orders in a given state."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
from PIL import Image

from tests.factories import PASSWORD
from tests.rectification.helpers import actor_of

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def jpeg(colour: tuple[int, int, int] = (200, 80, 40), size: tuple[int, int] = (640, 480)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def browser(app: Any, host: str = "127.0.0.1", scheme: str = "http") -> httpx.AsyncClient:
    """A client with its own cookies, as a separate browser would have."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    return httpx.AsyncClient(transport=transport, base_url=f"{scheme}://{host}")


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/portal/login")
    assert page.status_code == 200
    return await client.post(
        "/portal/login",
        data={"csrf_token": csrf_of(page.text), "username": username, "password": password, "next": "/portal/"},
    )


actor_from = actor_of  # one helper for every folder's tests
