"""The tablet app when things go wrong, in Chromium against a real server: two tablets change the
same answer, the access token expires offline and the refresh token is revoked, a photo upload is
cut off, the server refuses a photo, two people share one tablet, a new version of the app
arrives while an inspection is open."""

from __future__ import annotations

import gzip
import re

from playwright.async_api import Page, expect

from tests.factories import PASSWORD
from tests.tablet.conftest import (
    CuttingProxy,
    Tablets,
    TabletServer,
    expire_access_token,
    open_app,
    outbox,
    shot,
    sign_in,
    synced,
    wait_sync,
)
from tests.tablet.helpers import answer_roof, camera_jpeg, heic_photo, item, open_roof_inspection, sign, tiff_photo


async def pending(page: Page) -> int:
    return sum(1 for e in await outbox(page) if e["status"] == "pending")


async def test_two_tablets_change_the_same_answer(tablets: Tablets, tablet_server: TabletServer) -> None:
    first = await tablets.launch("first")
    a = await open_app(first)
    await sign_in(a, "inspector")
    await synced(a)
    iid = await open_roof_inspection(a, tablet_server.data)
    await item(a, "M1").get_by_test_id("answer-pass").click()
    await item(a, "M1").get_by_test_id("note").fill("女儿墙处卷材完好")
    await item(a, "M1").get_by_test_id("note").press("Tab")
    await synced(a)

    second = await tablets.launch("second")
    b = await open_app(second)
    await sign_in(b, "inspector")
    await synced(b)
    await first.set_offline(True)  # the first tablet goes up on the roof
    await b.goto(f"/tablet/#/inspection/{iid}")
    await expect(item(b, "M1").get_by_test_id("note")).to_have_value("女儿墙处卷材完好")
    await item(b, "M1").get_by_test_id("note").fill("女儿墙处卷材起鼓一处")
    await item(b, "M1").get_by_test_id("note").press("Tab")
    await synced(b)

    await item(a, "M1").get_by_test_id("note").fill("女儿墙处卷材完好，已拍照")
    await item(a, "M1").get_by_test_id("note").press("Tab")
    await first.set_offline(False)
    await synced(a)
    await synced(a)  # the conflict record made by the push comes back with the next pull
    assert [e["result"]["status"] for e in await outbox(a)][-1] == "conflict_recorded"
    await a.goto("/tablet/#/sync")
    conflict = a.get_by_test_id("conflict").first
    await expect(conflict.get_by_test_id("kept")).to_have_text("女儿墙处卷材完好，已拍照")
    await expect(conflict.get_by_test_id("lost")).to_have_text("女儿墙处卷材起鼓一处")
    await shot(a, "conflicts")
    # the other tablet sees it too, and puts its value back
    await synced(b)
    await b.goto("/tablet/#/sync")
    await b.get_by_test_id("conflict").first.get_by_role("button", name="恢复被覆盖的值").click()
    await synced(b)
    headers = await tablet_server.login("inspector", "test-reader")
    async with tablet_server.api() as http:
        answers = (await http.get(f"/api/v1/inspections/{iid}", headers=headers)).json()["answers"]
    assert next(x for x in answers if x["item_code"] == "M1")["note"] == "女儿墙处卷材起鼓一处"
    # resolved in the portal (同步冲突), it leaves the first tablet's list with its next pull
    portal = await first.new_page()
    await portal.goto("/portal/login")
    await portal.get_by_label("用户名").fill("inspector")
    await portal.get_by_label("密码").fill(PASSWORD)
    await portal.get_by_role("button", name="登录").click()
    await portal.goto(f"/portal/projects/{tablet_server.data['project']}/conflicts")
    card = portal.get_by_test_id("conflict").filter(has_text="女儿墙处卷材起鼓一处")
    await card.get_by_label(re.compile("保留现值")).check()
    await card.get_by_role("button", name="标为已解决").click()
    await expect(portal.get_by_role("status")).to_contain_text("已标为已解决")
    await synced(a)
    await a.goto("/tablet/#/sync")
    await expect(a.get_by_test_id("conflicts")).to_be_visible()
    await expect(a.get_by_test_id("conflict").filter(has_text="女儿墙处卷材起鼓一处")).to_have_count(0)


