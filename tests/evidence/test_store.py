"""The store interface, the same tests on both backends: disk under a temporary folder, S3 on a
moto server on loopback."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from inspection.errors import TooLarge, Unavailable
from inspection.evidence.rules import object_key, thumbnail_key
from inspection.evidence.service import spool
from inspection.evidence.store import DiskStore, ObjectMissing, ObjectStore
from tests.evidence.conftest import BACKENDS, sha, stored_keys

both_backends = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


async def read_all(store: ObjectStore, key: str) -> bytes:
    return b"".join([c async for c in store.chunks(key)])


@both_backends
async def test_commit_read_delete(store: ObjectStore) -> None:
    data = b"\x89PNG" + bytes(range(256)) * 9000  # a little over 2 MiB: several chunks
    key = object_key(sha(data))
    assert await store.check() is None
    assert not await store.exists(key)
    with store.staging() as staged:
        staged.write_bytes(data)
        await store.commit(key, staged, content_type="image/png", sha256=sha(data))
    assert await store.exists(key)
    assert await read_all(store, key) == data
    await store.put_bytes(thumbnail_key(sha(data), 320), b"thumb", content_type="image/jpeg")
    assert await read_all(store, thumbnail_key(sha(data), 320)) == b"thumb"
    # the staging file is gone (others in the shared scratch folder belong to other uploads)
    assert [k for k in stored_keys(store) if ".staging" in k] == [] and not staged.exists()
    await store.delete(key)
    assert not await store.exists(key)
    with pytest.raises(ObjectMissing):
        await read_all(store, key)


@both_backends
async def test_staging_is_removed_whatever_happens(store: ObjectStore) -> None:
    with pytest.raises(RuntimeError), store.staging() as staged:
        staged.write_bytes(b"half an upload")
        raise RuntimeError("the client went away")
    assert not staged.exists()
    assert stored_keys(store) == []


@both_backends
async def test_direct_links(store: ObjectStore) -> None:
    data = b"%PDF-1.4\n%%EOF\n"
    key = object_key(sha(data))
    with store.staging() as staged:
        staged.write_bytes(data)
        await store.commit(key, staged, content_type="application/pdf", sha256=sha(data))
    url = await store.download_url(
        key, content_type="application/pdf", ttl_s=60, cache_control="private", disposition="attachment"
    )
    direct = store.direct_upload(key, sha256=sha(data), content_type="application/pdf", size=len(data), ttl_s=60)
    if isinstance(store, DiskStore):
        assert url is None and direct is None, "the disk backend streams through the API"
        return
    assert url is not None and direct is not None
    async with httpx.AsyncClient() as outside:
        got = await outside.get(url)
    assert got.content == data and got.headers["cache-control"] == "private"
    assert direct.headers["x-amz-checksum-sha256"]
    assert base64.b64decode(direct.headers["x-amz-checksum-sha256"]) == hashlib.sha256(data).digest()


@pytest.mark.parametrize("backend", ["disk"], indirect=True)
async def test_disk_never_overwrites(store: ObjectStore) -> None:
    assert isinstance(store, DiskStore)
    key = object_key(sha(b"first"))
    for content in (b"first", b"second"):
        with store.staging() as staged:
            staged.write_bytes(content)
            await store.commit(key, staged, content_type="application/octet-stream", sha256=sha(b"first"))
    assert store.path_of(key).read_bytes() == b"first"
    assert list(store.staging_dir.iterdir()) == []


async def test_spool_hashes_stops_at_the_limit_and_maps_disk_failures(tmp_path: Path) -> None:
    pulled = 0

    async def body(pieces: int) -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(pieces):
            pulled += 1
            yield b"a" * 300_000

    size, digest = await spool(body(10), tmp_path / "ok.part", limit=3_000_000)
    assert (size, digest) == (3_000_000, hashlib.sha256(b"a" * 3_000_000).hexdigest())
    assert (tmp_path / "ok.part").read_bytes() == b"a" * 3_000_000
    pulled = 0
    with pytest.raises(TooLarge):
        await spool(body(100), tmp_path / "big.part", limit=1_000_000)
    assert pulled == 4, "stopped at the first piece past the limit"
    with pytest.raises(Unavailable):
        await spool(body(1), tmp_path / "no-such-folder" / "x.part", limit=1_000_000)
