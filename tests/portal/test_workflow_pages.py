"""The workflow pages through the app in-process: inspections (list, detail, issuing its drafts as
one notice per contractor), draft orders (edit, discard, shown to issuers only) and order numbers,
with another party's records answering as if they did not exist."""

from __future__ import annotations

import re

import pytest

from inspection import blockers
from inspection.actor import SYSTEM
from inspection.checklists.catalogue import import_shipped
from inspection.clock import FixedClock
from inspection.projects.schemas import SiteCreate
from inspection.rectification.schemas import CancelBody
from tests.instant import local_day
from tests.portal.helpers import actor_from, browser, csrf_of, sign_in
from tests.rectification.helpers import failed_roof

NUMBER = re.compile(r"ZGTZ-\d{4}-\d{5}")


@pytest.fixture(autouse=True)
async def templates(clock: FixedClock) -> None:
    await import_shipped(clock)


async def test_inspection_list_and_detail_read_in_chinese(app, world, clock) -> None:  # type: ignore[no-untyped-def]
    body = await failed_roof(world, clock)
    iid = body["inspection"]["id"]
    async with browser(app) as b:
        await sign_in(b, world.users["supervisor"].username)
        page = await b.get("/portal/inspections/")
        assert page.status_code == 200
        assert f"/portal/inspections/{iid}" in page.text and "不合格" in page.text
        assert "屋面防水改造" in page.text and "1号楼" in page.text
        # filters as the API's: by grade, by open orders, by submission day (local dates)
        assert iid in (await b.get("/portal/inspections/", params={"grade": "不合格"})).text
        assert iid not in (await b.get("/portal/inspections/", params={"grade": "优良"})).text
        # its drafts are open business (as the API counts them)
        assert iid in (await b.get("/portal/inspections/", params={"has_open_orders": "yes"})).text
        assert iid not in (await b.get("/portal/inspections/", params={"has_open_orders": "no"})).text
        assert iid in (await b.get("/portal/inspections/", params={"submitted_from": local_day(0)})).text
        assert iid not in (await b.get("/portal/inspections/", params={"submitted_to": local_day(-1)})).text
        bad = await b.get("/portal/inspections/", params={"submitted_from": "2026-13-40"})
        assert bad.status_code == 200 and "请用日期选择器选择日期（年-月-日）" in bad.text
        detail = await b.get(f"/portal/inspections/{iid}")
        assert detail.status_code == 200
        text = detail.text
        assert "屋面防水" in text and "3号楼北侧檐沟积水" in text and 'data-testid="grade">不合格' in text
        assert text.count('data-testid="issue-group"') == 1  # one notice for the one contractor
        assert f"/api/v1/reports/inspections/{iid}.pdf" in text
        assert "draft" not in re.sub(r"<[^>]+>", "", text)  # no enum names in what is read


async def test_issuing_drafts_as_one_notice_with_one_deadline(app, world, clock) -> None:  # type: ignore[no-untyped-def]
    body = await failed_roof(world, clock)
    iid = body["inspection"]["id"]
    ids = [o["id"] for o in body["orders"]]
    async with browser(app) as b:
        await sign_in(b, world.users["supervisor"].username)
        page = await b.get(f"/portal/inspections/{iid}")
        csrf = csrf_of(page.text)
        group = str(world.orgs["contractor_a"].id)
        found = re.search(r'name="deadline" min="([0-9-]+)" value="([0-9-]+)"', page.text)
        assert found, "no date picker with the rule's deadline"
        today, allowed = found.groups()
        assert today == local_day(0) and allowed > today
        # a deadline past the rule's without a reason comes back refused, with what was typed
        far = await b.post(
            f"/portal/inspections/{iid}/issue",
            data={"csrf_token": csrf, "group": group, "deadline": local_day(196), **{f"order-{i}": "on" for i in ids}},
        )
        assert far.status_code == 422 and f'value="{local_day(196)}"' in far.text and "alert bad" in far.text
        nothing = await b.post(
            f"/portal/inspections/{iid}/issue", data={"csrf_token": csrf, "group": group, "deadline": allowed}
        )
        assert nothing.status_code == 422 and "请至少勾选" in nothing.text
        done = await b.post(
            f"/portal/inspections/{iid}/issue",
            data={"csrf_token": csrf, "group": group, "deadline": allowed, **{f"order-{i}": "on" for i in ids}},
        )
        assert done.status_code == 303, done.text
        after = await b.get(done.headers["location"])
        assert "整改通知单已下发" in after.text and 'data-testid="issue-group"' not in after.text
        numbers = set(NUMBER.findall(after.text))
        assert len(numbers) == 1  # one 整改通知单, one number for both items
        (number,) = numbers
    svc = app.state.services.rectification
    orders = [(await svc.get_order(actor_from(world, "inspector"), i)).order for i in ids]
    assert {o.status.value for o in orders} == {"issued"}
    assert {o.notice_number for o in orders} == {number} and len({o.notice_id for o in orders}) == 1
    async with browser(app) as b:
        # each order page shows the notice's number and links to the notice listing both items
        await sign_in(b, world.users["contractor_a"].username)
        page = await b.get(f"/portal/orders/{ids[0]}")
        assert page.status_code == 200 and 'data-testid="notice-link"' in page.text
        assert set(NUMBER.findall(page.text)) == {number}
        assert f"答复整改通知单 {number}" in page.text  # the reply form cites it
        notice = await b.get(f"/portal/orders/notices/{orders[0].notice_id}")
        assert notice.status_code == 200 and number in notice.text
        assert all(f"/portal/orders/{i}" in notice.text for i in ids)
        listed = await b.get("/portal/orders/")
        assert listed.text.count(number) == 2
    async with browser(app) as b:
        await sign_in(b, world.users["contractor_b"].username)
        assert (await b.get(f"/portal/orders/notices/{orders[0].notice_id}")).status_code == 404
    local = {o.deadline.astimezone(svc.book.calendar.tz).strftime("%Y-%m-%d %H:%M") for o in orders}
    assert local == {f"{allowed} 23:59"}