async def test_token_expires_offline_then_the_refresh_token_is_revoked(
    tablets: Tablets, tablet_server: TabletServer
) -> None:
    ctx = await tablets.launch("expiry")
    page = await open_app(ctx)
    await sign_in(page, "inspector")
    await synced(page)
    device = await page.evaluate("() => siteinspect.tablet.deviceId")
    await ctx.set_offline(True)
    iid = await open_roof_inspection(page, tablet_server.data)
    await answer_roof(page, fail_m3=False)
    # work goes on while the access token runs out
    token = await expire_access_token(page)
    async with tablet_server.api() as http:
        r = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.json()["token_expired"] is True, r.text
    await item(page, "M1").get_by_test_id("note").fill("检查中途令牌已过期")
    await item(page, "M1").get_by_test_id("note").press("Tab")
    assert await pending(page) > 0
    await ctx.set_offline(False)
    await synced(page)  # refreshed with the refresh token, then pushed
    assert await pending(page) == 0
    assert await page.evaluate("() => siteinspect.store.meta(siteinspect.tablet.user, 'access_token')") != token

    # the account signs this tablet out from elsewhere: the refresh token is refused too
    headers = await tablet_server.login("inspector", "office-pc")
    async with tablet_server.api() as http:
        assert (await http.delete(f"/api/v1/auth/devices/{device}", headers=headers)).status_code == 200
    await page.goto(f"/tablet/#/inspection/{iid}")
    await item(page, "M2").get_by_test_id("note").fill("令牌被撤销后的修改")
    await item(page, "M2").get_by_test_id("note").press("Tab")
    await page.evaluate("() => siteinspect.tablet.syncNow()")
    await expect(page.get_by_test_id("auth-lost")).to_contain_text("未同步的 1 项改动")
    await shot(page, "signed-out-by-server")
    assert await pending(page) == 1  # kept
    await page.get_by_test_id("auth-lost").get_by_role("button", name="重新登录").click()
    await sign_in(page, "inspector")
    await synced(page)
    assert await pending(page) == 0
    async with tablet_server.api() as http:
        detail = (await http.get(f"/api/v1/inspections/{iid}", headers=headers)).json()
    assert next(x for x in detail["answers"] if x["item_code"] == "M2")["note"] == "令牌被撤销后的修改"


async def test_photos_cut_off_resume_and_refused_ones_never_lose_the_answer(
    tablets: Tablets, tablet_server: TabletServer
) -> None:
    async with CuttingProxy(tablet_server.url) as proxy:
        await photos_cut_off_and_refused(tablets, tablet_server, proxy)


async def photos_cut_off_and_refused(tablets: Tablets, tablet_server: TabletServer, proxy: CuttingProxy) -> None:
    ctx = await tablets.launch("photos", base_url=proxy.url)
    page = await open_app(ctx)
    await sign_in(page, "inspector")
    await synced(page)
    iid = await open_roof_inspection(page, tablet_server.data)
    await answer_roof(page)
    # a photo in a format the browser cannot convert and the server does not take
    await (
        item(page, "M3")
        .get_by_test_id("camera")
        .set_input_files([{"name": "SCAN_0001.TIF", "mimeType": "image/tiff", "buffer": tiff_photo()}])
    )
    await synced(page)
    refused = item(page, "M3").get_by_test_id("photo-refused")
    await expect(refused).to_contain_text("服务器不接受此照片格式（image/tiff），请重拍")
    await expect(page.get_by_test_id("photos-refused")).to_have_text("被拒照片 1")
    await shot(page, "photo-refused")
    headers = await tablet_server.login("inspector", "test-reader")
    async with tablet_server.api() as http:
        answers = (await http.get(f"/api/v1/inspections/{iid}", headers=headers)).json()["answers"]
    m3 = next(x for x in answers if x["item_code"] == "M3")
    assert m3["value"] == "fail" and m3["photos"] == []  # the answer arrived without the refused photo
    await expect(page.get_by_test_id("problems")).to_contain_text("M3 不合格，须附照片")
    # an iPad's HEIC goes up as it is when the browser cannot convert it; the server takes it
    await (
        item(page, "M1")
        .get_by_test_id("camera")
        .set_input_files([{"name": "IMG_0003.HEIC", "mimeType": "image/heic", "buffer": heic_photo()}])
    )
    await expect(item(page, "M1").get_by_test_id("photo")).to_have_count(1)

    # retaken as a JPEG; the signal drops half-way through its upload, and it is sent again
    proxy.cuts = 1
    await (
        item(page, "M3")
        .get_by_test_id("camera")
        .set_input_files([{"name": "IMG_0002.JPG", "mimeType": "image/jpeg", "buffer": camera_jpeg((90, 90, 160))}])
    )
    await expect(item(page, "M3").get_by_test_id("photo")).to_have_count(2)  # kept on the tablet
    await synced(page)
    assert proxy.cut_done == 1  # the server got half the photo, the tablet a reset connection
    await expect(page.get_by_test_id("photos-pending")).to_have_text("待上传照片 0")  # sent again, whole
    await sign(page)
    await page.get_by_role("button", name="提交检查").click()
    await synced(page)
    await expect(page.get_by_test_id("grade")).to_have_text("不合格")
    async with tablet_server.api() as http:
        detail = (await http.get(f"/api/v1/inspections/{iid}", headers=headers)).json()
    assert detail["inspection"]["status"] == "submitted"
    assert len(next(x for x in detail["answers"] if x["item_code"] == "M3")["photos"]) == 1
    assert len(next(x for x in detail["answers"] if x["item_code"] == "M1")["photos"]) == 1  # the HEIC


