"""Steps the tablet's browser tests share: camera photos with EXIF, filling the roof lot, signing."""

from __future__ import annotations

import io
import re
from typing import Any

from PIL import Image
from playwright.async_api import Page, expect

ROOF_TITLE = "屋面卷材防水层检验批质量验收记录"


def camera_jpeg(
    colour: tuple[int, int, int] = (200, 80, 40),
    size: tuple[int, int] = (3264, 2448),
    taken: str = "2026:11:24 09:31:05",
    gps: tuple[float, float] | None = (31.2304, 121.4737),
) -> bytes:
    """A photo as a tablet camera writes it: 8 MP, EXIF capture time with offset, GPS position."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = taken
    sub[0x9011] = "+08:00"
    if gps:
        g = exif.get_ifd(0x8825)

        def dms(v: float) -> tuple[float, float, float]:
            d = int(v)
            m = int((v - d) * 60)
            return (float(d), float(m), round(((v - d) * 60 - m) * 60, 4))

        g[1], g[2], g[3], g[4] = "N", dms(gps[0]), "E", dms(gps[1])
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70, exif=exif)
    return buffer.getvalue()


def heic_photo() -> bytes:
    """A real HEIC, as an iPad's camera writes it (pillow-heif encodes it)."""
    import pillow_heif

    buffer = io.BytesIO()  # without registering pillow-heif's opener: the server must do that itself
    pillow_heif.from_pillow(Image.new("RGB", (1024, 768), (60, 90, 150))).save(buffer, quality=80)
    return buffer.getvalue()


def tiff_photo() -> bytes:
    """A TIFF, as some document cameras and scanner apps save: Chromium cannot decode it (so the
    tablet keeps it as it is) and the server does not take it (JPEG, PNG, HEIC, AVIF, PDF)."""
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 120, 90)).save(buffer, "TIFF")
    return buffer.getvalue()


async def open_roof_inspection(page: Page, data: dict[str, Any]) -> str:
    """From the home screen to a new roof-waterproofing lot on the roof work item; its id."""
    await page.goto(f"/tablet/#/work-item/{data['roof']}")
    await page.get_by_role("link", name="对本项新建检查").click()
    await page.get_by_text(ROOF_TITLE).click()
    await page.get_by_role("button", name="开始检查").click()
    await expect(page.get_by_test_id("inspection")).to_be_visible()
    found = re.search(r"#/inspection/([0-9a-f-]+)", page.url)
    assert found, page.url
    return found.group(1)


def item(page: Page, code: str) -> Any:
    return page.locator(f"[data-testid=item][data-code={code}]")


async def answer_roof(page: Page, fail_m3: bool = True) -> None:
    """Every item of the roof lot; M3 failed (when asked) with its photo still to be taken."""
    await item(page, "M1").get_by_test_id("answer-pass").click()
    await item(page, "M2").get_by_test_id("answer-pass").click()
    await item(page, "M3").get_by_test_id("answer-fail" if fail_m3 else "answer-pass").click()
    for code, checked, passed in (("N1", 10, 10), ("N3", 5, 5)):
        await item(page, code).get_by_test_id("count-checked").fill(str(checked))
        await item(page, code).get_by_test_id("count-checked").press("Tab")
        await item(page, code).get_by_test_id("count-passed").fill(str(passed))
        await item(page, code).get_by_test_id("count-passed").press("Tab")
    await item(page, "N2").get_by_test_id("measured").fill("-2 0 -5")
    await item(page, "N2").get_by_test_id("measured").press("Tab")
    await item(page, "N4").get_by_test_id("measured").fill("0.2、0.5")
    await item(page, "N4").get_by_test_id("measured").press("Tab")


async def sign(page: Page) -> None:
    canvas = page.get_by_test_id("signature")
    await canvas.scroll_into_view_if_needed()
    box = await canvas.bounding_box()
    assert box is not None
    x, y = box["x"], box["y"]
    await page.mouse.move(x + 30, y + 120)
    await page.mouse.down()
    for step in range(1, 12):
        await page.mouse.move(x + 30 + step * 25, y + 120 - (step % 3) * 30, steps=2)
    await page.mouse.up()
