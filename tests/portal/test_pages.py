"""The portal's pages through the app in-process: sign-in rules, CSRF, the contractor's reply with
photos, the review, object-level rules by URL, the alerts feed, the public notice and complaints.
(The same flows in a real browser are in test_browser.py.)"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest

from inspection.rectification import schemas as rs
from inspection.rectification.rules import OrderKind
from tests.instant import local_day
from tests.portal.helpers import actor_from, browser, csrf_of, jpeg, sign_in


async def issue_order(app, world, description: str = "屋面防水卷材搭接宽度不足", contractor: str = "work_a"):  # type: ignore[no-untyped-def]
    services = app.state.services
    detail = await services.rectification.create_order(
        actor_from(world, "inspector"),
        rs.OrderCreate(
            project_id=world.id_of("p1"),
            work_item_id=world.id_of(contractor),
            kind=OrderKind.quality,
            description=description,
            issue=True,
        ),
    )
    return detail.order


async def test_sign_in_sets_a_safe_cookie_and_sign_out_revokes_it(app, world) -> None:
    async with browser(app) as b:
        r = await sign_in(b, world.users["supervisor"].username)
        assert r.status_code == 303 and r.headers["location"] == "/portal/"
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("si_session="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        assert "Secure" not in cookie  # loopback: plain http in development
        home = await b.get("/portal/")
        assert home.status_code == 200 and "项目总览" in home.text
        assert "content-security-policy" in home.headers
        out = await b.post("/portal/logout", data={"csrf_token": csrf_of(home.text)})
        assert out.status_code == 303
        again = await b.get("/portal/")
        assert again.status_code == 303 and again.headers["location"].startswith("/portal/login")


async def test_cookie_is_secure_off_loopback(app, world) -> None:
    async with browser(app, host="portal.example.org", scheme="https") as b:
        r = await sign_in(b, world.users["supervisor"].username)
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("si_session="))
        assert "Secure" in cookie


async def test_wrong_password_and_rate_limit(app, world) -> None:
    async with browser(app) as b:
        for _ in range(5):
            r = await sign_in(b, world.users["owner"].username, password="wrong-password-1")
            assert r.status_code == 401 and "用户名或密码不正确" in r.text
        r = await sign_in(b, world.users["owner"].username)  # right password, but locked for now
        assert r.status_code == 429 and "Retry-After" in r.headers


async def test_posts_without_the_csrf_token_are_refused(app, world) -> None:
    order = await issue_order(app, world)
    async with browser(app) as b:
        await sign_in(b, world.users["contractor_a"].username)
        r = await b.post(f"/portal/orders/{order.id}/respond", data={"text": "已整改"})
        assert r.status_code == 403
        page = await b.get(f"/portal/orders/{order.id}")
        r = await b.post(
            f"/portal/orders/{order.id}/respond",
            data={"text": "已整改", "csrf_token": csrf_of(page.text)},
            headers={"Origin": "https://evil.example"},
        )
        assert r.status_code == 403
    detail = await app.state.services.rectification.get_order(actor_from(world, "inspector"), order.id)
    assert detail.order.status.value == "issued"


async def test_contractor_answers_with_photos_and_supervisor_accepts(app, world) -> None:
    order = await issue_order(app, world)
    photo = jpeg()
    async with browser(app) as b:
        await sign_in(b, world.users["contractor_a"].username)
        listing = await b.get("/portal/orders/")
        assert order.description in listing.text
        page = await b.get(f"/portal/orders/{order.id}")
        assert "整改回复" in page.text
        r = await b.post(
            f"/portal/orders/{order.id}/respond",
            data={"csrf_token": csrf_of(page.text), "text": "已按规范重新搭接", "version": str(order.version)},
            files=[("photos", ("after.jpg", photo, "image/jpeg"))],
        )
        assert r.status_code == 303, r.text
        page = await b.get(r.headers["location"])
        digest = hashlib.sha256(photo).hexdigest()
        assert digest in page.text and "已按规范重新搭接" in page.text
        # the thumbnail comes through the evidence API with the same cookie
        thumb = await b.get(f"/api/v1/evidence/{digest}?size=320")
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    async with browser(app) as s:
        await sign_in(s, world.users["inspector"].username)
        page = await s.get(f"/portal/orders/{order.id}")
        assert "复查通过" in page.text
        r = await s.post(
            f"/portal/orders/{order.id}/accept", data={"csrf_token": csrf_of(page.text), "note": "符合要求"}
        )
        assert r.status_code == 303
        page = await s.get(r.headers["location"])
        assert "已闭合" in page.text
    detail = await app.state.services.rectification.get_order(actor_from(world, "inspector"), order.id)
    assert detail.order.status.value == "closed"
    assert [p.sha256 for p in detail.responses[0].photos] == [digest]


async def test_a_bad_reply_shows_the_form_again_with_the_reason(app, world) -> None:
    order = await issue_order(app, world)
    async with browser(app) as b:
        await sign_in(b, world.users["contractor_a"].username)
        page = await b.get(f"/portal/orders/{order.id}")
        r = await b.post(f"/portal/orders/{order.id}/respond", data={"csrf_token": csrf_of(page.text), "text": "  "})
        assert r.status_code == 422 and "请以文字或照片（或两者）回复" in r.text
        r = await b.post(
            f"/portal/orders/{order.id}/respond",
            data={"csrf_token": csrf_of(page.text), "text": "见照片"},
            files=[("photos", ("note.txt", b"not a photo at all", "text/plain"))],
        )
        assert r.status_code == 415 and "见照片" in r.text


async def test_reject_needs_a_reason_and_sends_it_back(app, world, clock) -> None:
    order = await issue_order(app, world)
    services = app.state.services
    await services.rectification.respond(actor_from(world, "contractor_a"), order.id, rs.RespondBody(text="已整改"))
    async with browser(app) as s:
        await sign_in(s, world.users["inspector"].username)
        page = await s.get(f"/portal/orders/{order.id}")
        token = csrf_of(page.text)
        r = await s.post(f"/portal/orders/{order.id}/reject", data={"csrf_token": token, "reason": "", "deadline": "x"})
        assert r.status_code == 422
        day = (clock.now() + timedelta(days=5)).date().isoformat()
        r = await s.post(
            f"/portal/orders/{order.id}/reject", data={"csrf_token": token, "reason": "搭接仍不足", "deadline": day}
        )
        assert r.status_code == 303
    detail = await services.rectification.get_order(actor_from(world, "inspector"), order.id)
    assert detail.order.status.value == "rejected" and detail.responses[0].review == "rejected"


async def test_another_contractors_order_is_not_found_by_url(app, world) -> None:
    order_a = await issue_order(app, world)
    async with browser(app) as b:
        await sign_in(b, world.users["contractor_b"].username)
        listing = await b.get("/portal/orders/")
        assert order_a.description not in listing.text
        for url in (f"/portal/orders/{order_a.id}",):
            r = await b.get(url)
            assert r.status_code == 404 and "未找到" in r.text
        page = await b.get("/portal/orders/")
        r = await b.post(
            f"/portal/orders/{order_a.id}/respond", data={"csrf_token": csrf_of(page.text), "text": "不是我的"}
        )
        assert r.status_code == 404
        # the office pages and another project's complaints are not theirs either
        r = await b.get(f"/portal/projects/{world.id_of('p1')}/complaints")
        assert r.status_code == 404
    async with browser(app) as o:
        await sign_in(o, world.users["outsider"].username)
        assert (await o.get(f"/portal/orders/{order_a.id}")).status_code == 404
        assert (await o.get(f"/portal/projects/{world.id_of('p1')}")).status_code == 404


async def test_pages_need_sign_in(app, world) -> None:
    """Every portal route but the login page, the public notice pages (with their survey), the
    credit lists and the static files sends a stranger to sign in, whatever the method."""
    public = ("/portal/login", "/portal/notice/", "/portal/static/", "/portal/credit")
    seen = 0
    async with browser(app) as b:
        for route in app.routes:
            if not route.path.startswith("/portal") or route.path.startswith(public):
                continue
            path = re.sub(r"\{\w+:uuid\}", str(world.id_of("p1")), route.path)
            for method in sorted(getattr(route, "methods", set()) - {"OPTIONS", "HEAD"}):
                r = await b.request(method, path)
                assert r.status_code == 303, (method, route.path, r.status_code)
                assert r.headers["location"].startswith("/portal/login") or route.path == "/portal/logout"
                seen += 1
    assert seen >= 10


async def test_alerts_feed_counts_unread_and_marks_read(app, world, clock) -> None:
    order = await issue_order(app, world)
    services = app.state.services
    await services.rectification.escalate(clock.now() + timedelta(days=60))
    async with browser(app) as b:
        await sign_in(b, world.users["inspector"].username)
        page = await b.get("/portal/alerts/")
        feed = await services.rectification.notifications(actor_from(world, "inspector"), unread_only=True)
        assert feed.unread >= 1
        assert f'data-testid="unread">{feed.unread}<' in page.text
        assert f"/portal/orders/{order.id}" in page.text
        r = await b.post("/portal/alerts/read-all", data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 303
        page = await b.get("/portal/alerts/")
        assert 'data-testid="unread"' not in page.text


async def test_public_notice_shows_names_but_no_phone_numbers(app, world) -> None:
    services = app.state.services
    phone = "13912345678"
    from inspection.actor import SYSTEM
    from inspection.projects import schemas as ps
    from inspection.projects.rules import Role

    await services.projects.create_user(
        SYSTEM,
        ps.UserCreate(username="resident-two", display_name="王秀英", password="test-password-42", phone=phone),
    )
    user = await services.projects.get_user_by_name("resident-two")
    await services.projects.add_member(
        SYSTEM, world.id_of("p1"), ps.MembershipCreate(user_id=user.id, role=Role.resident_supervisor)
    )
    async with browser(app) as anyone:
        r = await anyone.get(f"/portal/notice/{world.id_of('site1')}")
        assert r.status_code == 200
        assert "王秀英" in r.text and phone not in r.text
        assert "屋面防水改造" in r.text and world.orgs["contractor_a"].name in r.text
        assert world.users["supervisor"].display_name in r.text
        qr = await anyone.get(f"/portal/notice/{world.id_of('site1')}/qr.svg")
        assert qr.status_code == 200 and qr.text.startswith("<svg")
        poster = await anyone.get(f"/portal/notice/{world.id_of('site1')}/poster")
        assert "<svg" in poster.text and f"/portal/notice/{world.id_of('site1')}" in poster.text


async def test_complaint_lands_for_triage_and_becomes_an_order(app, world) -> None:
    services = app.state.services
    photo = jpeg((30, 90, 160))
    site = world.id_of("site1")
    async with browser(app) as resident:
        r = await resident.post(
            f"/portal/notice/{site}/complaints",
            data={"topic": "quality", "text": "3号楼屋面漏水，雨后楼道积水", "contact": "13800000000"},
            files=[("photos", ("leak.jpg", photo, "image/jpeg"))],
        )
        assert r.status_code == 200 and "受理编号" in r.text
        # the receipt page shows nothing of the complaint's words or contact
        assert "13800000000" not in r.text and "雨后楼道积水" not in r.text
        again = await resident.get(f"/portal/notice/{site}")
        assert "雨后楼道积水" not in again.text
    async with browser(app) as b:
        await sign_in(b, world.users["supervisor"].username)
        listing = await b.get(f"/portal/projects/{world.id_of('p1')}/complaints")
        assert "雨后楼道积水" in listing.text
        page = await services.complaints.list_complaints(actor_from(world, "supervisor"), world.id_of("p1"))
        complaint = page.items[0]
        assert complaint.contact == "13800000000" and len(complaint.photos) == 1
        detail = await b.get(f"/portal/complaints/{complaint.id}")
        assert "13800000000" in detail.text
        # the resident's photo says whose it is; each work item is listed once, with its building
        assert 'alt="居民上传的照片 1"' in detail.text
        assert detail.text.count(f'value="{world.id_of("work_a")}"') == 1 and "1号楼 · 屋面防水改造" in detail.text
        assert 'type="date" name="deadline"' in detail.text
        triage = {
            "csrf_token": csrf_of(detail.text),
            "move": "order",
            "work_item_id": str(world.id_of("work_a")),
            "kind": "quality",
            "severity": "general",
            "description": "核查3号楼屋面渗漏并修复",
        }
        # a deadline past the rule's without a reason is refused, and the form keeps what was typed
        far = await b.post(f"/portal/complaints/{complaint.id}/triage", data={**triage, "deadline": local_day(105)})
        assert far.status_code == 422 and f'value="{local_day(105)}"' in far.text
        assert "核查3号楼屋面渗漏并修复" in far.text
        r = await b.post(f"/portal/complaints/{complaint.id}/triage", data={**triage, "deadline": local_day(2)})
        assert r.status_code == 303 and "/portal/orders/" in r.headers["location"]
    handled = await services.complaints.get_complaint(actor_from(world, "supervisor"), complaint.id)
    assert handled.status.value == "ordered" and handled.order_id is not None
    order = await services.rectification.get_order(actor_from(world, "contractor_a"), handled.order_id)
    assert order.order.source.value == "complaint" and order.order.source_id == complaint.id
    assert order.order.deadline is not None
    tz = services.rectification.book.calendar.tz
    assert order.order.deadline.astimezone(tz).strftime("%Y-%m-%d %H:%M") == f"{local_day(2)} 23:59"
    assert [p.sha256 for p in order.order.photos] == complaint.photos
    # the contractor sees the order, never the complaint or the resident's contact
    async with browser(app) as c:
        await sign_in(c, world.users["contractor_a"].username)
        page = await c.get(f"/portal/orders/{handled.order_id}")
        assert page.status_code == 200 and "13800000000" not in page.text
        assert (await c.get(f"/portal/complaints/{complaint.id}")).status_code == 404


async def test_complaint_dismissed_with_a_reason(app, world) -> None:
    services = app.state.services
    from inspection.complaints.schemas import ComplaintIn

    receipt = await services.complaints.submit(world.id_of("site1"), ComplaintIn(text="施工噪音太大影响休息"))
    page = await services.complaints.list_complaints(actor_from(world, "supervisor"), world.id_of("p1"))
    complaint = page.items[0]
    assert complaint.reference == receipt.reference
    async with browser(app) as b:
        await sign_in(b, world.users["supervisor"].username)
        detail = await b.get(f"/portal/complaints/{complaint.id}")
        token = csrf_of(detail.text)
        r = await b.post(
            f"/portal/complaints/{complaint.id}/triage", data={"csrf_token": token, "move": "dismiss", "reason": ""}
        )
        assert r.status_code == 422
        r = await b.post(
            f"/portal/complaints/{complaint.id}/triage",
            data={"csrf_token": token, "move": "dismiss", "reason": "白天施工时段内，已提醒施工单位控制噪音"},
        )
        assert r.status_code == 303
        r = await b.post(
            f"/portal/complaints/{complaint.id}/triage",
            data={"csrf_token": token, "move": "dismiss", "reason": "again"},
        )
        assert r.status_code == 409
    handled = await services.complaints.get_complaint(actor_from(world, "supervisor"), complaint.id)
    assert handled.status.value == "dismissed" and "噪音" in handled.dismiss_reason


async def test_complaints_are_rate_limited_per_address(app, world) -> None:
    site = world.id_of("site1")
    async with browser(app) as resident:
        for i in range(5):
            r = await resident.post(
                f"/portal/notice/{site}/complaints", data={"topic": "other", "text": f"第{i}条意见：路面不平"}
            )
            assert r.status_code == 200, r.text
        r = await resident.post(
            f"/portal/notice/{site}/complaints", data={"topic": "other", "text": "第六条意见：路面不平"}
        )
        assert r.status_code == 429 and "Retry-After" in r.headers
    page = await app.state.services.complaints.list_complaints(actor_from(world, "supervisor"), world.id_of("p1"))
    assert page.total == 5


@pytest.mark.parametrize("url", ["/portal/notice/00000000-0000-7000-8000-000000000000", "/portal/notice/not-a-uuid"])
async def test_unknown_site_has_no_notice(app, url: str) -> None:
    async with browser(app) as anyone:
        r = await anyone.get(url)
        assert r.status_code == 404


async def test_the_session_refreshes_before_the_access_token_expires(app, world, clock) -> None:
    async with browser(app) as b:
        await sign_in(b, world.users["supervisor"].username)
        first = b.cookies.get("si_session")
        clock.advance(timedelta(minutes=11))  # access tokens last 15 minutes; refreshed in the last 5
        page = await b.get("/portal/")
        assert page.status_code == 200
        assert any(c.startswith("si_session=") for c in page.headers.get_list("set-cookie"))
        assert b.cookies.get("si_session") != first
        clock.advance(timedelta(minutes=11))  # the first pair is long dead; the rotated one carries on
        assert (await b.get("/portal/orders/")).status_code == 200
        # a stolen copy of the first cookie no longer signs anyone in
        async with browser(app) as thief:
            thief.cookies.set("si_session", first or "", domain="127.0.0.1")
            r = await thief.get("/portal/")
            assert r.status_code == 303 and "/portal/login" in r.headers["location"]


async def test_the_cookie_reads_through_the_api_but_never_writes(app, world) -> None:
    order = await issue_order(app, world)
    async with browser(app) as b:
        await sign_in(b, world.users["contractor_a"].username)
        r = await b.get(f"/api/v1/rectification/orders/{order.id}")
        assert r.status_code == 200
        r = await b.post(f"/api/v1/rectification/orders/{order.id}/respond", json={"text": "by cookie"})
        assert r.status_code == 401


async def test_next_after_sign_in_stays_on_this_site(app, world) -> None:
    async with browser(app) as b:
        page = await b.get("/portal/login?next=https://evil.example/x")
        assert 'name="next" value="/portal/"' in page.text
        page = await b.get("/portal/login?next=//evil.example/x")
        assert 'name="next" value="/portal/"' in page.text


async def test_office_filters_orders_by_contractor(app, world) -> None:
    order_a = await issue_order(app, world)
    order_b = await issue_order(app, world, description="雨水管道接口渗漏", contractor="work_b")
    async with browser(app) as b:
        await sign_in(b, world.users["supervisor"].username)
        home = await b.get("/portal/")
        assert f"/portal/orders/?contractor_id={world.orgs['contractor_b'].id}" in home.text
        page = await b.get("/portal/orders/", params={"contractor_id": str(world.orgs["contractor_b"].id)})
        assert order_b.description in page.text and order_a.description not in page.text
        assert world.orgs["contractor_b"].name in page.text