async def test_two_people_on_one_tablet_never_see_each_others_work(
    tablets: Tablets, tablet_server: TabletServer
) -> None:
    ctx = await tablets.launch("shared")
    page = await open_app(ctx)
    await sign_in(page, "inspector")
    await synced(page)
    await ctx.set_offline(True)
    iid = await open_roof_inspection(page, tablet_server.data)
    await item(page, "M1").get_by_test_id("answer-pass").click()
    await expect(page.get_by_test_id("pending")).to_have_text("待上传改动 2")
    await page.get_by_role("button", name="切换用户").click()

    await ctx.set_offline(False)
    await sign_in(page, "inspector2")
    await synced(page)
    await expect(page.get_by_test_id("pending")).to_have_text("待上传改动 0")
    await expect(page.get_by_text("城东片区二期")).to_be_visible()
    await expect(page.get_by_text("城东片区老旧小区改造")).to_have_count(0)
    await expect(page.get_by_test_id("drafts")).to_contain_text("没有未提交的检查")
    await page.goto(f"/tablet/#/inspection/{iid}")
    await expect(page.get_by_text("本机没有这次检查")).to_be_visible()
    assert await outbox(page) == []
    headers = await tablet_server.login("inspector", "test-reader")
    async with tablet_server.api() as http:
        assert (await http.get(f"/api/v1/inspections/{iid}", headers=headers)).status_code == 404
    await page.get_by_test_id("sign-out").click()

    # the first inspector again: the draft and its outbox were kept for them
    await expect(page.get_by_text("在本平板上用过的人")).to_be_visible()
    await shot(page, "sign-in-shared")
    await sign_in(page, "inspector")
    await synced(page)
    await expect(page.get_by_test_id("pending")).to_have_text("待上传改动 0")
    async with tablet_server.api() as http:
        assert (await http.get(f"/api/v1/inspections/{iid}", headers=headers)).status_code == 200


async def test_a_new_version_waits_until_no_inspection_is_open(tablets: Tablets, tablet_server: TabletServer) -> None:
    dist = tablet_server.dist
    names = ("sw.js", "sw.js.gz", "index.html", "index.html.gz")
    originals = {name: (dist / name).read_bytes() for name in names}

    def publish(name: str, body: bytes) -> None:  # the file and the gzipped copy the server prefers
        (dist / name).write_bytes(body)
        (dist / f"{name}.gz").write_bytes(gzip.compress(body))

    ctx = await tablets.launch("update")
    page = await open_app(ctx)
    await sign_in(page, "inspector")
    await synced(page)
    await page.evaluate("navigator.serviceWorker.ready")
    first = await page.evaluate("document.querySelector('meta[name=app-version]').content")
    iid = await open_roof_inspection(page, tablet_server.data)
    await item(page, "M1").get_by_test_id("answer-pass").click()
    await page.evaluate("window.__still_the_same_page = true")
    try:
        # a new build on the server
        publish("index.html", originals["index.html"].replace(first.encode(), b"next-build"))
        publish("sw.js", originals["sw.js"] + b"\n// next-build\n")
        await page.evaluate("() => siteinspect.updater.check()")
        await expect(page.get_by_test_id("update-ready")).to_be_visible()
        await shot(page, "update-waiting")
        # still the same page with the inspection on it: nothing reloaded under the inspector
        assert await page.evaluate("window.__still_the_same_page === true")
        await expect(item(page, "M1").get_by_test_id("answer-pass")).to_have_attribute("aria-pressed", "true")
        # leaving the inspection lets the new version in
        async with page.expect_event("load"):
            await page.get_by_role("link", name="首页", exact=True).first.click()
        await expect(page.locator("meta[name=app-version]")).to_have_attribute("content", "next-build")
        await wait_sync(page)
        await page.goto(f"/tablet/#/inspection/{iid}")
        await expect(item(page, "M1").get_by_test_id("answer-pass")).to_have_attribute("aria-pressed", "true")
    finally:
        for name, body in originals.items():
            (dist / name).write_bytes(body)
