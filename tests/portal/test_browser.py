"""The portal in a real browser: Debian's Chromium, headless, driven by Playwright against a real
server process (see conftest.py). A contractor answers an order with a photo on a phone, the
supervisor accepts it, another contractor cannot open it by URL, a resident reads the site's
public notice and sends a complaint, and the pages read (and the reply form posts) with
JavaScript off. Screenshots of the main pages at phone and desktop width are kept for review."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.factories import PASSWORD
from tests.portal.conftest import CHROMIUM, SCREENSHOTS, PortalServer
from tests.portal.helpers import jpeg

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

# an <img> that loaded and decoded to a picture
LOADED = "img => img.decode().then(() => img.naturalWidth > 0, () => false)"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        await b.close()


async def context(browser: Browser, server: PortalServer, viewport: dict[str, int], **kw: Any) -> BrowserContext:
    ctx = await browser.new_context(base_url=server.url, viewport=viewport, locale="zh-CN", **kw)  # type: ignore[arg-type]
    ctx.set_default_timeout(10_000)
    return ctx


async def shot(page: Page, name: str) -> None:
    """The page as it is now, at phone and at desktop width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    was = page.viewport_size
    for size in (PHONE, DESKTOP):
        await page.set_viewport_size(size)  # type: ignore[arg-type]
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{size['width']}.png"), full_page=True)
    if was:
        await page.set_viewport_size(was)


