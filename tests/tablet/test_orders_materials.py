"""Orders and materials on the tablet, offline: issue a draft order with a deadline picked on a
date picker, review a contractor's answer with before and after photos side by side and accept
it, send another back with a reason and a new deadline; log a material batch and a witnessed
sample with its label code. Each is a named command that reaches the server once the tablet syncs."""

from __future__ import annotations

from datetime import date, timedelta
from hashlib import sha256
from typing import Any

from playwright.async_api import Page, expect

from tests.tablet.conftest import PHONE, Tablets, TabletServer, open_app, outbox, shot, sign_in, synced
from tests.tablet.helpers import camera_jpeg


async def upload(tablet_server: TabletServer, who: str, data: bytes) -> str:
    headers = await tablet_server.login(who, f"{who}-phone")
    digest = sha256(data).hexdigest()
    async with tablet_server.api() as http:
        r = await http.put(
            f"/api/v1/evidence/{digest}?project_id={tablet_server.data['project']}", content=data, headers=headers
        )
        assert r.status_code in (200, 201), r.text
    return digest


async def answered_order(tablet_server: TabletServer, text: str) -> dict[str, Any]:
    """An order the inspector issued and the contractor answered with a photo, through the API."""
    data = tablet_server.data
    before = await upload(tablet_server, "inspector", camera_jpeg((160, 50, 50), (800, 600)))
    after = await upload(tablet_server, "contractor", camera_jpeg((50, 150, 70), (800, 600)))
    inspector = await tablet_server.login("inspector", "inspector-pc")
    contractor = await tablet_server.login("contractor", "contractor-phone")
    async with tablet_server.api() as http:
        r = await http.post(
            "/api/v1/rectification/orders",
            json={
                "project_id": data["project"],
                "work_item_id": data["roof"],
                "kind": "quality",
                "description": text,
                "photos": [before],
                "issue": True,
            },
            headers=inspector,
        )
        assert r.status_code == 201, r.text
        order = r.json()["order"]
        r = await http.post(
            f"/api/v1/rectification/orders/{order['id']}/respond",
            json={"text": "已按要求返工", "photos": [after]},
            headers=contractor,
        )
        assert r.status_code == 200, r.text
    return {"id": order["id"], "before": before, "after": after}


async def order_status(tablet_server: TabletServer, order_id: str) -> dict[str, Any]:
    headers = await tablet_server.login("inspector", "test-reader")
    async with tablet_server.api() as http:
        return (await http.get(f"/api/v1/rectification/orders/{order_id}", headers=headers)).json()  # type: ignore[no-any-return]


async def pending(page: Page) -> int:
    return sum(1 for e in await outbox(page) if e["status"] == "pending")


