"""Slow-loris clients against a real server: a body that stops arriving, or trickles in just fast
enough to dodge the idle limit, is answered 408 with a problem naming the body, the connection is
closed, and nothing of it is kept. An honest slow upload still gets through."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterator

import pytest

from inspection.devserver import DevServer
from inspection.evidence.tables import Evidence
from inspection.projects.tables import Site
from tests.evidence.conftest import jpeg
from tests.factories import World

IDLE_S = 1.0
TOTAL_S = 2.5


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    process = DevServer(
        env={
            "SITEINSPECT_SERVER_BODY_IDLE_TIMEOUT_S": str(IDLE_S),
            "SITEINSPECT_SERVER_BODY_TOTAL_TIMEOUT_S": str(TOTAL_S),
        }
    )
    process.start()
    yield process
    process.stop()


async def _send_slowly(
    server: DevServer, head: str, pieces: list[bytes], gap_s: float
) -> tuple[int, dict[str, object] | None, float, bool]:
    """Send the request head, then each piece after `gap_s`; return the status, the JSON body, the
    seconds until the answer and whether the server then closed the connection (at once)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    started = time.monotonic()
    writer.write(head.encode())
    await writer.drain()
    status_line = asyncio.ensure_future(reader.readline())
    for piece in pieces:
        done, _ = await asyncio.wait({status_line}, timeout=gap_s)
        if done:
            break
        writer.write(piece)
        await writer.drain()
    status = int((await asyncio.wait_for(status_line, timeout=TOTAL_S + 10)).split()[1])
    elapsed = time.monotonic() - started
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    closing = headers.get("connection") == "close"
    if closing:
        assert await asyncio.wait_for(reader.read(), timeout=2) == b"", "the server kept the connection open"
    writer.close()
    return status, (json.loads(body) if body.strip() else None), elapsed, closing


def _head(method: str, path: str, token: str, length: int, content_type: str) -> str:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    )


async def test_a_stalled_upload_is_cut_off(world: World, server: DevServer) -> None:
    photo = jpeg(640, 480, seed=1)
    sha = hashlib.sha256(photo).hexdigest()
    path = f"/api/v1/evidence/{sha}?project_id={world.id_of('p1')}"
    head = _head("PUT", path, world.tokens["owner"], len(photo), "image/jpeg")
    status, body, elapsed, closed = await _send_slowly(server, head, [photo[:1000]] + [b""] * 10, gap_s=0.1)
    assert status == 408, body
    assert body is not None and body["status"] == 408 and body["field"] == "body"
    assert IDLE_S <= elapsed < IDLE_S + 3, elapsed
    assert closed
    assert await Evidence.count().where(Evidence.sha256 == sha) == 0


async def test_a_trickled_upload_meets_the_total_limit(world: World, server: DevServer) -> None:
    photo = jpeg(640, 480, seed=2)
    sha = hashlib.sha256(photo).hexdigest()
    path = f"/api/v1/evidence/{sha}?project_id={world.id_of('p1')}"
    head = _head("PUT", path, world.tokens["owner"], len(photo), "image/jpeg")
    pieces = [photo[i : i + 50] for i in range(0, len(photo), 50)]
    status, body, elapsed, closed = await _send_slowly(server, head, pieces, gap_s=IDLE_S / 2)
    assert status == 408, body
    assert TOTAL_S <= elapsed < TOTAL_S + 3, elapsed
    assert closed
    assert await Evidence.count().where(Evidence.sha256 == sha) == 0


async def test_a_stalled_json_body_writes_nothing(world: World, server: DevServer) -> None:
    before = await Site.count()
    data = json.dumps({"name": "慢速小区", "address": "某路1号"}).encode()
    head = _head(
        "POST", f"/api/v1/projects/{world.id_of('p1')}/sites", world.tokens["owner"], len(data), "application/json"
    )
    status, body, _, closed = await _send_slowly(server, head, [data[:10]] + [b""] * 5, gap_s=0.3)
    assert status == 408, body
    assert body is not None and body["field"] == "body"
    assert closed
    assert await Site.count() == before


async def test_an_honest_slow_upload_gets_through(world: World, server: DevServer) -> None:
    photo = jpeg(320, 240, seed=3)
    sha = hashlib.sha256(photo).hexdigest()
    path = f"/api/v1/evidence/{sha}?project_id={world.id_of('p1')}"
    head = _head("PUT", path, world.tokens["owner"], len(photo), "image/jpeg")
    size = len(photo) // 4 + 1
    pieces = [photo[i : i + size] for i in range(0, len(photo), size)]
    status, body, _, _ = await _send_slowly(server, head, pieces, gap_s=IDLE_S / 3)
    assert status in (200, 201), body
    assert body is not None and body["status"] == "stored"
