"""The workflow pages in a real browser (Chromium through Playwright, as test_browser.py): the
supervisor finds a failed inspection, reads its items and score, issues its drafts as one notice
with a date picked, sees the notice's number on the order list, and discards another draft with
a reason; another contractor opening the inspection by URL finds nothing. Screenshots at phone
and desktop width."""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from tests.portal.conftest import PortalServer
from tests.portal.test_browser import DESKTOP, PHONE, browser, context, shot, sign_in

__all__ = ["browser"]  # the fixture, shared with test_browser.py

NUMBER = re.compile(r"ZGTZ-\d{4}-\d{5}")


async def test_supervisor_issues_an_inspections_drafts_and_discards_one(
    browser: Browser, portal_server: PortalServer
) -> None:
    desk = await context(browser, portal_server, DESKTOP)
    page = await desk.new_page()
    await sign_in(page, "supervisor")
    # the dashboard's score trend marks the failed inspections; the feed's buttons say what they do
    await page.goto("/portal/")
    trend = page.get_by_test_id("section-score-trend")
    assert await trend.locator("circle.failed").count() >= 1
    await expect(trend.locator("svg")).to_contain_text("不合格")
    await page.goto("/portal/alerts/")
    await expect(page.get_by_role("button", name="标为已读", exact=True).first).to_be_visible()
    await page.get_by_role("link", name="检查记录").first.click()
    await expect(page).to_have_url(re.compile(r"/portal/inspections/$"))
    rows = page.get_by_test_id("inspection-row")
    await expect(rows).to_have_count(4)
    await page.get_by_label("评定").select_option("不合格")
    await page.get_by_role("button", name="筛选").click()
    await expect(page).to_have_url(re.compile(r"grade="))
    failed = await rows.count()
    assert failed >= 1
    await shot(page, "inspections")
    await rows.first.click()
    await expect(page.get_by_test_id("grade")).to_have_text("不合格")
    inspection_url = page.url
    await expect(page.get_by_test_id("score")).to_contain_text("分")
    await expect(page.get_by_test_id("item").first).to_be_visible()
    await expect(page.get_by_test_id("report-inspection")).to_have_attribute("href", re.compile(r"\.pdf$"))
    group = page.get_by_test_id("issue-group")
    await expect(group).to_have_count(1)
    await shot(page, "inspection")
    picker = group.get_by_label("整改期限")
    assert await picker.get_attribute("type") == "date"
    allowed = await picker.input_value()
    await picker.fill(allowed)
    await group.get_by_role("button", name="下发整改通知单").click()
    await expect(page.get_by_role("status")).to_contain_text("整改通知单已下发")
    orders = page.get_by_test_id("orders")
    await expect(orders).to_contain_text(NUMBER)
    assert "草稿" not in await orders.inner_text()
    # every item went out under the one notice's number; the notice lists them all
    numbers = set(NUMBER.findall(await orders.inner_text()))
    assert len(numbers) == 1
    (number,) = numbers
    items = await orders.get_by_role("link").count()
    assert items >= 2
    await orders.get_by_role("link").first.click()
    await page.get_by_test_id("notice-link").click()
    await expect(page.get_by_test_id("notice-number")).to_have_text(number)
    await expect(page.get_by_test_id("order-row")).to_have_count(items)
    notice_url = page.url
    await shot(page, "notice")
    # the order list names the notice's number, the 小区, building and work item
    await page.goto("/portal/orders/")
    listed = page.get_by_test_id("order-row").filter(has_text=NUMBER)
    await expect(listed.first).to_contain_text("幸福里小区 3号楼 屋面防水改造")
    # another inspection's draft: discarded, which needs a reason
    draft_row = page.get_by_test_id("order-row").filter(has_text="草稿").first
    await draft_row.click()
    await expect(page.get_by_test_id("draft-issue")).to_be_visible()
    await shot(page, "order-draft")
    await page.get_by_text("作废草稿").click()
    await page.get_by_label("作废理由").fill("复查时已当场整改完毕")
    await page.get_by_role("button", name="作废").click()
    await expect(page.get_by_role("status")).to_contain_text("草稿已作废")
    await expect(page.get_by_text("复查时已当场整改完毕", exact=True)).to_be_visible()
    await desk.close()

    # contractor B, on a phone: contractor A's inspection does not exist for it
    phone = await context(browser, portal_server, PHONE, is_mobile=True, has_touch=True)
    other = await phone.new_page()
    await sign_in(other, "contractor_b")
    await other.goto("/portal/inspections/")
    await expect(other.get_by_test_id("inspection-row")).to_have_count(0)
    await shot(other, "inspections-contractor-b")
    answer = await other.goto(inspection_url)
    assert answer is not None and answer.status == 404
    await expect(other.get_by_role("heading", name="未找到")).to_be_visible()
    answer = await other.goto(notice_url)
    assert answer is not None and answer.status == 404
    await phone.close()

    # contractor A, on a phone: the notice, and each item's reply form citing its number
    phone = await context(browser, portal_server, PHONE, is_mobile=True, has_touch=True)
    mine = await phone.new_page()
    await sign_in(mine, "contractor_a")
    await mine.goto(notice_url)
    await expect(mine.get_by_test_id("notice-number")).to_have_text(number)
    await expect(mine.get_by_test_id("order-row")).to_have_count(items)
    await shot(mine, "notice-contractor")
    await mine.get_by_test_id("order-row").first.click()
    await expect(mine.get_by_test_id("reply-cites")).to_have_text(f"答复整改通知单 {number}")
    await shot(mine, "order-reply-cites-notice")
    await phone.close()


async def test_resident_looks_up_the_progress_of_a_complaint(browser: Browser, portal_server: PortalServer) -> None:
    site = portal_server.data["site"]
    phone = await context(browser, portal_server, PHONE, is_mobile=True, has_touch=True)
    page = await phone.new_page()
    await page.goto(f"/portal/notice/{site}")
    await page.get_by_label("情况描述").fill("5号楼门口的沙堆挡住了轮椅通道")
    await page.get_by_label(re.compile("联系电话")).fill("13566667777")
    await page.get_by_role("button", name="提交").click()
    receipt = page.get_by_test_id("receipt")
    await expect(receipt).to_contain_text("受理编号")
    reference = await receipt.locator("strong").inner_text()
    await page.get_by_label("受理编号").fill("ZZZZ0000")
    await page.get_by_role("button", name="查询").click()
    await expect(page.get_by_role("alert")).to_contain_text("没有找到这个受理编号")
    await page.get_by_label("受理编号").fill(reference)
    await page.get_by_role("button", name="查询").click()
    result = page.get_by_test_id("progress-result")
    await expect(result).to_contain_text(reference)
    await expect(result).to_contain_text("已受理")
    body = await page.locator("body").inner_text()
    assert "沙堆" not in body and "13566667777" not in body
    await shot(page, "notice-progress")
    await phone.close()
