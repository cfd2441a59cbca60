"""A phone's large photo on the complaint form, in Chromium: scaled down in the browser before it
is sent (with progress), its EXIF capture time kept and its orientation made upright."""

from __future__ import annotations

import io
import os
import re

import httpx
from PIL import Image
from playwright.async_api import Browser, expect

from tests.evidence.conftest import camera_exif
from tests.factories import PASSWORD
from tests.portal.conftest import PortalServer
from tests.portal.test_browser import PHONE, browser, context  # noqa: F401 - the fixture


def phone_photo() -> bytes:
    """8 megapixels of sensor noise (so JPEG cannot make it small): 3200×2400 as the sensor
    holds it, to be turned upright (EXIF orientation 6), over the 3 MB the page scales from."""
    img = Image.frombytes("RGB", (3200, 2400), os.urandom(3200 * 2400 * 3))
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=90, exif=camera_exif(orientation=6))
    return buffer.getvalue()


async def test_large_photo_is_scaled_in_the_browser(browser: Browser, portal_server: PortalServer) -> None:  # noqa: F811
    data = portal_server.data
    original = phone_photo()
    assert len(original) > 5 * 1024 * 1024
    ctx = await context(browser, portal_server, PHONE, is_mobile=True, has_touch=True)
    page = await ctx.new_page()
    await page.goto(f"/portal/notice/{data['site']}")
    await page.get_by_label("情况描述").fill("5号楼楼道内施工垃圾堆放，堵塞消防通道")
    await page.get_by_label(re.compile("照片")).set_input_files(
        [{"name": "IMG_2041.JPG", "mimeType": "image/jpeg", "buffer": original}]
    )
    await page.get_by_role("button", name="提交").click()
    await expect(page.get_by_test_id("receipt")).to_contain_text("受理编号")
    await ctx.close()

    async with httpx.AsyncClient(base_url=portal_server.url) as api:
        login = await api.post(
            "/api/v1/auth/login", json={"username": "supervisor", "password": PASSWORD, "device_id": "test-desk"}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        listed = await api.get("/api/v1/complaints/", params={"project_id": data["project"]}, headers=headers)
        mine = [c for c in listed.json()["items"] if "堵塞消防通道" in c["text"]]
        assert len(mine) == 1
        [sha] = mine[0]["photos"]
        stored = (await api.get(f"/api/v1/evidence/{sha}", headers=headers)).content
        meta = (await api.get(f"/api/v1/evidence/{sha}/meta", headers=headers)).json()
    sent = Image.open(io.BytesIO(stored))
    assert sent.format == "JPEG" and sent.size == (1920, 2560)  # upright, 2560 px on the long side
    assert len(stored) < len(original) / 2
    assert sent.getexif().get(0x0112) == 1
    assert meta["captured_at"].startswith("2026-05-01T02:20:30")  # the camera's time, kept
