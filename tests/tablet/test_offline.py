"""An inspector's day on the tablet app in Debian's Chromium against a real server: sign in and
sync, lose the network, reload (the app comes from its service worker), inspect a roof lot with
a failure and its photo, sign and submit, close the browser, reopen it offline on the same profile
(everything still there), get the network back and sync: the server scores the inspection, opens
its order, keeps the photo's capture time and position, and its PDF prints the tablet's times."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from tests.tablet.conftest import Tablets, TabletServer, open_app, outbox, shot, sign_in, synced
from tests.tablet.helpers import ROOF_TITLE, answer_roof, camera_jpeg, item, open_roof_inspection, sign

PROGRESS_WATCH = """
window.__progress = [];
new MutationObserver(() => {
  const p = document.querySelector('[data-testid=progress]');
  if (p && !window.__progress.includes(p.textContent)) window.__progress.push(p.textContent);
}).observe(document, { childList: true, subtree: true, characterData: true });
"""


async def test_an_inspection_made_offline_reaches_the_server_scored(
    tablets: Tablets, tablet_server: TabletServer
) -> None:
    data = tablet_server.data
    ctx = await tablets.launch("inspector")
    await ctx.add_init_script(PROGRESS_WATCH)
    page = await open_app(ctx)
    await shot(page, "sign-in")
    await sign_in(page, "inspector")
    await synced(page)
    await expect(page.get_by_test_id("last-synced")).to_contain_text("刚刚")
    # the first sync showed its progress as "已同步 n / total 条"
    seen = await page.evaluate("window.__progress")
    assert any(re.fullmatch(r"已同步 [\d,]+ / [\d,]+ 条", s) for s in seen), seen
    await expect(page.get_by_test_id("to-review")).to_contain_text("女儿墙泛水高度不足")
    await shot(page, "home")

    # no signal: the app shell comes from the service worker
    await page.evaluate("navigator.serviceWorker.ready")
    await ctx.set_offline(True)
    await page.reload()
    await expect(page.get_by_test_id("net")).to_have_text("离线")
    await expect(page.get_by_role("heading", name=re.compile("你好"))).to_be_visible()

    await page.goto(f"/tablet/#/site/{data['site']}")
    await expect(page.get_by_test_id("work-item")).to_contain_text("5号楼屋面防水改造")
    await shot(page, "site")
    await page.goto(f"/tablet/#/work-item/{data['roof']}")
    await shot(page, "work-item")
    await page.get_by_role("link", name="对本项新建检查").click()
    await expect(page.get_by_text(ROOF_TITLE)).to_be_visible()
    await shot(page, "start-inspection")
    iid = await open_roof_inspection(page, data)
    await expect(page.get_by_role("heading", name=ROOF_TITLE)).to_be_visible()
    await answer_roof(page)
    # M3 failed: it needs a photo before the submit
    await expect(item(page, "M3").locator(".camera.needed")).to_be_visible()
    await expect(page.get_by_test_id("problems")).to_contain_text("M3 不合格，须附照片")
    await item(page, "M3").get_by_test_id("note").fill("天沟处卷材收头翘起")
    await item(page, "M3").get_by_test_id("note").press("Tab")
    await (
        item(page, "M3")
        .get_by_test_id("camera")
        .set_input_files([{"name": "IMG_0042.JPG", "mimeType": "image/jpeg", "buffer": camera_jpeg()}])
    )
    await expect(item(page, "M3").get_by_test_id("photo").locator("img")).to_be_visible()
    await expect(item(page, "M3").locator(".camera.needed")).to_have_count(0)
    # gloved fingers on a roof: every control at least 44 px high
    small = await page.evaluate(
        """() => [...document.querySelectorAll('main button, main input:not([type=file]), main select,'
            + ' main .button, main .row-link, .statusbar button, .nav a')]
          .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
          .map((e) => e.outerHTML.slice(0, 80))"""
    )
    assert small == [], small
    await shot(page, "inspection")
    await sign(page)
    await expect(page.get_by_test_id("problems")).to_have_count(0)
    await page.get_by_role("button", name="提交检查").click()
    await expect(page.get_by_role("status").filter(has_text="已提交")).to_be_visible()
    await expect(page.get_by_test_id("pending")).not_to_have_text("待上传改动 0")
    waiting = await outbox(page)
    assert [e["mutation"]["name"] for e in waiting][:1] == ["inspection.create@1"]
    assert waiting[-1]["mutation"]["name"] == "inspection.submit@1"
    assert all(e["status"] == "pending" for e in waiting)
    photo = next(
        p for p in await page.evaluate("() => siteinspect.store.photos(siteinspect.tablet.user)") if p["item"] == "M3"
    )
    assert photo["size"] < len(camera_jpeg()) and photo["content_type"] == "image/jpeg"
    await tablets.close(ctx)

    # the browser closed; reopened offline on the same profile, everything is still there
    ctx = await tablets.launch("inspector")
    await ctx.set_offline(True)
    page = await open_app(ctx)
    await expect(page.get_by_test_id("net")).to_have_text("离线")
    await expect(page.get_by_test_id("pending")).to_have_text(f"待上传改动 {len(waiting)}")
    await expect(page.get_by_test_id("photos-pending")).to_have_text("待上传照片 2")  # the defect and the signature
    await page.goto(f"/tablet/#/inspection/{iid}")
    await expect(item(page, "M3").get_by_test_id("answer-fail")).to_have_attribute("aria-pressed", "true")
    await expect(item(page, "M3").get_by_test_id("photo").locator("img")).to_be_visible()
    await expect(page.get_by_text("已提交（待上传）", exact=False)).to_be_visible()

    # signal again: it syncs by itself
    await ctx.set_offline(False)
    await expect(page.get_by_test_id("pending")).to_have_text("待上传改动 0", timeout=30_000)
    await synced(page)
    await expect(page.get_by_test_id("photos-pending")).to_have_text("待上传照片 0")
    await expect(page.get_by_test_id("grade")).to_have_text("不合格")
    await expect(page.get_by_test_id("orders-opened")).to_contain_text("M3")
    await shot(page, "inspection-scored")
    results = [e["result"]["status"] for e in await outbox(page)]
    assert set(results) == {"applied"}, [e["result"] for e in await outbox(page)]
    device_started = datetime.fromisoformat(waiting[0]["mutation"]["args"]["started_at_device"])

    headers = await tablet_server.login("inspector", "test-reader")
    async with tablet_server.api() as http:
        detail = (await http.get(f"/api/v1/inspections/{iid}", headers=headers)).json()
        assert detail["inspection"]["status"] == "submitted" and detail["inspection"]["grade"] == "不合格"
        assert [o["status"] for o in detail["orders"]] == ["draft"]
        m3 = next(a for a in detail["answers"] if a["item_code"] == "M3")
        assert m3["result"] == "fail" and m3["note"] == "天沟处卷材收头翘起" and m3["photos"] == [photo["sha256"]]
        meta = (await http.get(f"/api/v1/evidence/{photo['sha256']}/meta", headers=headers)).json()
        assert meta["status"] == "stored" and max(meta["width"], meta["height"]) == 2560
        assert meta["captured_at"].startswith("2026-11-24T01:31:05")  # 09:31:05 in Beijing, from EXIF
        assert abs(meta["gps_lat"] - 31.2304) < 1e-4 and abs(meta["gps_lon"] - 121.4737) < 1e-4
        pdf = await http.get(f"/api/v1/reports/inspections/{iid}.pdf", headers=headers)
        assert pdf.status_code == 200
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    squeezed = re.sub(r"\s+", "", text)
    beijing = device_started.astimezone(UTC) + timedelta(hours=8)
    assert f"检查时间{beijing:%Y-%m-%d%H:%M}至" in squeezed, squeezed[:600]
    assert datetime.fromisoformat(detail["inspection"]["inspected_from"]) <= datetime.fromisoformat(
        detail["inspection"]["submitted_at"]
    )
