"""周报: orders new, closed and overdue in the week, per contractor; progress by site; a programme
of several projects; a contractor's copy shows its own orders only."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from inspection.actor import SYSTEM
from inspection.projects import schemas as ps
from inspection.rectification import schemas as rs
from inspection.rectification.rules import OrderKind, Severity
from inspection.reports import rules
from tests.factories import World
from tests.rectification.helpers import actor_of, create_body
from tests.reports.helpers import pdf_text, squeeze


async def _week_of_orders(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    """Last week: an order to A that is overdue by now. This week: one to A answered and closed,
    one to B still open, and a stop-work order to A on the site."""
    svc = world.services.rectification
    inspector, contractor_a = actor_of(world, "inspector"), actor_of(world, "contractor_a")
    now = clock.now()
    clock.set(now - timedelta(days=10))
    await svc.create_order(inspector, create_body(world, issue=True, description="上周：落水管未安装到位"))
    # two hours ago, but never before this week began (Monday 00:00 Beijing time): on a Monday just
    # after midnight two hours ago was last week
    monday, _ = rules.week_of(rules.local_day(now))
    week_began = datetime.combine(monday, time(0), ZoneInfo("Asia/Shanghai"))
    clock.set(max(now - timedelta(hours=2), week_began + timedelta(minutes=1)))
    done = await svc.create_order(inspector, create_body(world, issue=True, description="本周：女儿墙泛水高度不足"))
    await svc.respond(contractor_a, done.order.id, rs.RespondBody(text="已加高泛水"))
    await svc.accept(inspector, done.order.id, rs.AcceptBody())
    await svc.create_order(
        inspector,
        create_body(world, issue=True, work_item_id=world.id_of("work_b"), description="本周：雨水管接口渗漏"),
    )
    await svc.create_order(
        inspector,
        create_body(
            world,
            issue=True,
            kind=OrderKind.stop_work,
            severity=Severity.major,
            description="本周：脚手架未设连墙件，立即停工",
        ),
    )
    clock.set(now)


async def test_project_weekly(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    await _week_of_orders(world, clock)
    url = f"/api/v1/reports/projects/{world.id_of('p1')}/weekly.pdf"
    r = await world.get("supervisor", url)
    assert r.status_code == 200, r.text
    assert r.headers["x-document-number"].startswith("ZB-")
    text = squeeze(pdf_text(r.content))
    monday, sunday = rules.week_of(rules.local_day(clock.now()))
    for expected in [
        "工程质量安全周报",
        f"统计周期：{monday.year}年{monday.month}月{monday.day}日至{sunday.year}年{sunday.month}月{sunday.day}日",
        "整改通知单情况",
        "本周：女儿墙泛水高度不足",
        "本周：雨水管接口渗漏",
        "上周：落水管未安装到位",  # in the overdue list
        world.orgs["contractor_a"].name,
        world.orgs["contractor_b"].name,
        "各小区进度",
        world.site1.name,  # type: ignore[union-attr]
    ]:
        assert squeeze(expected) in text, expected
    # the one from last week is not among this week's new ones; the new-orders table has three rows
    new_part = text.split("二、本周新签发的整改通知单")[1].split("三、超期未整改")[0]
    assert "上周：落水管未安装到位" not in new_part
    assert new_part.count("本周：") == 3
    # summary: 3 new, 1 closed, 1 overdue, 3 not closed (B's, the stop-work, last week's)
    assert "本周新签发本周闭合超期未整改尚未闭合3113" in text


async def test_contractor_sees_its_own_orders_only(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    await _week_of_orders(world, clock)
    r = await world.get("contractor_b", f"/api/v1/reports/projects/{world.id_of('p1')}/weekly.pdf")
    assert r.status_code == 200, r.text
    text = squeeze(pdf_text(r.content))
    assert "本周：雨水管接口渗漏" in text
    assert "女儿墙" not in text and "落水管" not in text and world.orgs["contractor_a"].name not in text
    r = await world.get("outsider", f"/api/v1/reports/projects/{world.id_of('p1')}/weekly.pdf")
    assert r.status_code == 404


async def test_past_week_and_bad_weeks(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    await _week_of_orders(world, clock)
    url = f"/api/v1/reports/projects/{world.id_of('p1')}/weekly.pdf"
    last_week = (rules.local_day(clock.now()) - timedelta(days=7)).isoformat()
    r = await world.get("owner", url, params={"week": last_week})
    assert r.status_code == 200
    text = squeeze(pdf_text(r.content))
    assert "上周：落水管未安装到位" in text.split("二、本周新签发的整改通知单")[1]
    assert "本周：" not in text
    future = (rules.local_day(clock.now()) + timedelta(days=14)).isoformat()
    r = await world.get("owner", url, params={"week": future})
    assert r.status_code == 422 and r.json()["field"] == "week"
    assert (await world.get("owner", url, params={"week": "not-a-date"})).status_code == 400


async def test_programme_weekly(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    await _week_of_orders(world, clock)
    district = "示范区"
    for project in (world.p1, world.p2):
        assert project is not None
        current = await world.services.projects.get_project(SYSTEM, project.id)
        await world.services.projects.update_project(
            SYSTEM, project.id, ps.ProjectUpdate(version=current.version, district=district)
        )
    url = "/api/v1/reports/programmes/weekly.pdf"
    r = await world.get("owner", url, params={"district": district, "year": 2026})
    assert r.status_code == 200, r.text
    text = squeeze(pdf_text(r.content))
    assert "工程质量安全周报" in text and "范围：示范区2026年老旧小区改造，一号改造项目" in text
    assert "一号改造项目" in text and "二号改造项目" not in text  # the owner of P1 is no member of P2
    r = await world.get("outsider", url, params={"district": district, "year": 2026})
    assert r.status_code == 200
    assert "一号改造项目" not in squeeze(pdf_text(r.content))
    r = await world.get("owner", url, params={"district": "别的区", "year": 2026})
    assert r.status_code == 404
    assert (await world.get("owner", url, params={"year": 2026})).status_code == 400
