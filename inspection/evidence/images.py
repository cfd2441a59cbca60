"""Checking an uploaded file with Pillow: its type by magic bytes, that it decodes, its size, its
EXIF capture time and position, and its thumbnails. Blocking: call it in a worker thread."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pillow_heif
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from inspection.errors import UnsupportedMediaType, ValidationFailed
from inspection.evidence import rules
from inspection.evidence.rules import Kind
from inspection.messages import t

# Pillow warns between MAX_IMAGE_PIXELS and twice that, and raises above; we want a refusal at
# the limit itself, so the warning is turned into an error where images are opened.
Image.MAX_IMAGE_PIXELS = rules.MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False
# HEIC/HEIF, what iPhones, iPads and recent Huawei phones take by default: pillow-heif (libheif
# and libde265 in its wheel) as Pillow's HEIF opener. It applies the file's rotation while
# decoding and reports orientation 1, so thumbnails come out upright once, not twice.
pillow_heif.register_heif_opener()

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4
_ORIENTATION = 0x0112
_QUARTER_TURNS = {5, 6, 7, 8}  # EXIF orientations that swap width and height

# Pillow's format names that must be registered to read each kind.
_PILLOW_FORMAT = {Kind.jpeg: "JPEG", Kind.png: "PNG", Kind.heic: "HEIF", Kind.avif: "AVIF"}


@dataclass(frozen=True)
class Inspection:
    kind: Kind
    width: int | None = None
    height: int | None = None
    captured_at: datetime | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    thumbnails: dict[int, bytes] = field(default_factory=dict)


def readable_kinds() -> list[Kind]:
    """The kinds this server accepts: PDF always, images whose Pillow decoder is registered (HEIC
    through pillow-heif, a dependency; AVIF where Pillow itself reads it)."""
    Image.init()
    return [k for k in Kind if not k.is_image or _PILLOW_FORMAT[k] in Image.OPEN]


def inspect_file(path: Path) -> Inspection:
    """Everything about the file the server needs before it counts as evidence; refuses with a
    4xx domain error (naming the body) what it cannot accept."""
    # Set here, not only at import: WeasyPrint sets it True for the whole process when it is first
    # imported (weasyprint/images.py), and a truncated photo must never count as evidence.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with path.open("rb") as f:
        head = f.read(64)
        kind = rules.sniff(head)
        if kind is None:
            raise UnsupportedMediaType(t("evidence.file_not_jpeg_png_heic_pdf"), field="body")
        if kind not in readable_kinds():
            raise UnsupportedMediaType(
                t("evidence.files_cannot_read_server_send_jpeg", value=kind.value),
                field="body",
            )
        if kind is Kind.pdf:
            f.seek(max(0, path.stat().st_size - 1024))
            if not rules.pdf_complete(f.read()):
                raise ValidationFailed(t("evidence.pdf_has_no_end_file_marker"), field="body")
            return Inspection(kind=kind)
    return _inspect_image(path, kind)


def _open(path: Path) -> Any:
    return Image.open(path, formats=[_PILLOW_FORMAT[k] for k in readable_kinds() if k.is_image])


def _inspect_image(path: Path, kind: Kind) -> Inspection:
    # A process-wide Pillow switch that WeasyPrint turns on when it is imported (the first PDF
    # report): with it on, a photo cut off in transit decodes as if whole. Set back at every use.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with _open(path) as img:  # verify() checks structure and checksums, then the image is spent
                problem = rules.dimension_problem(*img.size)
                if problem:
                    raise ValidationFailed(problem, field="body")
                img.verify()
            with _open(path) as img:
                exif = img.getexif()
                captured_at, lat, lon = _exif_facts(exif)
                width, height = img.size
                if exif.get(_ORIENTATION) in _QUARTER_TURNS:  # stored as the photo is shown
                    width, height = height, width
                if kind is Kind.jpeg:
                    # Decode at the smallest DCT scale still larger than the biggest thumbnail:
                    # every byte of the scan is still decoded (a cut-off file still fails), at a
                    # fraction of the memory.
                    side = max(rules.THUMBNAIL_SIDES)
                    img.draft("RGB", (side, side))
                img.load()
                thumbnails = _thumbnails(img)
    except (ValidationFailed, UnsupportedMediaType):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationFailed(t("evidence.image_too_large_decode_safely", exc=exc), field="body") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ValidationFailed(
            t("evidence.image_does_not_decode_may_corrupt", value=kind.name.upper(), exc=exc), field="body"
        ) from exc
    return Inspection(
        kind=kind,
        width=width,
        height=height,
        captured_at=captured_at,
        gps_lat=lat,
        gps_lon=lon,
        thumbnails=thumbnails,
    )


def _exif_facts(exif: Image.Exif) -> tuple[datetime | None, float | None, float | None]:
    try:
        sub = exif.get_ifd(_EXIF_IFD)
        gps = exif.get_ifd(_GPS_IFD)
    except (KeyError, OSError, SyntaxError, ValueError):  # an unreadable EXIF block is not a bad photo
        return None, None, None
    captured_at = rules.exif_time(_text(sub.get(_DATETIME_ORIGINAL)), _text(sub.get(_OFFSET_TIME_ORIGINAL)))
    lat = rules.gps_degrees(_numbers(gps.get(_GPS_LAT)), _text(gps.get(_GPS_LAT_REF)))
    lon = rules.gps_degrees(_numbers(gps.get(_GPS_LON)), _text(gps.get(_GPS_LON_REF)))
    position = rules.gps_position(lat, lon)
    return captured_at, *(position or (None, None))


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value if isinstance(value, str) else None


def _numbers(value: Any) -> tuple[float, ...] | None:
    try:
        return tuple(float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _thumbnails(img: Image.Image) -> dict[int, bytes]:
    """JPEG thumbnails, turned upright by the EXIF orientation, largest first so each smaller one
    is made from the previous."""
    upright = ImageOps.exif_transpose(img)
    if upright.mode not in ("RGB", "L"):
        rgba = upright.convert("RGBA")
        upright = Image.new("RGB", rgba.size, (255, 255, 255))
        upright.paste(rgba, mask=rgba.getchannel("A"))
    out: dict[int, bytes] = {}
    current = upright
    for side in sorted(rules.THUMBNAIL_SIDES, reverse=True):
        current = current.copy()
        current.thumbnail((side, side), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        current.save(buffer, "JPEG", quality=rules.THUMBNAIL_QUALITY, optimize=True)
        out[side] = buffer.getvalue()
    return out
