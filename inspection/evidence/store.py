"""The object store for evidence bytes: one interface, a local-disk backend and an S3 backend.

Objects are keyed by the SHA-256 of their bytes (rules.object_key); the service hashes every
upload itself before anything is committed here, so a key always names the bytes it holds. Any
failure of the store surfaces as `Unavailable` (503 with Retry-After): the client keeps the photo
and tries again later.
"""

from __future__ import annotations

import base64
import logging
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anyio.to_thread

from inspection.errors import Unavailable
from inspection.messages import t
from inspection.settings import PROJECT_ROOT, Settings, StorageSettings

log = logging.getLogger("siteinspect.evidence.store")

CHUNK_BYTES = 1024 * 1024
RETRY_AFTER_S = 60
T = TypeVar("T")


class ObjectMissing(Exception):
    """The store answered, but holds no object under that key."""


@dataclass(frozen=True)
class DirectUpload:
    """Where and how a client sends the bytes itself (a presigned S3 PUT)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


class ObjectStore(Protocol):
    name: str

    async def check(self) -> str | None:
        """None when the store answers and can be written; otherwise what is wrong."""

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A path to spool an upload to before it is verified; removed on leaving, whatever happens."""
        yield Path()

    async def commit(self, key: str, staged: Path, *, content_type: str, sha256: str) -> None:
        """Store a staged, verified file under `key`."""

    async def put_bytes(self, key: str, data: bytes, *, content_type: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None: ...

    def chunks(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes in pieces of about CHUNK_BYTES; raises ObjectMissing."""

    async def download_url(
        self, key: str, *, content_type: str, ttl_s: int, cache_control: str, disposition: str
    ) -> str | None:
        """A short-lived URL the client may fetch directly, or None when the API must stream. The
        store answers it with these Content-Type, Cache-Control and Content-Disposition."""

    def direct_upload(self, key: str, *, sha256: str, content_type: str, size: int, ttl_s: int) -> DirectUpload | None:
        """A presigned PUT bound to the bytes' SHA-256, or None when uploads go through the API."""


def unavailable(what: str, exc: BaseException) -> Unavailable:
    log.warning("evidence store: %s failed: %s", what, exc)
    return Unavailable(
        t("evidence.evidence_store_not_answering_keep_photo", what=what),
        retry_after=RETRY_AFTER_S,
    )


def sha256_base64(sha256_hex: str) -> str:
    """S3 checksums are the base64 of the raw digest, not its hex."""
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")


class DiskStore:
    """Objects as files under one root. Writes go to a staging file on the same file system, are
    fsynced, then hard-linked into place: the link is atomic and fails if the name exists, so an
    object is never overwritten and never seen half-written."""

    name = "disk"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging_dir = root / ".staging"

    def path_of(self, key: str) -> Path:
        return self.root / key

    async def _io(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return await anyio.to_thread.run_sync(fn)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise unavailable(what, exc) from exc

    async def check(self) -> str | None:
        def probe() -> str | None:
            self.staging_dir.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK) or not os.access(self.staging_dir, os.W_OK):
                return f"{self.root} is not writable"
            return None

        try:
            return await anyio.to_thread.run_sync(probe)
        except OSError as exc:
            return f"cannot use {self.root}: {exc.strerror}"

    @contextmanager
    def staging(self) -> Iterator[Path]:
        try:
            self.staging_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise unavailable("staging", exc) from exc
        path = self.staging_dir / f"{uuid.uuid4().hex}.part"
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def _link_into_place(self, staged: Path, key: str) -> None:
        with staged.open("rb+") as f:
            os.fsync(f.fileno())
        final = self.path_of(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(staged, final)
        except FileExistsError:
            return  # the same key names the same bytes: already stored
        directory = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    async def commit(self, key: str, staged: Path, *, content_type: str, sha256: str) -> None:
        await self._io("write", lambda: self._link_into_place(staged, key))

    async def put_bytes(self, key: str, data: bytes, *, content_type: str) -> None:
        def write() -> None:
            staged.write_bytes(data)
            self._link_into_place(staged, key)

        with self.staging() as staged:
            await self._io("write", write)

    async def exists(self, key: str) -> bool:
        return await self._io("look-up", self.path_of(key).is_file)

    async def delete(self, key: str) -> None:
        await self._io("delete", lambda: self.path_of(key).unlink(missing_ok=True))

    async def chunks(self, key: str) -> AsyncIterator[bytes]:
        try:
            f = await self._io("read", lambda: self.path_of(key).open("rb"))
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        try:
            while chunk := await self._io("read", lambda: f.read(CHUNK_BYTES)):
                yield chunk
        finally:
            f.close()

    async def download_url(
        self, key: str, *, content_type: str, ttl_s: int, cache_control: str, disposition: str
    ) -> str | None:
        return None

    def direct_upload(self, key: str, *, sha256: str, content_type: str, size: int, ttl_s: int) -> DirectUpload | None:
        return None


class S3Store:
    """Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW) through boto3. boto3 blocks,
    so every call runs in a worker thread. S3 has no atomic rename; an object appears whole or not
    at all on PUT, and the server only ever PUTs bytes it has hashed itself. A pending object that
    came through a presigned URL is unverified and may be replaced by a verified upload."""

    name = "s3"

    def __init__(
        self,
        storage: StorageSettings,
        *,
        scratch: Path | None = None,
        connect_timeout_s: float = 3,
        read_timeout_s: float = 30,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = storage.s3_bucket
        # uploads in flight are spooled to local disk before they are verified and sent on
        self.scratch = scratch or Path(tempfile.gettempdir()) / "siteinspect-uploads"
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=storage.s3_endpoint_url or None,
            region_name=storage.s3_region,
            aws_access_key_id=storage.s3_access_key_id or None,
            aws_secret_access_key=storage.s3_secret_access_key or None,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if storage.s3_path_style else "virtual"},
                connect_timeout=connect_timeout_s,
                read_timeout=read_timeout_s,
                # a tablet retries later by itself; the API should answer 503 quickly, not hang
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        )

    async def _call(self, what: str, fn: Callable[[], T]) -> T:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await anyio.to_thread.run_sync(fn)
        except ClientError as exc:
            if _status(exc) == 404 or _code(exc) in ("NoSuchKey", "NotFound", "404"):
                raise ObjectMissing(what) from exc
            raise unavailable(what, exc) from exc
        except BotoCoreError as exc:
            raise unavailable(what, exc) from exc

    async def check(self) -> str | None:
        try:
            await self._call("head_bucket", lambda: self.client.head_bucket(Bucket=self.bucket))
        except ObjectMissing:
            return f"bucket {self.bucket} does not exist"
        except Unavailable as exc:
            cause = exc.__cause__
            return f"bucket {self.bucket} unreachable: {type(cause).__name__ if cause else exc.detail}"
        return None

    @contextmanager
    def staging(self) -> Iterator[Path]:
        try:
            self.scratch.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=self.scratch, suffix=".part")
            os.close(handle)
        except OSError as exc:
            raise unavailable("staging", exc) from exc
        path = Path(name)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    async def commit(self, key: str, staged: Path, *, content_type: str, sha256: str) -> None:
        def put() -> None:
            with staged.open("rb") as body:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentType=content_type,
                    ChecksumSHA256=sha256_base64(sha256),
                )

        await self._call("put_object", put)

    async def put_bytes(self, key: str, data: bytes, *, content_type: str) -> None:
        await self._call(
            "put_object",
            lambda: self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type),
        )

    async def exists(self, key: str) -> bool:
        try:
            await self._call("head_object", lambda: self.client.head_object(Bucket=self.bucket, Key=key))
        except ObjectMissing:
            return False
        return True

    async def delete(self, key: str) -> None:
        await self._call("delete_object", lambda: self.client.delete_object(Bucket=self.bucket, Key=key))

    async def chunks(self, key: str) -> AsyncIterator[bytes]:
        response = await self._call("get_object", lambda: self.client.get_object(Bucket=self.bucket, Key=key))
        body = response["Body"]
        try:
            while chunk := await self._call("get_object", lambda: body.read(CHUNK_BYTES)):
                yield chunk
        finally:
            body.close()

    async def download_url(
        self, key: str, *, content_type: str, ttl_s: int, cache_control: str, disposition: str
    ) -> str | None:
        # Signing is local: no request reaches the store here. The response-* parameters are part
        # of the signature, so the client cannot ask the store for another disposition.
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseCacheControl": cache_control,
                "ResponseContentDisposition": disposition,
            },
            ExpiresIn=ttl_s,
        )
        return url

    def direct_upload(self, key: str, *, sha256: str, content_type: str, size: int, ttl_s: int) -> DirectUpload | None:
        checksum = sha256_base64(sha256)
        # The checksum, type and length are signed headers: a real S3 refuses other bytes. Stores
        # that do not check (moto, some gateways) are caught later by the server's own hash.
        url: str = self.client.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ChecksumSHA256": checksum,
                "ContentType": content_type,
                "ContentLength": size,
            },
            ExpiresIn=ttl_s,
        )
        return DirectUpload(
            method="PUT",
            url=url,
            headers={"x-amz-checksum-sha256": checksum, "content-type": content_type},
        )


def _status(exc: Any) -> int | None:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def disk_root(settings: Settings) -> Path:
    root = Path(settings.storage.disk_root)
    return root if root.is_absolute() else PROJECT_ROOT / root


def build_store(settings: Settings) -> ObjectStore:
    if settings.storage.backend == "s3":
        return S3Store(settings.storage, scratch=disk_root(settings) / ".staging")
    return DiskStore(disk_root(settings))
