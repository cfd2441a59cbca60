"""The reports' layout, page by page: golden images of every report type, nothing outside the
page or its table cell, the signature block never alone on a page, and a verification QR code
that a real decoder reads at 150 dpi.

Golden images: each specimen (tests/reports/specimens.py) is rendered, its pages rasterised at
GOLDEN_DPI in grey, and compared with tests/reports/golden/<specimen>-<page>.png within a
tolerance (font rasterisers and WeasyPrint releases move a glyph edge here and there; a layout
change moves whole blocks). After an intended layout change, regenerate and review them:

    SITEINSPECT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/reports/test_layout.py

A failed comparison writes the page as rendered and a difference image to var/golden-diff/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops

from inspection.reports.render import make_fetcher, render_html
from inspection.settings import PROJECT_ROOT
from tests.reports.helpers import page_count, page_png, word_boxes
from tests.reports.specimens import SPECIMENS, Specimen

GOLDEN = Path(__file__).with_name("golden")
DIFFS = PROJECT_ROOT / "var" / "golden-diff"
GOLDEN_DPI = 36
# a pixel counts as changed when its grey differs by more than this; a page fails when more than
# CHANGED_SHARE of its pixels changed
PIXEL_TOLERANCE = 96
CHANGED_SHARE = 0.004
UPDATE = os.environ.get("SITEINSPECT_UPDATE_GOLDEN") == "1"
MM = 72 / 25.4  # points per millimetre
SLACK = 0.5  # points: rounding in the layout


@cache
def specimen(name: str) -> Specimen:
    return SPECIMENS[name]()


@cache
def rendered(name: str) -> bytes:
    return document(name).write_pdf()  # type: ignore[no-any-return]


@cache
def document(name: str):  # type: ignore[no-untyped-def]
    from weasyprint import HTML

    s = specimen(name)
    html = render_html(s.template, s.head(), s.context)
    base = (PROJECT_ROOT / "pdf_templates").as_uri() + "/"
    return HTML(string=html, base_url=base, url_fetcher=make_fetcher(s.thumbnails)).render()


NAMES = sorted(SPECIMENS)


@pytest.mark.parametrize("name", NAMES)
def test_pages_match_the_golden_images(name: str) -> None:
    pdf = rendered(name)
    pages = page_count(pdf)
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        for old in GOLDEN.glob(f"{name}-*.png"):
            old.unlink()
        for page in range(1, pages + 1):
            page_png(pdf, page, GOLDEN_DPI).save(GOLDEN / f"{name}-{page}.png", optimize=True)
        return
    expected = sorted(GOLDEN.glob(f"{name}-*.png"))
    assert expected, f"no golden images for {name}: run with SITEINSPECT_UPDATE_GOLDEN=1 and review them"
    assert pages == len(expected), f"{name}: {pages} pages, the golden images have {len(expected)}"
    for page in range(1, pages + 1):
        want = Image.open(GOLDEN / f"{name}-{page}.png").convert("L")
        got = page_png(pdf, page, GOLDEN_DPI)
        assert got.size == want.size, f"{name} page {page}: {got.size} against {want.size}"
        diff = ImageChops.difference(got, want)
        changed = sum(diff.point(lambda v: 255 if v > PIXEL_TOLERANCE else 0).histogram()[255:])
        share = changed / (got.width * got.height)
        if share > CHANGED_SHARE:
            DIFFS.mkdir(parents=True, exist_ok=True)
            got.save(DIFFS / f"{name}-{page}.png")
            diff.point(lambda v: 255 - v).save(DIFFS / f"{name}-{page}-diff.png")
        assert share <= CHANGED_SHARE, (
            f"{name} page {page}: {share:.2%} of the pixels changed (see {DIFFS}); "
            "if the change is intended, regenerate the golden images"
        )


def _boxes(box, parents=()) -> Iterator[tuple[object, tuple[object, ...]]]:  # type: ignore[no-untyped-def]
    yield box, parents
    for child in getattr(box, "children", []) or []:
        yield from _boxes(child, (*parents, box))


@pytest.mark.parametrize("name", NAMES)
def test_nothing_overflows_the_page_or_its_cell(name: str) -> None:
    """Every layout box of the content lies within the page's content area, and every line of
    text within its table cell (a header that does not fit its column overflows the cell, not the
    page)."""
    from weasyprint.formatting_structure import boxes

    problems = []
    for number, page in enumerate(document(name).pages, start=1):
        page_box = page._page_box
        left = page_box.content_box_x()
        right = left + page_box.width
        top = page_box.content_box_y()
        bottom = top + page_box.height
        root = next(c for c in page_box.children if not isinstance(c, boxes.MarginBox))
        for box, parents in _boxes(root):
            if not hasattr(box, "border_width") or box.width is None:
                continue
            x0, x1 = box.border_box_x(), box.border_box_x() + box.border_width()
            y0, y1 = box.border_box_y(), box.border_box_y() + box.border_height()
            what = f"page {number}: {type(box).__name__} {getattr(box, 'text', '')[:30]!r}"
            if x0 < left - SLACK or x1 > right + SLACK:
                problems.append(f"{what} spans x {x0:.1f}–{x1:.1f}, the page {left:.1f}–{right:.1f}")
            if isinstance(box, boxes.TextBox) and (y0 < top - SLACK or y1 > bottom + SLACK):
                problems.append(f"{what} spans y {y0:.1f}–{y1:.1f}, the page {top:.1f}–{bottom:.1f}")
            cell = next((p for p in reversed(parents) if isinstance(p, boxes.TableCellBox)), None)
            if isinstance(box, boxes.TextBox) and cell is not None:
                c0 = cell.border_box_x()
                c1 = c0 + cell.border_width()
                if x0 < c0 - SLACK or x1 > c1 + SLACK:
                    problems.append(f"{what} spans x {x0:.1f}–{x1:.1f}, its cell {c0:.1f}–{c1:.1f}")
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("name", NAMES)
def test_signatures_are_never_alone_on_a_page(name: str) -> None:
    """The page that holds the signature block holds some of the document's content too."""
    pdf = rendered(name)
    last = page_count(pdf)
    words = word_boxes(pdf, last)
    signature_y = min(w.y0 for w in words if "（签字）" in w.text or "（盖章）" in w.text)
    below_letterhead = 31 * MM  # the top margin holds the letterhead
    content = [w for w in words if below_letterhead < w.y0 < signature_y - 1]
    assert content, f"{name}: the signature block is alone on page {last}"


