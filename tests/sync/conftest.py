"""The tablet fixture: reference clients over a switchable loopback transport to the app."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from inspection.sync.client import TabletClient
from tests.factories import PASSWORD, World


class FlakyTransport(httpx.AsyncBaseTransport):
    """Loopback to the app, with a switch for 'no signal' and one for 'the answer got lost'."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.offline = False
        self.lose_answers = 0
        self.fail_after_requests: int | None = None
        self.requests = 0
        self.cut_uploads = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.offline:
            raise httpx.ConnectError("no signal in the stairwell")
        self.requests += 1
        if self.fail_after_requests is not None and self.requests > self.fail_after_requests:
            raise httpx.ConnectError("signal lost")
        if self.cut_uploads and request.method == "PUT":
            # the signal drops half-way through a photo: the server gets part of the body, the
            # tablet gets no answer
            self.cut_uploads -= 1
            body = await request.aread()
            cut = httpx.Request(request.method, request.url, headers=request.headers, content=body[: len(body) // 2])
            cut.headers["content-length"] = str(len(body))
            await (await self.inner.handle_async_request(cut)).aread()
            raise httpx.WriteError("connection reset while sending the photo")
        response = await self.inner.handle_async_request(request)
        if self.lose_answers:
            self.lose_answers -= 1
            await response.aread()
            raise httpx.ReadTimeout("the answer never arrived")
        return response


Tablets = Callable[..., Any]


@pytest.fixture
async def tablets(app, world: World, tmp_path: Path, seeded: int) -> AsyncIterator[Tablets]:  # type: ignore[no-untyped-def]
    """`await tablets("inspector", **kw)`: a reference client signed in as that person, on the
    test's clock (the device's clock agrees with the server's unless `clock_offset` says not),
    with its retry jitter seeded from the test's seed."""
    made: list[tuple[TabletClient, httpx.AsyncClient]] = []

    async def make(who: str, *, device: str | None = None, **kw: Any) -> TabletClient:
        transport = FlakyTransport(httpx.ASGITransport(app=app, client=("127.0.0.1", 40000)))
        http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        kw.setdefault("rng", random.Random(seeded + len(made)))
        kw.setdefault("clock", app.state.services.clock)
        client = TabletClient(
            http, str(tmp_path / f"{who}-{len(made)}.sqlite3"), device or f"tab-{who}-{len(made)}", **kw
        )
        client.transport = transport  # type: ignore[attr-defined]
        await client.login(world.users[who].username, PASSWORD)
        made.append((client, http))
        return client

    yield make
    for client, http in made:
        client.close()
        await http.aclose()
