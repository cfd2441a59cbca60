"""Bad uploads on both backends: each gets a 4xx problem naming what is wrong, and leaves no row,
no object and no staging file behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from inspection.evidence.tables import Evidence, EvidenceLink
from tests.evidence.conftest import BACKENDS, jpeg, png_bomb, sha, staging_files, stored_keys
from tests.factories import World

both_backends = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

URL = "/api/v1/evidence"
MiB = 1024 * 1024


class Left:
    """What a request may have left behind."""

    def __init__(self, store: Any) -> None:
        self.store = store

    async def snapshot(self) -> tuple[int, int, list[str], int]:
        return (
            await Evidence.count(),
            await EvidenceLink.count(),
            stored_keys(self.store),
            len(staging_files(self.store)),
        )


def assert_problem(r: httpx.Response, status: int, field: str | None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].startswith("urn:siteinspect:problem:") and body["detail"]
    if field is not None:
        assert body["field"] == field, body


async def send(world: World, path_sha: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return await world.client.put(
        f"{URL}/{path_sha}",
        content=body,
        params={"project_id": str(world.id_of("p1"))},
        headers={**world.headers("inspector"), **(headers or {})},
    )


def truncated_jpeg() -> bytes:
    whole = jpeg(seed=5)
    return whole[: len(whole) // 2]


def scrambled_jpeg() -> bytes:
    """A JPEG whose header is intact but whose scan is noise followed by no end marker."""
    whole = jpeg(seed=6)
    return whole[:700] + bytes(range(256)) * 40


CASES: list[tuple[str, Any, int, str]] = [
    # (name, body (bytes) or a (body, url sha) pair, status, field)
    ("text named .jpg", b"this is not a photo, only text in a file called IMG_0001.jpg\n" * 20, 415, "body"),
    ("truncated JPEG", truncated_jpeg(), 422, "body"),
    ("corrupt JPEG scan", scrambled_jpeg(), 422, "body"),
    ("decompression bomb", png_bomb(), 422, "body"),
    ("bomb just past the pixel limit", png_bomb(12_000, 9_000), 422, "body"),
    ("empty body", b"", 422, "body"),
    ("HEIC header, no image", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200, 422, "body"),
    ("wrong hash", (jpeg(seed=7), sha(b"other bytes")), 422, "sha256"),
]


@both_backends
async def test_bad_bodies_leave_nothing(world: World, store) -> None:  # type: ignore[no-untyped-def]
    # One test walks every case: building the world per case would cost more than the cases.
    left = Left(store)
    before = await left.snapshot()
    for name, body, status, field in CASES:
        data, url_sha = body if isinstance(body, tuple) else (body, sha(body))
        r = await send(world, url_sha, data)
        assert r.status_code == status, f"{name}: {r.text}"
        assert_problem(r, status, field)
        assert await left.snapshot() == before, name


@both_backends
async def test_truncated_body_is_refused(world: World, store) -> None:  # type: ignore[no-untyped-def]
    """The client said how long the body is and sent less (a dropped connection on site)."""
    data = jpeg(seed=8)
    left = Left(store)
    before = await left.snapshot()

    async def short() -> AsyncIterator[bytes]:
        yield data[: len(data) - 1000]

    r = await send(world, sha(data), short(), {"content-length": str(len(data))})
    assert_problem(r, 422, "body")
    assert "中断" in r.json()["detail"]
    assert await left.snapshot() == before


@both_backends
async def test_over_the_limit_is_stopped_while_streaming(world: World, store) -> None:  # type: ignore[no-untyped-def]
    limit = world.services.settings.storage.max_upload_bytes
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        chunk = b"\xff\xd8\xff" + b"\0" * (MiB - 3)
        while sent < 4 * limit:
            sent += len(chunk)
            yield chunk

    left = Left(store)
    before = await left.snapshot()
    r = await send(world, sha(b"x"), endless())  # no Content-Length: only streaming can catch it
    assert_problem(r, 413, "body")
    assert sent <= limit + 2 * MiB, f"read {sent:,} bytes of a body limited to {limit:,}"
    assert await left.snapshot() == before


@both_backends
async def test_announced_length_over_the_limit_is_refused_before_reading(world: World, store) -> None:  # type: ignore[no-untyped-def]
    limit = world.services.settings.storage.max_upload_bytes
    read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        read += 1
        yield b"\0" * 1024

    r = await send(world, sha(b"y"), body(), {"content-length": str(limit + 1)})
    assert_problem(r, 413, "body")
    assert read == 0, "not one byte of the body was read"
    assert await Evidence.count().where(Evidence.sha256 == sha(b"y")) == 0


PATHS = [
    ("..%2F..%2Fetc%2Fpasswd", 404),  # decoded into several path segments: no such route
    ("%2E%2E", 422),  # ".." sent encoded so the client does not normalise it away
    ("objects%2Fab%2Fcd", 404),
    ("ABCDEF" + "0" * 58, 422),  # upper case
    ("0" * 63, 422),
    ("0" * 63 + "g", 422),
]


@both_backends
async def test_path_like_and_malformed_keys(world: World, store) -> None:  # type: ignore[no-untyped-def]
    left = Left(store)
    before = await left.snapshot()
    for path, status in PATHS:
        for r in (
            await world.client.put(
                f"{URL}/{path}",
                content=b"%PDF-1.4\n%%EOF\n",
                params={"project_id": str(world.id_of("p1"))},
                headers=world.headers("inspector"),
            ),
            await world.get("inspector", f"{URL}/{path}"),
            await world.post("inspector", f"{URL}/{path}/complete"),
        ):
            assert r.status_code == status, f"{path}: {r.text}"
            assert_problem(r, status, "sha256" if status == 422 else None)
    assert await left.snapshot() == before


START_CASES: list[tuple[str, dict[str, Any], int, str]] = [
    ("bad sha256", {"sha256": "../../x"}, 400, "sha256"),
    ("text type", {"content_type": "text/plain"}, 415, "content_type"),
    ("GIF type", {"content_type": "image/gif"}, 415, "content_type"),
    ("too large", {"size": 10 * 1024**3}, 413, "size"),
    ("zero size", {"size": 0}, 400, "size"),
    ("unknown field", {"colour": "red"}, 400, "colour"),
]


@pytest.mark.parametrize("backend", ["disk"], indirect=True)
async def test_bad_announcements(world: World, store) -> None:  # type: ignore[no-untyped-def]
    """Announcing never touches the store, so one backend is enough."""
    left = Left(store)
    before = await left.snapshot()
    for name, change, status, field in START_CASES:
        body = {
            "sha256": sha(b"photo"),
            "project_id": str(world.id_of("p1")),
            "content_type": "image/jpeg",
            "size": 1000,
            **change,
        }
        r = await world.post("inspector", f"{URL}/uploads", body)
        assert r.status_code == status, f"{name}: {r.text}"
        assert_problem(r, status, field)
    assert await left.snapshot() == before