async def test_orders_issued_and_reviewed_offline(tablets: Tablets, tablet_server: TabletServer) -> None:
    accept = await answered_order(tablet_server, "屋面落水口周边卷材未压实")
    reject = await answered_order(tablet_server, "屋面分格缝未嵌填密封材料")
    headers = await tablet_server.login("inspector", "inspector-pc")
    async with tablet_server.api() as http:
        r = await http.post(
            "/api/v1/rectification/orders",
            json={
                "project_id": tablet_server.data["project"],
                "work_item_id": tablet_server.data["roof"],
                "kind": "safety",
                "description": "屋面临边未设防护栏杆",
            },
            headers=headers,
        )
        assert r.status_code == 201, r.text
        draft = r.json()["order"]

    ctx = await tablets.launch("orders")
    page = await open_app(ctx)
    await sign_in(page, "inspector")
    await synced(page)
    await synced(page)  # the contractors' photos are kept for reading offline after the first sync
    await page.goto("/tablet/#/orders")
    await expect(page.get_by_test_id("order-row").filter(has_text="屋面落水口周边卷材未压实")).to_be_visible()
    await shot(page, "orders")
    await ctx.set_offline(True)

    # review: the inspector's photo and the contractor's side by side, offline
    await page.goto(f"/tablet/#/order/{accept['id']}")
    compare = page.get_by_test_id("photos-compare")
    for sha in (accept["before"], accept["after"]):
        image = compare.locator(f"[data-sha='{sha}'] img")
        await expect(image).to_be_visible()
        assert await image.evaluate("img => img.complete && img.naturalWidth > 0")
    await shot(page, "order-review")
    await page.get_by_label("复查意见（可选）").fill("复查合格")
    await page.get_by_role("button", name="复查通过，闭合").click()
    await expect(page.get_by_test_id("order-state")).to_have_text("已闭合")

    await page.goto(f"/tablet/#/order/{reject['id']}")
    next_week = (date.today() + timedelta(days=7)).isoformat()
    review = page.get_by_test_id("review-form")
    await review.get_by_label("退回理由").fill("分格缝仍有三处未嵌填")
    await review.get_by_label("新的整改期限").fill(next_week)
    await review.get_by_role("button", name="退回整改").click()
    await expect(page.get_by_test_id("order-state")).to_have_text("已退回")

    await page.goto(f"/tablet/#/order/{draft['id']}")
    deadline = (date.today() + timedelta(days=3)).isoformat()
    await page.get_by_test_id("issue-form").get_by_label("整改期限").fill(deadline)
    await shot(page, "order-issue")
    await page.get_by_test_id("issue-form").get_by_role("button", name="下发").click()
    await expect(page.get_by_test_id("order-state")).to_have_text("已下发")
    assert await pending(page) == 3

    await ctx.set_offline(False)
    await synced(page)
    assert await pending(page) == 0
    assert {e["result"]["status"] for e in await outbox(page)} == {"applied"}
    closed = await order_status(tablet_server, accept["id"])
    assert closed["order"]["status"] == "closed"
    sent_back = await order_status(tablet_server, reject["id"])
    assert sent_back["order"]["status"] == "rejected"
    assert sent_back["order"]["deadline"].startswith(next_week)
    issued = await order_status(tablet_server, draft["id"])
    assert issued["order"]["status"] == "issued"
    assert issued["order"]["deadline"].startswith(deadline)


async def test_material_batch_and_witnessed_sample_offline(tablets: Tablets, tablet_server: TabletServer) -> None:
    ctx = await tablets.launch("materials", viewport=PHONE)
    page = await open_app(ctx)
    await sign_in(page, "inspector")
    await synced(page)
    await ctx.set_offline(True)
    await page.goto("/tablet/#/materials")
    await page.get_by_role("button", name="登记进场材料").click()
    form = page.get_by_test_id("batch-form")
    await form.get_by_label("材料").select_option("rebar")
    await form.get_by_label("数量").fill("42.5")
    await form.get_by_label("批号").fill("HRB-2612-01")
    await form.get_by_label("用于").select_option(label="5号楼屋面防水改造")
    await shot(page, "material-batch-form")
    await form.get_by_role("button", name="保存").click()
    sample = page.get_by_test_id("sample-form")
    await sample.get_by_label("标签编号").fill("CD-RB-0001")
    await sample.get_by_label("组数").fill("1")
    await sample.get_by_role("button", name="记录取样").click()
    await expect(page.get_by_test_id("sample-row")).to_contain_text("CD-RB-0001")
    await shot(page, "material-batch")
    assert await pending(page) == 2

    await ctx.set_offline(False)
    await synced(page)
    assert {e["result"]["status"] for e in await outbox(page)} == {"applied"}
    headers = await tablet_server.login("inspector", "test-reader")
    async with tablet_server.api() as http:
        batches = (
            await http.get(
                f"/api/v1/samples/batches?project_id={tablet_server.data['project']}&material=rebar", headers=headers
            )
        ).json()["items"]
        batch = next(b for b in batches if b["batch_number"] == "HRB-2612-01")
        detail = (await http.get(f"/api/v1/samples/batches/{batch['id']}", headers=headers)).json()
    assert detail["batch"]["quantity"] in ("42.5", "42.50", 42.5)
    assert [s["label_code"] for s in detail["samples"]] == ["CD-RB-0001"]
    assert detail["samples"][0]["witness_id"] == tablet_server.data["users"]["inspector"]
    await page.goto("/tablet/#/materials")
    await expect(page.get_by_test_id("batch-row").filter(has_text="HRB-2612-01")).to_be_visible()
    await shot(page, "materials")
    await page.goto("/tablet/#/sync")
    await shot(page, "sync")
