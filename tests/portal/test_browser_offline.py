"""In Chromium, with every address but this server's refused: the API documentation renders from
the server's own files, and the site poster's QR code reads with a real decoder, on screen at
phone and desktop width and printed to PDF."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import zxingcpp
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Route, expect

from tests.portal.conftest import PortalServer
from tests.portal.test_browser import DESKTOP, PHONE, browser, context  # noqa: F401 - the fixture
from tests.reports.helpers import page_png


async def offline(ctx: BrowserContext, server: PortalServer) -> list[str]:
    """Refuse every request that does not go to the server under test; the refused URLs."""
    own = urlsplit(server.url).netloc
    refused: list[str] = []

    async def gate(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == own or url.startswith("data:"):
            await route.continue_()
        else:
            refused.append(url)
            await route.abort("internetdisconnected")

    await ctx.route("**/*", gate)
    return refused


async def test_api_documentation_without_internet(browser: Browser, portal_server: PortalServer) -> None:  # noqa: F811
    ctx = await context(browser, portal_server, DESKTOP)
    refused = await offline(ctx, portal_server)
    page = await ctx.new_page()
    for path in ("/schema", "/schema/swagger"):
        # the first visit builds the OpenAPI document, and Swagger UI is 1.5 MB of script to run on
        # a machine shared with the rest of the suite: generous time, no sleeps
        await page.goto(path, timeout=60_000)
        await expect(page.locator(".swagger-ui .info .title")).to_contain_text("siteinspect", timeout=30_000)
        # the operations are listed, grouped by tag: the UI ran, not only its HTML
        login = page.locator(".opblock-summary-path", has_text="/api/v1/auth/login").first
        await expect(login).to_be_visible(timeout=30_000)
    assert refused == [], f"the documentation reached outside the server: {refused}"
    await ctx.close()


def decode(png: bytes | Image.Image) -> list[str]:
    image = png if isinstance(png, Image.Image) else Image.open(io.BytesIO(png))
    return [r.text for r in zxingcpp.read_barcodes(image)]


async def test_site_poster_qr_code_reads(browser: Browser, portal_server: PortalServer) -> None:  # noqa: F811
    site = portal_server.data["site"]
    expected = f"{portal_server.url}/portal/notice/{site}"
    for viewport, extra in ((PHONE, {"is_mobile": True, "has_touch": True}), (DESKTOP, {})):
        ctx = await context(browser, portal_server, viewport, **extra)
        refused = await offline(ctx, portal_server)
        page = await ctx.new_page()
        await page.goto(f"/portal/notice/{site}/poster")
        qr = page.get_by_test_id("qr").locator("svg")
        await expect(qr).to_be_visible()
        box = await qr.bounding_box()
        assert box is not None and abs(box["width"] - box["height"]) < 1  # square: nothing cropped
        assert decode(await page.screenshot(full_page=True)) == [expected], viewport
        if viewport is DESKTOP:
            # printed on A4 for the notice board, scanned at 150 dpi
            pdf = await page.pdf(format="A4", print_background=True)
            assert decode(page_png(pdf, 1, 150)) == [expected]
        assert refused == []
        await ctx.close()
