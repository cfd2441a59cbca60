"""The demo's programme in a real browser (Debian's Chromium, headless, through Playwright) against
a server process loaded with `siteinspect demo`: the programme office follows last month from the
daily digest to the finalised ranking and its bulletin, the street office sees its street and
enters a paper form, a resident answers the survey from a site's notice page on a phone, and the
credit lists are public. Screenshots at phone and desktop width are kept for review."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from inspection.demo import DEMO_PASSWORD
from tests.portal.conftest import PortalServer, running_server
from tests.portal.test_browser import DESKTOP, PHONE, browser, context, shot

__all__ = ["browser"]  # the Chromium fixture


@pytest.fixture(scope="session")
def demo_server() -> Iterator[PortalServer]:
    with running_server(["inspection.cli", "demo"], prefix="siteinspect-programme-") as server:
        yield server


async def sign_in(page: Page, username: str) -> None:
    await page.goto("/portal/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("button", name="退出")).to_be_visible()


async def _downloads_pdf(page: Page, testid: str) -> None:
    async with page.expect_download() as info:
        await page.get_by_test_id(testid).click()
    path = await (await info.value).path()
    assert path is not None and path.read_bytes()[:5] == b"%PDF-"


async def test_the_programme_office_follows_a_month(browser: Browser, demo_server: PortalServer) -> None:
    desk = await context(browser, demo_server, DESKTOP, accept_downloads=True)
    page = await desk.new_page()
    await sign_in(page, "office1")
    await page.get_by_role("link", name="计划考评").click()
    await expect(page.get_by_test_id("programme")).to_have_count(1)
    await shot(page, "programme-home")
    # the daily digest, day by day
    await page.get_by_role("link", name="长青区").click()
    await expect(page.get_by_role("heading", name="日督导 · 长青区")).to_be_visible()
    await expect(page.get_by_test_id("digest")).to_contain_text("新下发整改单")
    await shot(page, "programme-digest")
    await page.get_by_role("link", name="‹ 前一天").click()
    await expect(page.get_by_role("heading", name="日督导 · 长青区")).to_be_visible()
    # last month, still live; its figures open onto their records
    await page.goto("/portal/programme/")
    await page.get_by_role("link", name="月度考评").click()
    await expect(page.get_by_test_id("evaluation-status")).to_contain_text("实时计算")
    await expect(page.get_by_test_id("ranking-contractor").get_by_test_id("ranking-row")).to_have_count(3)
    await shot(page, "programme-ranking")
    await page.get_by_test_id("ranking-contractor").locator("a[href*='indicator=on_time']").first.click()
    await expect(page.get_by_test_id("records")).to_contain_text("整改单")
    await shot(page, "programme-records")
    await page.go_back()
    await page.get_by_role("button", name=re.compile("定稿")).click()
    await expect(page.get_by_role("status")).to_contain_text("考评已定稿")
    await expect(page.get_by_test_id("evaluation-status")).to_contain_text("已定稿 · 第 1 版")
    await _downloads_pdf(page, "report-monthly")
    await shot(page, "programme-finalised")
    # an earlier month, finalised by the demo, and the week's ranking with its bulletin
    await page.get_by_role("link", name="‹ 上月").click()
    await expect(page.get_by_test_id("evaluation-status")).to_contain_text("已定稿")
    await page.get_by_role("link", name="周通报").first.click()
    await expect(page.get_by_role("heading", name=re.compile("^周通报"))).to_be_visible()
    await _downloads_pdf(page, "report-weekly")
    await shot(page, "programme-weekly")
    await desk.close()


async def test_a_street_office_sees_its_street(browser: Browser, demo_server: PortalServer) -> None:
    phone = await context(browser, demo_server, PHONE, is_mobile=True, has_touch=True)
    page = await phone.new_page()
    await sign_in(page, "street1")
    await page.goto("/portal/programme/")
    await page.get_by_role("link", name="月度考评").click()
    areas = page.get_by_test_id("ranking-area").get_by_test_id("ranking-row")
    await expect(areas).to_have_count(1)
    await expect(areas).to_contain_text("长青街道")
    await expect(page.get_by_role("button", name=re.compile("定稿"))).to_have_count(0)
    await shot(page, "programme-street-ranking")
    await phone.close()


async def _a_site(server: PortalServer) -> str:
    """A site of the street office's projects, found as its people would find it: through the API."""
    async with httpx.AsyncClient(base_url=server.url) as api:
        token = (
            await api.post(
                "/api/v1/auth/login",
                json={"username": "street1", "password": DEMO_PASSWORD, "device_id": "browser-test"},
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        projects = (await api.get("/api/v1/projects", headers=headers)).json()["items"]
        sites = (await api.get(f"/api/v1/projects/{projects[0]['id']}/sites", headers=headers)).json()["items"]
        return str(sites[0]["id"])


async def test_a_resident_answers_from_the_notice_page(browser: Browser, demo_server: PortalServer) -> None:
    site = await _a_site(demo_server)
    phone = await context(browser, demo_server, PHONE, is_mobile=True, has_touch=True)
    page = await phone.new_page()
    await page.goto(f"/portal/notice/{site}")
    summary = page.get_by_test_id("satisfaction")
    await expect(summary).to_contain_text("户评价")
    before = int(re.search(r"已有 (\d+) 户评价", await summary.inner_text()).group(1))  # type: ignore[union-attr]
    await page.get_by_role("link", name="参加满意度调查").click()
    await page.get_by_label("单元").fill("1")
    await page.get_by_label("室（门牌号）").fill("102")
    await page.get_by_test_id("overall").get_by_label("非常满意").check()
    await page.get_by_label("施工队伍文明施工").select_option(label="满意")
    await shot(page, "programme-survey")
    await page.get_by_role("button", name="提交评价").click()
    await expect(page.get_by_test_id("survey-receipt")).to_contain_text("感谢您的评价")
    await shot(page, "programme-survey-done")
    await page.goto(f"/portal/notice/{site}")
    after = int(re.search(r"已有 (\d+) 户评价", await page.get_by_test_id("satisfaction").inner_text()).group(1))  # type: ignore[union-attr]
    assert after in (before, before + 1)  # a household of the demo may have answered already: replaced
    # the credit lists, public: the page names whom the public JSON lists (which depends on the
    # months finalised so far: the demo's three, and last month once the office test has run)
    async with httpx.AsyncClient(base_url=demo_server.url) as anyone:
        lists = (await anyone.get("/api/v1/credit/lists")).json()
    assert lists["as_of"] is not None
    await page.goto("/portal/credit")
    for section in ("recommended", "watch"):
        rows = page.get_by_test_id(section).locator(".row .row-title")
        await expect(rows).to_have_text([e["name"] for e in lists[section]])
    await shot(page, "programme-credit")
    await phone.close()
