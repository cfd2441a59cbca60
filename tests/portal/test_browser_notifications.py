"""The contractor's 通知设置 page in a real browser (Chromium through Playwright, as test_browser.py):
reached from 提醒, each kind set to at once, the daily digest or off with the digest time, saved and
read back; the kinds the rules make mandatory cannot be changed. Screenshots at phone and desktop width."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.portal.conftest import PortalServer
from tests.portal.test_browser import DESKTOP, PHONE, browser, context, shot, sign_in

__all__ = ["browser"]  # the fixture, shared with test_browser.py


async def test_contractor_chooses_how_to_hear_of_each_kind(browser: Browser, portal_server: PortalServer) -> None:
    phone = await context(browser, portal_server, PHONE)
    page = await phone.new_page()
    await sign_in(page, "contractor_a")
    await page.goto("/portal/alerts/")
    await page.get_by_role("link", name="通知设置").click()
    await expect(page.get_by_role("heading", name="通知设置")).to_be_visible()
    form = page.get_by_test_id("notification-settings")
    # every kind by its Chinese name, at once until chosen otherwise
    issued, warranty, cancelled = (
        form.get_by_label("整改通知单下发"),
        form.get_by_label("保修期将满"),
        form.get_by_label("整改通知单撤销"),
    )
    for select in (issued, warranty, cancelled):
        await expect(select).to_have_value("immediate")
    # what the rules make mandatory is shown, fixed
    stop = form.get_by_label("停工通知")
    await expect(stop).to_be_disabled()
    await expect(form.get_by_role("listitem").filter(has_text="停工通知")).to_contain_text("按规定必须立即通知")
    await shot(page, "notification-settings")

    await issued.select_option(label="每日汇总")
    await warranty.select_option(label="不通知")
    await form.get_by_label("每日汇总的发送时间").fill("18:30")
    await form.get_by_role("button", name="保存").click()
    await expect(page.get_by_role("status")).to_contain_text("已保存")
    # read back from the server, not from the form the browser kept
    await page.goto("/portal/notifications/settings")
    await expect(form.get_by_label("整改通知单下发")).to_have_value("digest")
    await expect(form.get_by_label("保修期将满")).to_have_value("off")
    await expect(form.get_by_label("整改通知单撤销")).to_have_value("immediate")
    await expect(form.get_by_label("每日汇总的发送时间")).to_have_value("18:30")
    await expect(form.get_by_label("停工通知")).to_have_value("immediate")
    await shot(page, "notification-settings-saved")
    await phone.close()

    # one person's choice is theirs only: contractor B still hears of everything at once
    desk = await context(browser, portal_server, DESKTOP)
    other = await desk.new_page()
    await sign_in(other, "contractor_b")
    await other.goto("/portal/notifications/settings")
    await expect(other.get_by_test_id("notification-settings").get_by_label("整改通知单下发")).to_have_value(
        "immediate"
    )
    await desk.close()