async def test_another_party_sees_no_inspection_and_cannot_issue(app, world, clock) -> None:  # type: ignore[no-untyped-def]
    body = await failed_roof(world, clock)
    iid = body["inspection"]["id"]
    async with browser(app) as b:
        await sign_in(b, world.users["contractor_b"].username)
        assert (await b.get(f"/portal/inspections/{iid}")).status_code == 404
        assert iid not in (await b.get("/portal/inspections/")).text
    async with browser(app) as b:
        await sign_in(b, world.users["outsider"].username)
        page = await b.get(f"/portal/inspections/{iid}")
        assert page.status_code == 404
        home = await b.get("/portal/inspections/")
        r = await b.post(
            f"/portal/inspections/{iid}/issue",
            data={
                "csrf_token": csrf_of(home.text),
                "deadline": local_day(-8),
                f"order-{body['orders'][0]['id']}": "on",
            },
        )
        assert r.status_code == 404
    async with browser(app) as b:  # contractor A reads its inspection, but no drafts and no issuing
        await sign_in(b, world.users["contractor_a"].username)
        page = await b.get(f"/portal/inspections/{iid}")
        assert page.status_code == 200 and 'data-testid="issue-group"' not in page.text
        assert body["orders"][0]["id"] not in page.text


async def test_drafts_listed_for_issuers_edited_issued_and_discarded(app, world, clock) -> None:  # type: ignore[no-untyped-def]
    body = await failed_roof(world, clock)
    first, second = (o["id"] for o in body["orders"])
    kinds = {b.kind for b in await blockers.acceptance_blockers(world.id_of("p1"))}
    assert "draft_order" in kinds  # failures nobody decided on hold the acceptance
    for who in ("resident", "viewer", "contractor_a"):
        async with browser(app) as b:
            await sign_in(b, world.users[who].username)
            listed = await b.get("/portal/orders/")
            assert first not in listed.text, who
            assert first not in (await b.get("/portal/orders/", params={"status": "draft"})).text, who
    async with browser(app) as b:
        await sign_in(b, world.users["supervisor"].username)
        listed = await b.get("/portal/orders/")
        assert first in listed.text and second in listed.text and "草稿" in listed.text
        assert "屋面防水改造" in listed.text and 'data-testid="drafts-note"' in listed.text
        page = await b.get(f"/portal/orders/{first}")
        csrf = csrf_of(page.text)
        assert 'data-testid="draft-issue"' in page.text and 'type="date"' in page.text
        # an edit that fails validation keeps what was typed
        kept = await b.post(
            f"/portal/orders/{first}/edit",
            data={"csrf_token": csrf, "description": "檐沟找坡不足，雨后积水", "severity": "bogus"},
        )
        assert kept.status_code == 422 and "檐沟找坡不足，雨后积水" in kept.text and "请选择严重程度" in kept.text
        saved = await b.post(
            f"/portal/orders/{first}/edit",
            data={"csrf_token": csrf, "description": "檐沟找坡不足，雨后积水", "severity": "major"},
        )
        assert saved.status_code == 303
        # discarding needs a reason
        bare = await b.post(f"/portal/orders/{second}/discard", data={"csrf_token": csrf, "discard_reason": " "})
        assert bare.status_code == 422 and "作废须说明理由" in bare.text
        gone = await b.post(
            f"/portal/orders/{second}/discard", data={"csrf_token": csrf, "discard_reason": "复核后密封胶完好，误报"}
        )
        assert gone.status_code == 303
        # a major defect's rule deadline is the shorter one: the page offers it once saved
        page = await b.get(f"/portal/orders/{first}")
        allowed = re.search(r'name="deadline" min="[0-9-]+" value="([0-9-]+)"', page.text)
        assert allowed
        issued = await b.post(f"/portal/orders/{first}/issue", data={"csrf_token": csrf, "deadline": allowed.group(1)})
        assert issued.status_code == 303
        shown = await b.get(f"/portal/orders/{first}")
        number = NUMBER.search(shown.text)
        assert number and "1号楼" in shown.text and "檐沟找坡不足" in shown.text and "重大" in shown.text
        listed = await b.get("/portal/orders/")
        assert number.group(0) in listed.text
    svc = app.state.services.rectification
    discarded = (await svc.get_order(actor_from(world, "inspector"), second)).order
    assert discarded.status.value == "cancelled" and discarded.cancel_reason == "复核后密封胶完好，误报"
    kinds = {b.kind for b in await blockers.acceptance_blockers(world.id_of("p1"))}
    assert "draft_order" not in kinds and "open_order" in kinds
    # the contractor's reply form cites the notice's number
    async with browser(app) as b:
        await sign_in(b, world.users["contractor_a"].username)
        page = await b.get(f"/portal/orders/{first}")
        assert f"答复整改通知单 {number.group(0)}" in page.text
        assert number.group(0) in (await b.get("/portal/orders/")).text


