"""Pure rules for evidence: object keys, file types by their first bytes, image size limits and
EXIF value conversion. No I/O here; images.py and store.py apply them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

from inspection.messages import Message, t

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

# Thumbnails are made once, at these longest sides (pixels), and stored beside the original.
THUMBNAIL_SIDES: tuple[int, ...] = (1280, 320)
THUMBNAIL_QUALITY = 82

# Phones write 12-50 MP by default; only special full-resolution modes go beyond 100 MP. Decoding
# 100 MP costs about 300 MB, so anything larger is refused rather than risked: a decompression
# bomb looks exactly like it.
MAX_PIXELS = 100_000_000
MAX_SIDE = 30_000

# China keeps one time zone (UTC+8, no daylight saving); a camera that writes no offset is taken
# to be on it.
DEFAULT_CAMERA_OFFSET = timezone(timedelta(hours=8))


class Kind(StrEnum):
    """What the first bytes say a file is. The value is the content type stored and served."""

    jpeg = "image/jpeg"
    png = "image/png"
    heic = "image/heic"
    avif = "image/avif"
    pdf = "application/pdf"

    @property
    def is_image(self) -> bool:
        return self is not Kind.pdf


# HEIF-family brands in an ISO-BMFF `ftyp` box (ISO/IEC 23008-12 Annex B, AV1 Image File Format).
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_AVIF_BRANDS = {b"avif", b"avis"}
_GENERIC_HEIF_BRANDS = {b"mif1", b"msf1"}


_EXTENSIONS = {Kind.jpeg: "jpg", Kind.png: "png", Kind.heic: "heic", Kind.avif: "avif", Kind.pdf: "pdf"}
# Shown in the browser: images only, which cannot run script. Everything else (a PDF may carry
# JavaScript in its /OpenAction) is handed to the browser as a download, never rendered on the
# API's origin.
INLINE_TYPES = frozenset(k.value for k in Kind if k.is_image)


def content_disposition(sha256: str, content_type: str) -> str:
    """`Content-Disposition` of evidence served with `content_type`: inline for images,
    attachment for anything else. The name is made from the hash, never from what a user typed."""
    try:
        extension = _EXTENSIONS[Kind(content_type)]
    except ValueError:
        extension = "bin"
    how = "inline" if content_type in INLINE_TYPES else "attachment"
    return f'{how}; filename="{sha256[:16]}.{extension}"'


def object_key(sha256: str) -> str:
    """Where the original lives: objects/ab/cd/<sha256>. Two levels of fan-out keep directories
    small on disk and key prefixes spread on S3."""
    if not SHA256_RE.match(sha256):
        raise ValueError("an object key needs a lower-case hexadecimal SHA-256")
    return f"objects/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def upload_key(evidence_id: object) -> str:
    """Where a presigned upload for one filing lands: its own key, outside objects/, read back and
    verified by the server before the bytes are put under their hash (EvidenceService.complete)."""
    return f"uploads/{evidence_id}"


def thumbnail_key(sha256: str, side: int) -> str:
    if side not in THUMBNAIL_SIDES:
        raise ValueError(f"no thumbnail of {side} px is made")
    return f"{object_key(sha256)}.{side}.jpg"


def sniff(head: bytes) -> Kind | None:
    """The kind of file from its first bytes (at least 32), never from its name."""
    if head.startswith(b"\xff\xd8\xff"):
        return Kind.jpeg
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind.png
    if head.startswith(b"%PDF-"):
        return Kind.pdf
    if len(head) >= 16 and head[4:8] == b"ftyp":
        box_size = int.from_bytes(head[0:4], "big")
        brands = [head[8:12]]
        end = min(box_size, len(head))
        brands += [head[i : i + 4] for i in range(16, end - 3, 4)]
        if any(b in _AVIF_BRANDS for b in brands):
            return Kind.avif
        if any(b in _HEIC_BRANDS or b in _GENERIC_HEIF_BRANDS for b in brands):
            return Kind.heic
    return None


def pdf_complete(tail: bytes) -> bool:
    """A PDF ends with %%EOF (ISO 32000-1 §7.5.5), possibly followed by a line end; a cut-off upload
    does not."""
    return b"%%EOF" in tail[-1024:]


def dimension_problem(width: int, height: int) -> Message | None:
    if width < 1 or height < 1:
        return t("evidence.image_has_no_pixels")
    if width > MAX_SIDE or height > MAX_SIDE:
        return t("evidence.image_px_sides_above_px_refused", width=width, height=height, MAX_SIDE=MAX_SIDE)
    if width * height > MAX_PIXELS:
        return t("evidence.image_has_pixels_more_than_refused", value=width * height, MAX_PIXELS=MAX_PIXELS)
    return None


def exif_time(text: str | None, offset: str | None) -> datetime | None:
    """EXIF DateTimeOriginal ('YYYY:MM:DD HH:MM:SS') with OffsetTimeOriginal ('+08:00'), as UTC.
    Blank or zeroed values (cameras write '0000:00:00 00:00:00' when the clock was never set)
    give None."""
    if not text:
        return None
    text = text.strip().rstrip("\x00")
    try:
        local = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    tz: timezone = DEFAULT_CAMERA_OFFSET
    if offset:
        match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", offset.strip().rstrip("\x00"))
        if match:
            sign = 1 if match.group(1) == "+" else -1
            tz = timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
    return local.replace(tzinfo=tz).astimezone(UTC)


def gps_degrees(dms: tuple[float, ...] | None, ref: str | None) -> float | None:
    """EXIF GPS degrees, minutes, seconds and hemisphere ('N'/'S', 'E'/'W') as signed degrees."""
    if not dms or len(dms) != 3 or not ref:
        return None
    try:
        degrees = float(dms[0]) + float(dms[1]) / 60 + float(dms[2]) / 3600
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if degrees != degrees:  # NaN, from a 0/0 rational
        return None
    sign = -1 if ref.strip().upper()[:1] in ("S", "W") else 1
    return round(sign * degrees, 7)


def gps_position(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    """Both coordinates or neither; (0, 0) is what a phone without a fix writes, not a place."""
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:
        return None
    return lat, lon
