"""A photo cut off in transit is refused even after a PDF report was rendered in the same process:
WeasyPrint turns Pillow's process-wide LOAD_TRUNCATED_IMAGES on when it is imported."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from inspection.errors import ValidationFailed
from inspection.evidence.images import inspect_file


def test_a_cut_off_photo_is_refused_after_weasyprint_was_imported(tmp_path: Path) -> None:
    import weasyprint  # noqa: F401 - importing it is what flips the switch

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True, "WeasyPrint no longer flips it: this test can go"
    buffer = io.BytesIO()
    Image.effect_noise((1600, 1200), 64).convert("RGB").save(buffer, "JPEG", quality=90)
    photo = tmp_path / "cut.jpg"
    photo.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ValidationFailed) as info:
        inspect_file(photo)
    assert info.value.field == "body"
