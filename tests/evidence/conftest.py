"""Evidence fixtures: a real S3 wire-protocol server (moto's standalone server) on loopback, the
two store backends behind one parametrised fixture, and sample files (good and bad)."""

from __future__ import annotations

import hashlib
import io
import logging
import socket
import struct
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from PIL import Image

from inspection.evidence.store import DiskStore, ObjectStore, S3Store
from inspection.settings import Settings, get_settings

BACKENDS = ["disk", "s3"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def s3_settings(endpoint: str, bucket: str) -> Settings:
    base = get_settings()
    storage = msgspec.structs.replace(
        base.storage,
        backend="s3",
        s3_endpoint_url=endpoint,
        s3_bucket=bucket,
        s3_access_key_id="test-key",
        s3_secret_access_key="test-secret",
        s3_path_style=True,
    )
    return msgspec.structs.replace(base, storage=storage)


def disk_settings(root: Path) -> Settings:
    base = get_settings()
    return msgspec.structs.replace(base, storage=msgspec.structs.replace(base.storage, disk_root=str(root)))


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """'disk' unless a module parametrises it (`indirect=True`) over both backends."""
    return getattr(request, "param", "disk")


@pytest.fixture
def store_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    if backend == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = f"evidence-{uuid.uuid4().hex[:12]}"
        settings = s3_settings(endpoint, bucket)
        S3Store(settings.storage).client.create_bucket(Bucket=bucket)
        return settings
    return disk_settings(tmp_path / "evidence")


@pytest.fixture
def app(clock, store_settings: Settings):  # type: ignore[no-untyped-def]
    """The shared `app` fixture, built on the backend under test."""
    from api.app import create_app

    return create_app(store_settings, clock, check_migrations=False)


@pytest.fixture
def store(app) -> ObjectStore:  # type: ignore[no-untyped-def]
    return app.state.services.evidence.store  # type: ignore[no-any-return]


def stored_keys(store: ObjectStore) -> list[str]:
    """Every object in the store, and (disk) every file left in its staging folder."""
    if isinstance(store, DiskStore):
        if not store.root.exists():
            return []
        return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())
    assert isinstance(store, S3Store)
    listed = store.client.list_objects_v2(Bucket=store.bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def staging_files(store: ObjectStore) -> list[Path]:
    """Uploads in flight: the disk store spools beside its objects, S3 to its scratch folder."""
    folder = store.staging_dir if isinstance(store, DiskStore) else store.scratch  # type: ignore[attr-defined]
    return list(folder.glob("*")) if folder.exists() else []


# Sample files


def jpeg(width: int = 1600, height: int = 1200, *, exif: Image.Exif | None = None, seed: int = 0) -> bytes:
    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    if seed:  # a block JPEG cannot smooth away: distinct bytes per seed
        x = (seed * 97) % max(1, width - 64)
        img.paste((255, (seed * 53) % 256, 0), (x, 0, x + 64, 64))
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=85, **({"exif": exif} if exif is not None else {}))
    return buffer.getvalue()


def heic(width: int = 1600, height: int = 1200, *, exif: Image.Exif | None = None, seed: int = 0) -> bytes:
    """A real HEIC (HEVC-coded HEIF, brand heic) as an iPhone writes it, encoded with the x265
    encoder in pillow-heif's wheel."""
    import pillow_heif

    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    if seed:
        x = (seed * 97) % max(1, width - 64)
        img.paste((255, (seed * 53) % 256, 0), (x, 0, x + 64, 64))
    buffer = io.BytesIO()
    # encoded through pillow-heif's own file object, without registering its opener in Pillow: the
    # app's image module must do that itself (scripts/guards.py takes it away to check)
    encoded = pillow_heif.from_pillow(img)
    encoded.save(buffer, quality=50, **({"exif": exif.tobytes()} if exif is not None else {}))
    return buffer.getvalue()


def camera_exif(orientation: int = 6) -> Image.Exif:
    """What a phone writes: taken 2026-05-01 10:20:30 at UTC+8, at 31°14'2.4"N 121°28'30"E, held upright
    (orientation 6: the sensor image must turn 90° clockwise)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2026:05:01 10:20:30"
    sub[0x9011] = "+08:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (31.0, 14.0, 2.4)
    gps[3], gps[4] = "E", (121.0, 28.0, 30.0)
    return exif


def png_with_alpha(width: int = 400, height: int = 300) -> bytes:
    img = Image.new("RGBA", (width, height), (30, 120, 200, 128))
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def pdf(pages_text: str = "检测报告") -> bytes:
    body = f"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% {pages_text}\n".encode()
    return body + b"trailer << /Root 1 0 R >>\n%%EOF\n"


def png_bomb(width: int = 40_000, height: int = 40_000) -> bytes:
    """A tiny PNG whose header claims a huge 1-bit image: opening it would mean decoding
    gigapixels. Its single IDAT holds a few rows only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + width // 8) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


@pytest.fixture
def photo() -> bytes:
    return jpeg(exif=camera_exif())


def auth(world: Any, who: str) -> dict[str, str]:
    return world.headers(who)  # type: ignore[no-any-return]
