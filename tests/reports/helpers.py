"""Reading PDFs back with poppler (pdftotext, pdffonts, pdftoppm, pdfimages), measuring ink, and
making real photos that go through the evidence store so their thumbnails exist."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from PIL import Image, ImageDraw

from inspection.actor import Actor


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