async def test_another_party_cannot_touch_drafts(app, world, clock) -> None:  # type: ignore[no-untyped-def]
    body = await failed_roof(world, clock)
    order_id = body["orders"][0]["id"]
    for who, status in (("outsider", 404), ("contractor_b", 404), ("contractor_a", 404), ("resident", 403)):
        async with browser(app) as b:
            await sign_in(b, world.users[who].username)
            home = await b.get("/portal/alerts/")
            csrf = csrf_of(home.text)
            assert (await b.get(f"/portal/orders/{order_id}")).status_code in (404, 200 if status == 403 else 404)
            for action, data in (
                ("discard", {"discard_reason": "不需要"}),
                ("edit", {"description": "改掉", "severity": "general"}),
                ("issue", {"deadline": local_day(4)}),
            ):
                r = await b.post(f"/portal/orders/{order_id}/{action}", data={"csrf_token": csrf, **data})
                assert r.status_code == status, (who, action, r.status_code)
    svc = app.state.services.rectification
    order = (await svc.get_order(actor_from(world, "inspector"), order_id)).order
    assert order.status.value == "draft" and order.description == body["orders"][0]["description"]


async def test_residents_look_up_their_complaints_progress_and_nothing_else(app, world) -> None:  # type: ignore[no-untyped-def]
    from inspection.complaints.schemas import ComplaintIn, ToOrderBody

    services = app.state.services
    site = world.id_of("site1")
    mine = await services.complaints.submit(site, ComplaintIn(text="楼道堆放建筑垃圾无人清理", contact="13700001111"))
    theirs = await services.complaints.submit(site, ComplaintIn(text="夜间施工噪音扰民", contact="13900002222"))
    secrets = ["楼道堆放建筑垃圾", "13700001111", "夜间施工噪音", "13900002222"]
    async with browser(app) as b:
        page = await b.get(f"/portal/notice/{site}/progress", params={"reference": mine.reference.lower()})
        assert page.status_code == 200 and "已受理，正在核实" in page.text and mine.reference in page.text
        assert theirs.reference not in page.text
        assert not [x for x in secrets if x in page.text]
        missing = await b.get(f"/portal/notice/{site}/progress", params={"reference": "ZZZZ0000"})
        assert missing.status_code == 404 and "没有找到这个受理编号" in missing.text
        # a reference only counts on its own site's page
        other = await services.projects.create_site(
            SYSTEM, world.id_of("p1"), SiteCreate(name="东风小区", households=100, floor_area_m2=8000.0)
        )
        elsewhere = await b.get(f"/portal/notice/{other.id}/progress", params={"reference": mine.reference})
        assert elsewhere.status_code == 404
    supervisor = actor_from(world, "supervisor")
    complaint = next(
        c
        for c in (await services.complaints.list_complaints(supervisor, world.id_of("p1"))).items
        if c.reference == mine.reference
    )
    done = await services.complaints.to_order(
        supervisor, complaint.id, ToOrderBody(description="清运楼道建筑垃圾", work_item_id=world.id_of("work_a"))
    )
    async with browser(app) as b:
        page = await b.get(f"/portal/notice/{site}/progress", params={"reference": mine.reference})
        assert "已下发整改通知" in page.text and not [x for x in secrets if x in page.text]
    await services.rectification.cancel(supervisor, done.order_id, CancelBody(reason="物业已清运"))
    async with browser(app) as b:
        page = await b.get(f"/portal/notice/{site}/progress", params={"reference": mine.reference})
        assert "已办结" in page.text


async def test_progress_look_ups_are_limited_per_address(app, world) -> None:  # type: ignore[no-untyped-def]
    site = world.id_of("site1")
    async with browser(app) as b:
        for _ in range(30):
            r = await b.get(f"/portal/notice/{site}/progress", params={"reference": "ABCD1234"})
            assert r.status_code == 404
        r = await b.get(f"/portal/notice/{site}/progress", params={"reference": "ABCD1234"})
        assert r.status_code == 429 and "Retry-After" in r.headers