async def sign_in(page: Page, username: str) -> None:
    await page.goto("/portal/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("button", name="退出")).to_be_visible()


async def test_contractor_answers_with_a_photo_and_the_supervisor_accepts(
    browser: Browser, portal_server: PortalServer
) -> None:
    data = portal_server.data
    # the contractor's site manager, on a phone
    phone = await context(browser, portal_server, PHONE, is_mobile=True, has_touch=True)
    page = await phone.new_page()
    await page.goto("/portal/orders/")
    await expect(page).to_have_url(re.compile(r"/portal/login\?next="))
    await shot(page, "login")
    await sign_in(page, "contractor_a")
    await expect(page).to_have_url(re.compile(r"/portal/orders/?$"))
    rows = page.get_by_test_id("order-row")
    await expect(rows).to_have_count(2)
    # overdue first, marked
    await expect(rows.first).to_contain_text("已逾期")
    await expect(page.get_by_text(data["order_b_text"])).to_have_count(0)
    await shot(page, "contractor-orders")
    await page.goto(f"/portal/orders/{data['order_a']}")
    thumb = page.locator(f"img[src*='{data['inspector_photo']}']")
    await expect(thumb).to_be_visible()
    # decode() settles once the image has loaded (or failed): no guessing how long that takes
    assert await thumb.evaluate(LOADED)
    await page.get_by_label("整改情况说明").fill("已将卷材搭接宽度返工至 100 mm，泛水高度补足 250 mm")
    await page.get_by_label(re.compile("整改后照片")).set_input_files(
        [{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg((40, 120, 60), (1600, 1200))}]
    )
    await page.get_by_role("button", name="提交回复").click()
    await expect(page.get_by_role("status")).to_contain_text("整改回复已提交")
    response = page.get_by_test_id("response")
    await expect(response).to_contain_text("已将卷材搭接宽度返工")
    await expect(response.locator("img")).to_have_count(1)
    assert await response.locator("img").evaluate(LOADED)
    await shot(page, "contractor-order-answered")
    await phone.close()

    # the supervisor, at a desk
    desk = await context(browser, portal_server, DESKTOP, accept_downloads=True)
    page = await desk.new_page()
    await sign_in(page, "supervisor")
    await expect(page.get_by_role("heading", name="项目总览")).to_be_visible()
    await expect(page.locator("svg.chart").first).to_be_visible()
    await shot(page, "dashboard")
    await page.goto(f"/portal/orders/{data['order_a']}")
    await page.get_by_label("复查意见（可选）").fill("复查合格")
    await page.get_by_role("button", name="复查通过，闭合").click()
    await expect(page.get_by_role("status")).to_contain_text("整改单闭合")
    await expect(page.locator(".badges")).to_contain_text("已闭合")
    await shot(page, "supervisor-order-closed")
    # every PDF report this build offers downloads as a PDF
    for where in (f"/portal/orders/{data['order_a']}", f"/portal/projects/{data['project']}", "/portal/"):
        await page.goto(where)
        buttons = page.locator("[data-testid^='report-']")
        for i in range(await buttons.count()):
            async with page.expect_download() as info:
                await buttons.nth(i).click()
            download = await info.value
            path = await download.path()
            assert path is not None and path.read_bytes()[:5] == b"%PDF-", await buttons.nth(i).get_attribute("href")
    await page.goto(f"/portal/projects/{data['project']}")
    await shot(page, "project")
    await page.goto("/portal/alerts/")
    await expect(page.get_by_test_id("alert").first).to_be_visible()
    await shot(page, "alerts")
    await desk.close()


async def test_another_contractor_gets_404_by_url(browser: Browser, portal_server: PortalServer) -> None:
    data = portal_server.data
    ctx = await context(browser, portal_server, PHONE)
    page = await ctx.new_page()
    await sign_in(page, "contractor_b")
    await expect(page.get_by_test_id("order-row")).to_have_count(1)
    for url in (
        f"/portal/orders/{data['order_a']}",
        f"/portal/orders/{data['overdue_a']}",
        f"/portal/projects/{data['project']}/complaints",
    ):
        answer = await page.goto(url)
        assert answer is not None and answer.status == 404, url
        await expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    photo = await page.request.get(f"/api/v1/evidence/{data['inspector_photo']}?size=320")
    assert photo.status == 404
    await shot(page, "not-found")
    await ctx.close()


async def test_public_notice_and_complaint(browser: Browser, portal_server: PortalServer) -> None:
    data = portal_server.data
    ctx = await context(browser, portal_server, DESKTOP)
    page = await ctx.new_page()
    await page.goto(f"/portal/notice/{data['site']}/poster")
    await expect(page.get_by_test_id("qr").locator("svg")).to_be_visible()
    await shot(page, "notice-poster")
    await ctx.close()
    ctx = await context(browser, portal_server, PHONE, is_mobile=True, has_touch=True)
    page = await ctx.new_page()
    await page.goto(f"/portal/notice/{data['site']}")
    await expect(page.get_by_role("heading", name="幸福里小区")).to_be_visible()
    await expect(page.get_by_test_id("resident-supervisors")).to_contain_text(data["resident_name"])
    body = await page.content()
    assert data["resident_phone"] not in body
    assert data["contractor_a_name"] in body
    await shot(page, "notice")
    await page.get_by_label("问题类别").select_option("safety")
    await page.get_by_label("情况描述").fill("3号楼东侧脚手架下没有围挡，孩子放学从下面走")
    await page.get_by_label(re.compile("照片")).set_input_files(
        [{"name": "scaffold.jpg", "mimeType": "image/jpeg", "buffer": jpeg((90, 90, 160))}]
    )
    await page.get_by_label(re.compile("联系电话")).fill("13700001111")
    await page.get_by_role("button", name="提交").click()
    await expect(page.get_by_test_id("receipt")).to_contain_text("受理编号")
    assert "13700001111" not in await page.content()
    await shot(page, "notice-receipt")
    await ctx.close()

    # the supervisor triages it into an order for the roof's contractor
    desk = await context(browser, portal_server, DESKTOP)
    page = await desk.new_page()
    await sign_in(page, "supervisor")
    await page.goto(f"/portal/projects/{data['project']}/complaints")
    await page.get_by_test_id("complaint-row").first.click()
    await expect(page.get_by_text("13700001111")).to_be_visible()
    await expect(page.locator(".photos img")).to_have_count(1)
    await shot(page, "complaint")
    await page.get_by_label("改造内容（决定施工单位）").select_option(label="3号楼 · 屋面防水改造")
    await page.get_by_label("类别").select_option("safety")
    await page.get_by_role("button", name="下发整改单").click()
    await expect(page.get_by_role("status")).to_contain_text("根据居民投诉")
    await expect(page.locator(".badges")).to_contain_text("居民投诉")
    await desk.close()


async def test_pages_read_and_reply_without_javascript(browser: Browser, portal_server: PortalServer) -> None:
    data = portal_server.data
    ctx = await context(browser, portal_server, PHONE, java_script_enabled=False)
    page = await ctx.new_page()
    await sign_in(page, "contractor_a")
    await expect(page.get_by_test_id("order-row").first).to_be_visible()
    await page.goto(f"/portal/orders/{data['overdue_a']}")
    await expect(page.locator(".badges")).to_contain_text("已逾期")
    await page.get_by_label("整改情况说明").fill("已补设临边防护栏杆，作业人员全部系挂安全带")
    await page.get_by_label(re.compile("整改后照片")).set_input_files(
        [
            {"name": "rail.jpg", "mimeType": "image/jpeg", "buffer": jpeg((150, 40, 40))},
            {"name": "belt.jpg", "mimeType": "image/jpeg", "buffer": jpeg((40, 40, 150))},
        ]
    )
    await page.get_by_role("button", name="提交回复").click()
    await expect(page.get_by_role("status")).to_contain_text("整改回复已提交")
    await expect(page.get_by_test_id("response").locator("img")).to_have_count(2)
    await shot(page, "nojs-order-answered")
    await page.goto(f"/portal/notice/{data['site']}")
    await expect(page.get_by_role("heading", name="幸福里小区")).to_be_visible()
    await ctx.close()
    ctx = await context(browser, portal_server, DESKTOP, java_script_enabled=False)
    page = await ctx.new_page()
    await sign_in(page, "owner")
    await expect(page.locator("svg.chart").first).to_be_visible()
    await page.goto(f"/portal/projects/{data['project']}")
    await expect(page.get_by_role("heading", name="城南片区老旧小区改造一期")).to_be_visible()
    await ctx.close()
