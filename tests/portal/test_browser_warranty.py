"""The sync conflict, acceptance and warranty pages in a real browser (Chromium through Playwright, as
test_browser.py): the supervisor keeps the overwritten 户数 of a conflict two tablets made; the owner
meets the blockers of the whole project with their links, accepts the finished 小区 with signatures
and photos and reads the warranty register; a resident supervisor reports a leak from a phone and
the contractor takes it on. Screenshots at phone and desktop width."""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from tests.portal.conftest import PortalServer
from tests.portal.helpers import jpeg
from tests.portal.test_browser import DESKTOP, PHONE, browser, context, shot, sign_in

__all__ = ["browser"]  # the fixture, shared with test_browser.py

# one per row of the form, in its order: owner, contractor, supervisor, designer, community,
# property, and two resident supervisors
PARTICIPANTS = [
    "城南住建局 王工",
    "宏达建设 李经理",
    "恒信监理 赵总监",
    "市设计院 钱工",
    "幸福社区 孙主任",
    "安心物业 周经理",
    "业主监督员 陈阿姨",
    "业主监督员 刘师傅",
]


async def test_supervisor_resolves_a_sync_conflict(browser: Browser, portal_server: PortalServer) -> None:
    desk = await context(browser, portal_server, DESKTOP)
    page = await desk.new_page()
    await sign_in(page, "supervisor")
    await page.goto(f"/portal/projects/{portal_server.data['project']}")
    tile = page.get_by_test_id("conflicts-tile")
    await expect(tile).to_contain_text("1")
    await tile.click()
    conflict = page.get_by_test_id("conflict")
    await expect(conflict).to_have_count(1)
    await expect(conflict.get_by_role("heading")).to_contain_text("幸福里小区 · 小区")
    await expect(conflict.get_by_test_id("conflict-field")).to_have_text("户数")
    await expect(conflict.get_by_test_id("conflict-kept")).to_contain_text("418")
    await expect(conflict.get_by_test_id("conflict-lost")).to_contain_text("420")
    await shot(page, "conflicts")
    await conflict.get_by_label(re.compile("改用被覆盖的值")).check()
    await conflict.get_by_label(re.compile("处理说明")).fill("以物业台账 420 户为准")
    await conflict.get_by_role("button", name="标为已解决").click()
    await expect(page.get_by_role("status")).to_contain_text("已标为已解决")
    await expect(page.get_by_test_id("no-conflicts")).to_be_visible()
    await page.get_by_role("link", name=re.compile("全部")).click()
    await expect(page.get_by_test_id("conflict-resolved")).to_contain_text("保留被覆盖的值“420”")
    await shot(page, "conflicts-resolved")
    # the value chosen is the site's now
    await page.goto(f"/portal/projects/{portal_server.data['project']}")
    await expect(page.locator("details.site").filter(has_text="幸福里小区").first).to_contain_text("420 户")
    await desk.close()


