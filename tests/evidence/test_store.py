"""The store interface, the same tests on both backends: disk under a temporary folder, S3 on a
moto server on loopback."""

from __future__ import annotations

import base64
import hashlib

import httpx
import pytest

from inspection.evidence.rules import object_key, thumbnail_key
from inspection.evidence.store import DiskStore, ObjectMissing, ObjectStore
from tests.evidence.conftest import BACKENDS, sha, staging_files, stored_keys

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
    assert [k for k in stored_keys(store) if ".staging" in k] == [] and staging_files() == []
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
    url = await store.download_url(key, content_type="application/pdf", ttl_s=60, cache_control="private")
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
