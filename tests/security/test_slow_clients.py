"""Slow-loris clients against a real server: a body that stops arriving, or trickles in just fast
enough to dodge the idle limit, is answered 408 with a problem naming the body, the connection is
closed, and nothing of it is kept. An honest slow upload still gets through."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterator
from typing import NamedTuple

import pytest

from inspection.evidence.tables import Evidence
from inspection.projects.tables import Site
from inspection.tools.devserver import DevServer
from tests.evidence.conftest import jpeg
from tests.factories import World

# Two servers, each with one limit that can trip and one far out of reach, so a 408 says which limit
# cut the body off; the tests assert that it came, and not before its limit, never how soon after.
IDLE_S = 1.0
TOTAL_S = 2.5
FAR_S = 3600


def _server(idle_s: float, total_s: float) -> Iterator[DevServer]:
    process = DevServer(
        env={
            "SITEINSPECT_SERVER_BODY_IDLE_TIMEOUT_S": str(idle_s),
            "SITEINSPECT_SERVER_BODY_TOTAL_TIMEOUT_S": str(total_s),
        }
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    """Only the idle limit can trip."""
    yield from _server(IDLE_S, FAR_S)


@pytest.fixture(scope="module")
def total_server() -> Iterator[DevServer]:
    """Only the total limit can trip."""
    yield from _server(FAR_S, TOTAL_S)


class Sent(NamedTuple):
    status: int
    body: dict[str, object] | None
    elapsed: float  # seconds from the head to the answer
    closed: bool  # the server closed the connection after its answer
    pieces_sent: int  # of the pieces offered, how many went out before the answer came


async def _send_slowly(server: DevServer, head: str, pieces: list[bytes], gap_s: float) -> Sent:
    """Send the request head, then each piece after `gap_s`, stopping when the answer comes; then
    wait for the answer (two minutes at most: far beyond any limit here, only against a hang)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    started = time.monotonic()
    writer.write(head.encode())
    await writer.drain()
    status_line = asyncio.ensure_future(reader.readline())
    sent = 0
    for piece in pieces:
        done, _ = await asyncio.wait({status_line}, timeout=gap_s)
        if done:
            break
        writer.write(piece)
        await writer.drain()
        sent += 1
    status = int((await asyncio.wait_for(status_line, timeout=120)).split()[1])
    elapsed = time.monotonic() - started
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    closing = headers.get("connection") == "close"
    if closing:
        # the server closes at once; the time-out only keeps a regression from hanging the suite.
        # Closing with bytes of ours still unread makes the kernel reset the connection instead of
        # ending it: closed all the same.
        try:
            rest = await asyncio.wait_for(reader.read(), timeout=60)
        except ConnectionResetError:
            rest = b""
        assert rest == b"", "the server kept the connection open"
    writer.close()
    return Sent(status, (json.loads(body) if body.strip() else None), elapsed, closing, sent)


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
    # a first piece, then nothing: only the idle limit can end this
    sent = await _send_slowly(server, head, [photo[:1000]], gap_s=0)
    assert sent.status == 408, sent.body
    assert sent.body is not None and sent.body["status"] == 408 and sent.body["field"] == "body"
    assert sent.elapsed >= IDLE_S, "cut off before the idle limit"
    assert sent.closed
    assert await Evidence.count().where(Evidence.sha256 == sha) == 0


async def test_a_trickled_upload_meets_the_total_limit(world: World, total_server: DevServer) -> None:
    photo = jpeg(640, 480, seed=2)
    sha = hashlib.sha256(photo).hexdigest()
    path = f"/api/v1/evidence/{sha}?project_id={world.id_of('p1')}"
    head = _head("PUT", path, world.tokens["owner"], len(photo), "image/jpeg")
    pieces = [photo[i : i + 50] for i in range(0, len(photo), 50)]
    # a piece every 0.1 s: the whole photo would take far longer than the total limit
    assert len(pieces) * 0.1 > 4 * TOTAL_S
    sent = await _send_slowly(total_server, head, pieces, gap_s=0.1)
    assert sent.status == 408, sent.body
    assert sent.body is not None and sent.body["field"] == "body"
    assert sent.pieces_sent < len(pieces), "the server waited for the whole trickle"
    assert sent.elapsed >= TOTAL_S, "cut off before the total limit"
    assert sent.closed
    assert await Evidence.count().where(Evidence.sha256 == sha) == 0


async def test_a_stalled_json_body_writes_nothing(world: World, server: DevServer) -> None:
    p1 = world.id_of("p1")
    data = json.dumps({"name": "慢速小区", "address": "某路1号"}).encode()
    head = _head("POST", f"/api/v1/projects/{p1}/sites", world.tokens["owner"], len(data), "application/json")
    sent = await _send_slowly(server, head, [data[:10]], gap_s=0)
    assert sent.status == 408, sent.body
    assert sent.body is not None and sent.body["field"] == "body"
    assert sent.closed
    assert await Site.count().where(Site.name == "慢速小区") == 0


async def test_an_honest_slow_upload_gets_through(world: World, server: DevServer) -> None:
    photo = jpeg(320, 240, seed=3)
    sha = hashlib.sha256(photo).hexdigest()
    path = f"/api/v1/evidence/{sha}?project_id={world.id_of('p1')}"
    head = _head("PUT", path, world.tokens["owner"], len(photo), "image/jpeg")
    size = len(photo) // 4 + 1
    pieces = [photo[i : i + size] for i in range(0, len(photo), size)]
    # pauses of a tenth of the idle limit: a slow line, not a stalled one
    sent = await _send_slowly(server, head, pieces, gap_s=IDLE_S / 10)
    assert sent.status in (200, 201), sent.body
    assert sent.body is not None and sent.body["status"] == "stored"
    assert sent.pieces_sent == len(pieces)
