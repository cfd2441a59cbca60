"""Pure evidence rules, table-driven and without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inspection.evidence import rules
from inspection.evidence.rules import Kind

SHA = "ab" + "cd" + "0" * 60


def test_keys_fan_out_by_the_first_bytes_of_the_hash() -> None:
    assert rules.object_key(SHA) == f"objects/ab/cd/{SHA}"
    assert rules.thumbnail_key(SHA, 320) == f"objects/ab/cd/{SHA}.320.jpg"
    for bad in ("../../etc/passwd", SHA.upper(), SHA[:-1], SHA + "0", ""):
        with pytest.raises(ValueError):
            rules.object_key(bad)
    with pytest.raises(ValueError):
        rules.thumbnail_key(SHA, 640)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", Kind.jpeg),  # JFIF APP0
        (b"\xff\xd8\xff\xe1\x00\x10Exif", Kind.jpeg),  # EXIF APP1, as phones write
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", Kind.png),  # PNG signature (ISO/IEC 15948 §5.2)
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", Kind.pdf),  # ISO 32000 §7.5.2 header
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", Kind.heic),  # iPhone HEIC
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1heicmiaf", Kind.heic),  # generic brand first
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", Kind.avif),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42", None),  # an MP4 video
        (b"GIF89a\x01\x00\x01\x00", None),
        (b"this is text named photo.jpg", None),
        (b"", None),
    ],
)
def test_sniff_by_content(head: bytes, kind: Kind | None) -> None:
    assert rules.sniff(head) == kind


@pytest.mark.parametrize(
    ("width", "height", "ok"),
    [
        (4000, 3000, True),  # 12 MP, a phone's default
        (10_000, 10_000, True),  # exactly MAX_PIXELS
        (10_000, 10_001, False),
        (30_000, 10, True),  # a long panorama
        (30_001, 10, False),
        (0, 100, False),
    ],
)
def test_dimension_limits(width: int, height: int, ok: bool) -> None:
    assert (rules.dimension_problem(width, height) is None) is ok


@pytest.mark.parametrize(
    ("text", "offset", "expected"),
    [
        ("2026:05:01 10:20:30", "+08:00", datetime(2026, 5, 1, 2, 20, 30, tzinfo=UTC)),
        ("2026:05:01 10:20:30", "-05:30", datetime(2026, 5, 1, 15, 50, 30, tzinfo=UTC)),
        ("2026:05:01 10:20:30", None, datetime(2026, 5, 1, 2, 20, 30, tzinfo=UTC)),  # taken as UTC+8
        ("2026:05:01 10:20:30\x00", "+08:00\x00", datetime(2026, 5, 1, 2, 20, 30, tzinfo=UTC)),
        ("0000:00:00 00:00:00", None, None),  # a camera whose clock was never set
        ("", None, None),
        (None, "+08:00", None),
        ("2026:05:01 10:20:30", "garbage", datetime(2026, 5, 1, 2, 20, 30, tzinfo=UTC)),
    ],
)
def test_exif_capture_time(text: str | None, offset: str | None, expected: datetime | None) -> None:
    assert rules.exif_time(text, offset) == expected


@pytest.mark.parametrize(
    ("dms", "ref", "expected"),
    [
        ((31.0, 14.0, 2.4), "N", 31.234),  # 31°14'2.4" N: 31 + 14/60 + 2.4/3600
        ((121.0, 28.0, 30.0), "E", 121.475),
        ((33.0, 52.0, 0.0), "S", -33.8666667),
        ((0.0, 30.0, 0.0), "W", -0.5),
        ((31.0, 14.0), "N", None),
        (None, "N", None),
        ((31.0, 14.0, 2.4), None, None),
        ((float("nan"), 0.0, 0.0), "N", None),
    ],
)
def test_gps_degrees(dms: tuple[float, ...] | None, ref: str | None, expected: float | None) -> None:
    got = rules.gps_degrees(dms, ref)
    assert got == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        (31.2, 121.4, (31.2, 121.4)),
        (0.0, 0.0, None),  # no fix
        (91.0, 10.0, None),
        (31.2, None, None),
    ],
)
def test_gps_position(lat: float | None, lon: float | None, expected: tuple[float, float] | None) -> None:
    assert rules.gps_position(lat, lon) == expected


def test_pdf_must_end_with_its_marker() -> None:
    assert rules.pdf_complete(b"...trailer\n%%EOF\n")
    assert rules.pdf_complete(b"...%%EOF")
    assert not rules.pdf_complete(b"%PDF-1.4 ... stream cut off here")