async def test_owner_accepts_a_site_and_residents_claims_are_answered(
    browser: Browser, portal_server: PortalServer
) -> None:
    data = portal_server.data
    desk = await context(browser, portal_server, DESKTOP)
    page = await desk.new_page()
    await sign_in(page, "owner")
    await page.goto(f"/portal/projects/{data['project']}")
    await page.get_by_test_id("warranty-link").click()
    await page.get_by_test_id("new-acceptance").click()
    # the whole project cannot pass: each open order listed, with its link
    blockers = page.get_by_test_id("blocker")
    assert await blockers.count() >= 2
    await expect(blockers.first).to_have_attribute("href", re.compile(r"^/portal/"))
    await expect(page.get_by_test_id("blockers")).to_contain_text("未闭合")
    await shot(page, "acceptance-blockers")
    # the finished 小区 has nothing open
    await page.get_by_label("验收范围").select_option(label="和平里小区")
    await page.get_by_role("button", name="查看未了结事项").click()
    await expect(page.get_by_test_id("blockers")).to_have_count(0)
    form = page.get_by_test_id("acceptance-form")
    rows = form.get_by_test_id("participant")
    for i, name in enumerate(PARTICIPANTS):
        row = rows.nth(i)
        await row.get_by_label("姓名或单位").fill(name)
        await row.get_by_label("已签字").check()
    await (
        rows.nth(0)
        .get_by_label("签字照片")
        .set_input_files(
            files=[{"name": "sign.jpg", "mimeType": "image/jpeg", "buffer": jpeg((20, 20, 20), (600, 240))}]
        )
    )
    await form.get_by_label("现场照片").set_input_files(
        files=[{"name": "site.jpg", "mimeType": "image/jpeg", "buffer": jpeg((90, 150, 90))}]
    )
    await form.get_by_label("验收意见").fill("楼道整治观感良好，资料齐全")
    await form.get_by_role("button", name="记录验收").click()
    await expect(page.get_by_role("status")).to_contain_text("验收已记录")
    await expect(page.get_by_test_id("acceptance-result")).to_have_text("通过")
    await expect(page.get_by_test_id("participants")).to_contain_text("业主监督员 · 业主监督员 刘师傅")
    await expect(page.get_by_test_id("participants").locator("img")).to_have_count(1)
    await expect(page.get_by_test_id("acceptance-items")).to_contain_text("和平里小区 楼道综合整治")
    await shot(page, "acceptance")
    await page.get_by_role("link", name="验收与保修").click()
    item = page.get_by_test_id("warranty-item").first
    await expect(item).to_contain_text("和平里小区")
    await expect(item).to_contain_text(re.compile(r"\d+ 天"))
    await shot(page, "warranty")
    await desk.close()

    # a resident supervisor reports a leak from a phone
    phone = await context(browser, portal_server, PHONE, is_mobile=True, has_touch=True)
    page = await phone.new_page()
    await sign_in(page, "resident")
    await page.goto(f"/portal/projects/{data['project']}/warranty")
    claim = page.get_by_test_id("claim-form")
    await claim.get_by_label(re.compile("位置")).fill("和平里 2号楼 3单元 楼梯间")
    await claim.get_by_label("问题描述").fill("新刷的楼梯扶手油漆大面积起皮")
    await claim.get_by_label(re.compile("照片")).set_input_files(
        files=[{"name": "peel.jpg", "mimeType": "image/jpeg", "buffer": jpeg((160, 120, 60))}]
    )
    await claim.get_by_role("button", name="提交报修").click()
    await expect(page.get_by_role("status")).to_contain_text("报修已提交")
    await expect(page.get_by_test_id("claim-status")).to_have_text("待施工单位答复")
    claim_url = page.url.split("?")[0]
    await shot(page, "warranty-claim")
    await phone.close()

    # the contractor who owes the warranty takes it on
    phone = await context(browser, portal_server, PHONE, is_mobile=True, has_touch=True)
    page = await phone.new_page()
    await sign_in(page, "contractor_b")
    await page.goto("/portal/alerts/")
    await page.get_by_role("link", name="查看报修").first.click()
    await expect(page).to_have_url(claim_url)
    answer = page.get_by_test_id("claim-answer-form")
    await answer.get_by_label(re.compile("受理")).check()
    await answer.get_by_label("说明").fill("明日上午派油漆工返修")
    await answer.get_by_role("button", name="提交答复").click()
    await expect(page.get_by_test_id("claim-status")).to_have_text("施工单位已受理")
    await expect(page.get_by_test_id("claim-answer")).to_contain_text("明日上午派油漆工返修")
    await shot(page, "warranty-claim-answered")
    await phone.close()
    # contractor A owes nothing here: the claim is not there for it
    other = await context(browser, portal_server, PHONE, is_mobile=True, has_touch=True)
    page = await other.new_page()
    await sign_in(page, "contractor_a")
    answered = await page.goto(claim_url)
    assert answered is not None and answered.status == 404
    await other.close()