@pytest.mark.parametrize("name", NAMES)
def test_qr_code_decodes_at_150_dpi(name: str) -> None:
    """The verification QR code on page 1, read from a 150 dpi greyscale scan by zxing-cpp."""
    s = specimen(name)
    image = page_png(rendered(name), 1, 150)
    found = [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert found == [s.verify_url]


def test_the_qr_check_fails_on_a_cropped_code() -> None:
    """The decoder is real, and the check can fail: segno's SVG sized by width and height instead
    of a viewBox (as reports and the poster printed it) is cropped by the stylesheet and does not
    read."""
    import dataclasses
    import io

    import segno
    from markupsafe import Markup
    from weasyprint import HTML

    s = specimen("notice")
    buffer = io.BytesIO()
    segno.make(s.verify_url, error="m").save(buffer, kind="svg", scale=2, border=2, xmldecl=False, svgclass="qr")
    head = dataclasses.replace(s.head(), qr=Markup(buffer.getvalue().decode()))
    html = render_html(s.template, head, s.context)
    base = (PROJECT_ROOT / "pdf_templates").as_uri() + "/"
    pdf = HTML(string=html, base_url=base, url_fetcher=make_fetcher(s.thumbnails)).write_pdf()
    assert s.verify_url not in [r.text for r in zxingcpp.read_barcodes(page_png(pdf, 1, 150))]
