"""Reading PDFs back with poppler (pdftotext, pdffonts, pdftoppm, pdfimages), measuring ink,
making real photos that go through the evidence store so their thumbnails exist, and the reports,
settings and connections the render-limit tests drive a server process with."""

from __future__ import annotations

import hashlib
import io
import re
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from PIL import Image, ImageDraw

from inspection.actor import Actor
from inspection.clock import FixedClock
from inspection.reports import rules
from inspection.tools.devserver import HOST, DevServer
from tests.factories import PASSWORD, World
from tests.rectification.helpers import actor_of, create_body


def pdf_text(pdf: bytes, first: int | None = None, last: int | None = None) -> str:
    args = ["pdftotext", "-enc", "UTF-8"]
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    done = subprocess.run([*args, "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def squeeze(text: str) -> str:
    """Text without white space: layout spacing (letter-spacing, column gaps) is not content."""
    return re.sub(r"\s+", "", text)


def page_count(pdf: bytes) -> int:
    done = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)
    match = re.search(r"^Pages:\s+(\d+)", done.stdout.decode(), re.M)
    assert match, done.stdout
    return int(match[1])


@dataclass(frozen=True)
class Font:
    name: str
    embedded: bool


def pdf_fonts(pdf: bytes) -> list[Font]:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        out = subprocess.run(["pdffonts", f.name], capture_output=True, check=True, text=True).stdout
    fonts = []
    for line in out.splitlines()[2:]:
        # name, type (may hold spaces), encoding, emb, sub, uni, object, generation
        parts = line.split()
        fonts.append(Font(name=parts[0], embedded=parts[-5] == "yes"))
    return fonts


def pdf_images(pdf: bytes) -> list[tuple[int, int]]:
    """(width, height) of every image embedded in the PDF."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        out = subprocess.run(["pdfimages", "-list", f.name], capture_output=True, check=True, text=True).stdout
    sizes = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        if parts[2] == "image":
            sizes.append((int(parts[3]), int(parts[4])))
    return sizes


@dataclass(frozen=True)
class Box:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


def word_boxes(pdf: bytes, page: int = 1) -> list[Box]:
    """Each word on a page with its box in points (pdftotext -bbox)."""
    done = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), "-", "-"], input=pdf, capture_output=True, check=True
    )
    boxes = []
    for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', done.stdout.decode()
    ):
        boxes.append(Box(m[5], float(m[1]), float(m[2]), float(m[3]), float(m[4])))
    return boxes


def page_png(pdf: bytes, page: int = 1, dpi: int = 150) -> Image.Image:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-f",
                str(page),
                "-l",
                str(page),
                "-r",
                str(dpi),
                "-gray",
                "-png",
                "-singlefile",
                str(source),
                str(Path(folder) / "page"),
            ],
            check=True,
        )
        return Image.open(Path(folder) / "page.png").convert("L")


def ink(image: Image.Image, box: Box, dpi: int = 150) -> int:
    """Dark pixels inside a word's box: how much of it was actually drawn."""
    scale = dpi / 72
    crop = image.crop((int(box.x0 * scale), int(box.y0 * scale), int(box.x1 * scale) + 1, int(box.y1 * scale) + 1))
    return crop.point(lambda v: 255 if v < 128 else 0).histogram()[255]


def jpeg(seed: int, size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A distinct photo-like JPEG per seed (Pillow)."""
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(img)
    for i in range(12):
        x = (seed * 131 + i * 97) % (size[0] - 120)
        y = (seed * 71 + i * 53) % (size[1] - 120)
        draw.rectangle((x, y, x + 110, y + 110), fill=((seed * 40 + i * 20) % 256, (i * 60) % 256, (seed * 90) % 256))
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def upload_photo(services: Any, actor: Actor, project_id: UUID, seed: int) -> str:
    """A photo stored through the evidence service: hashed, checked, thumbnails made."""
    data = jpeg(seed)
    digest = hashlib.sha256(data).hexdigest()
    await services.evidence.upload(actor, digest, _one(data), project_id=project_id, original_name=f"{seed}.jpg")
    return digest


# Report renders against a real server process (inspection/tools/devserver.py)

# The longest description the API accepts, as one word without a break opportunity: WeasyPrint
# lays each out for seconds (about 3 s on the development machine), so a week of a dozen such
# orders takes far longer to render than any limit the tests set. Data the API accepts as it is.
UNBREAKABLE = "a" * 5000
STARTED = r"report render started in worker (\d+)"


async def slow_weekly(world: World, clock: FixedClock, orders: int = 12) -> str:
    """The path of a weekly report that renders for a long time: this week's orders (by the wall
    clock, which the server process keeps), each described by UNBREAKABLE."""
    clock.set(datetime.now(UTC).replace(microsecond=0))
    inspector = actor_of(world, "inspector")
    for _ in range(orders):
        await world.services.rectification.create_order(
            inspector, create_body(world, issue=True, description=UNBREAKABLE)
        )
    week = rules.local_day(clock.now()).isoformat()
    return f"/api/v1/reports/projects/{world.id_of('p1')}/weekly.pdf?week={week}"


async def quick_notice(world: World) -> str:
    """The path of an ordinary report: the 整改通知单 of a short order (well under a second)."""
    detail = await world.services.rectification.create_order(
        actor_of(world, "inspector"), create_body(world, issue=True)
    )
    return f"/api/v1/reports/rectification/{detail.order.id}.pdf"


def render_env(*, workers: int, queue: int, timeout_s: float, **more: str) -> dict[str, str]:
    """A server's settings for these tests: its render pool, and DEBUG lines to wait on."""
    return {
        "SITEINSPECT_REPORTS_RENDER_WORKERS": str(workers),
        "SITEINSPECT_REPORTS_RENDER_QUEUE": str(queue),
        "SITEINSPECT_REPORTS_RENDER_TIMEOUT_S": str(timeout_s),
        "SITEINSPECT_LOGGING_LEVEL": "DEBUG",
        **more,
    }


async def bearer(http: httpx.AsyncClient, world: World, who: str) -> dict[str, str]:
    """Signed in at the server process itself (its own clock decides whether the token is valid)."""
    r = await http.post(
        "/api/v1/auth/login",
        json={"username": world.users[who].username, "password": PASSWORD, "device_id": f"render-test-{who}"},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def request_and_leave_open(server: DevServer, path: str, headers: dict[str, str]) -> socket.socket:
    """A GET sent on a raw connection, its answer never read: close the socket to leave."""
    sock = socket.create_connection((HOST, server.port))
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{server.port}", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def wait_until_gone(pid: int, timeout_s: float = 30) -> None:
    """Until process `pid` no longer exists (or is a zombie nobody has collected yet)."""
    deadline = time.monotonic() + timeout_s
    status = Path(f"/proc/{pid}/status")
    while time.monotonic() < deadline:
        try:
            if "State:\tZ" in status.read_text():
                return
        except (FileNotFoundError, ProcessLookupError):
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still runs after {timeout_s:g} s")
