"""Problem answers speak Chinese unless the request prefers English; the type and field never change."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx

from tests.factories import World
from tests.instant import local_day

ORDERS = "/api/v1/rectification/orders"
EN = {"Accept-Language": "en-US;q=1, zh;q=0.5"}


def _problem(r: httpx.Response, status: int, slug: str, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["type"] == f"urn:siteinspect:problem:{slug}"
    if field is not None:
        assert body["field"] == field and body["errors"][0]["field"] == field, body
    return body


def _order(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "project_id": str(world.id_of("p1")),
        "work_item_id": str(world.id_of("work_a")),
        "kind": "safety",
        "severity": "general",
        "description": "脚手架连墙件缺失",
        "issue": True,
        **overrides,
    }


async def test_a_missing_record_in_either_language(world: World) -> None:
    url = f"{ORDERS}/{uuid4()}"
    zh = _problem(await world.get("inspector", url), 404, "not-found")
    assert (zh["title"], zh["detail"]) == ("未找到", "整改单不存在")
    en = _problem(await world.client.get(url, headers={**world.headers("inspector"), **EN}), 404, "not-found")
    assert en["title"] == "Not found" and en["detail"].startswith("order ") and "does not exist" in en["detail"]
    route = _problem(await world.get("inspector", "/api/v1/no-such-thing"), 404, "not-found")
    assert route["detail"] == "没有这个地址"


async def test_decoding_errors_name_the_field_in_chinese(world: World) -> None:
    url = f"/api/v1/projects/{world.id_of('p1')}/sites"
    body = {"name": "甲小区", "households": "many"}
    zh = _problem(await world.post("owner", url, body), 400, "validation", "households")
    assert zh["title"] == "请求内容有误" and zh["errors"][0]["message"] == "应为整数，实际为文字"
    assert zh["detail"] == "households：应为整数，实际为文字"
    en = _problem(await world.client.post(url, json=body, headers={**world.headers("owner"), **EN}), 400, "validation")
    assert en["errors"][0]["message"] == "expected an integer, got a string"
    missing = _problem(await world.post("owner", url, {"households": 3}), 400, "validation", "name")
    assert missing["errors"][0]["message"] == "缺少必填字段 name"


async def test_a_deadline_may_be_a_plain_date(world: World) -> None:
    """A date is the end of that day where the programme is (Asia/Shanghai), not midnight UTC."""
    r = await world.post("inspector", ORDERS, _order(world, deadline=local_day(3)))
    assert r.status_code == 201, r.text
    deadline = datetime.fromisoformat(r.json()["order"]["deadline"])
    assert deadline == datetime.combine(date.fromisoformat(local_day(3)), time(23, 59, 59), ZoneInfo("Asia/Shanghai"))
    bad = _problem(await world.post("inspector", ORDERS, _order(world, deadline="20.12.2026")), 400, "validation")
    assert bad["field"] == "deadline" and "不是有效的期限" in bad["errors"][0]["message"]
    late = _problem(await world.post("inspector", ORDERS, _order(world, deadline=local_day(14))), 422, "validation")
    assert late["detail"] == f"期限晚于规定允许的 {local_day(3)} 23:59，请填写延长理由（deadline_reason）"
    impossible = _problem(
        await world.post("inspector", ORDERS, _order(world, deadline="2026-02-30")), 422, "validation"
    )
    assert impossible["field"] == "deadline" and impossible["title"] == "填写有误"


async def test_a_refused_move_and_the_sign_in_limit_in_chinese(world: World) -> None:
    r = await world.post("inspector", ORDERS, _order(world))
    oid = r.json()["order"]["id"]
    refused = _problem(await world.post("contractor_a", f"{ORDERS}/{oid}/accept", {}), 403, "forbidden")
    assert refused["title"] == "无权进行此操作" and "施工单位" in refused["detail"]
    name = world.users["viewer"].username
    for _ in range(10):
        r = await world.client.post(
            "/api/v1/auth/login", json={"username": name, "password": "Wrong-pass-99", "device_id": "d"}
        )
        if r.status_code == 429:
            break
        assert _problem(r, 401, "unauthorized")["detail"] == "用户名或密码错误"
    limited = _problem(r, 429, "rate-limited")
    assert (limited["title"], limited["detail"]) == ("操作过于频繁", "登录失败次数过多，请稍后再试")
    assert int(r.headers["retry-after"]) > 0
