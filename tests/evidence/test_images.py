"""Checking files with Pillow: real images made here, no database."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from inspection.errors import UnsupportedMediaType, ValidationFailed
from inspection.evidence.images import inspect_file, readable_kinds
from inspection.evidence.rules import Kind
from tests.evidence.conftest import camera_exif, heic, jpeg, pdf, png_bomb, png_with_alpha


def check(tmp_path: Path, data: bytes, name: str = "file.jpg"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(data)
    return inspect_file(path)


def test_exif_time_position_and_orientation(tmp_path: Path) -> None:
    found = check(tmp_path, jpeg(1600, 1200, exif=camera_exif(orientation=6)))
    assert found.kind is Kind.jpeg
    assert (found.width, found.height) == (1200, 1600)
    assert found.captured_at == datetime(2026, 5, 1, 2, 20, 30, tzinfo=UTC)
    assert (found.gps_lat, found.gps_lon) == (pytest.approx(31.234), pytest.approx(121.475))
    sizes = {side: Image.open(io.BytesIO(data)).size for side, data in found.thumbnails.items()}
    assert sizes == {1280: (960, 1280), 320: (240, 320)}


def test_small_photo_without_exif(tmp_path: Path) -> None:
    found = check(tmp_path, jpeg(200, 100))
    assert found.captured_at is None and found.gps_lat is None
    assert Image.open(io.BytesIO(found.thumbnails[1280])).size == (200, 100), "never enlarged"


def test_png_with_transparency_gets_a_white_background(tmp_path: Path) -> None:
    found = check(tmp_path, png_with_alpha(), "scan.png")
    assert found.kind is Kind.png
    thumb = Image.open(io.BytesIO(found.thumbnails[320]))
    assert thumb.mode == "RGB"


def test_pdf(tmp_path: Path) -> None:
    assert check(tmp_path, pdf(), "report.pdf").kind is Kind.pdf
    with pytest.raises(ValidationFailed):
        check(tmp_path, pdf()[:-8], "cut.pdf")


def test_iphone_heic(tmp_path: Path) -> None:
    """An iPhone photo (HEIC, held upright, with time and position): read through pillow-heif,
    its facts taken, its thumbnails JPEG and upright."""
    data = heic(1600, 1200, exif=camera_exif(orientation=6))
    assert data[4:12] == b"ftypheic"
    found = check(tmp_path, data, "IMG_0001.HEIC")
    assert found.kind is Kind.heic
    assert (found.width, found.height) == (1200, 1600)
    assert found.captured_at == datetime(2026, 5, 1, 2, 20, 30, tzinfo=UTC)
    assert (found.gps_lat, found.gps_lon) == (pytest.approx(31.234), pytest.approx(121.475))
    for side, thumb in found.thumbnails.items():
        assert thumb[:3] == b"\xff\xd8\xff"  # JPEG, for reports and browsers that cannot show HEIC
        assert Image.open(io.BytesIO(thumb)).size == {1280: (960, 1280), 320: (240, 320)}[side]


def test_cut_off_heic_is_refused(tmp_path: Path) -> None:
    data = heic(800, 600)
    with pytest.raises(ValidationFailed):
        check(tmp_path, data[: len(data) // 2], "cut.heic")


def test_heif_family(tmp_path: Path) -> None:
    # HEIC through pillow-heif (a dependency); AVIF (also HEIF-based) where Pillow reads it.
    Image.init()
    assert {Kind.jpeg, Kind.png, Kind.heic, Kind.pdf} <= set(readable_kinds())
    if "AVIF" not in Image.SAVE:
        return
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 120, 30)).save(buffer, "AVIF")
    found = check(tmp_path, buffer.getvalue(), "photo.avif")
    assert found.kind is Kind.avif and (found.width, found.height) == (640, 480)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"hello, I am text named IMG_0001.jpg\n" * 10, UnsupportedMediaType),
        (jpeg()[:3000], ValidationFailed),
        (png_bomb(), ValidationFailed),
        (png_bomb(12_000, 9_000), ValidationFailed),  # between the limit and twice it: Pillow only warns
        (png_bomb(31_000, 10), ValidationFailed),  # a side over the limit
    ],
    ids=["text", "truncated", "bomb", "just-over", "too-wide"],
)
def test_refusals(tmp_path: Path, data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        check(tmp_path, data)
    assert info.value.field == "body"  # type: ignore[attr-defined]


def test_a_truncated_photo_is_refused_after_a_report_was_rendered(tmp_path: Path) -> None:
    """WeasyPrint, when first imported (the first PDF report a server renders), tells Pillow to
    accept truncated images, for the whole process; found by running the suite in random order.
    An upload is checked the same way before and after."""
    import inspect

    import weasyprint.images
    from PIL import ImageFile

    assert "LOAD_TRUNCATED_IMAGES = True" in inspect.getsource(weasyprint.images), "drop the guard and this test"
    ImageFile.LOAD_TRUNCATED_IMAGES = True  # what that import did, whenever it happened in this process
    with pytest.raises(ValidationFailed) as info:
        check(tmp_path, jpeg()[:3000])
    assert info.value.field == "body"
