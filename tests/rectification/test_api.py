"""The rectification API over HTTP: moves, problem JSON for illegal moves and bad input,
contractor isolation, lists, counts, stops and the notification feed."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.factories import World, login
from tests.rectification.helpers import announce, row_counts, store

BASE = "/api/v1/rectification"


def _problem(r: httpx.Response, status: int, field: str | None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["type"].startswith("urn:siteinspect:problem:") and body["detail"]
    if field is not None:
        assert body["field"] == field, body
    return body


async def _travel(world: World, clock, to: datetime) -> None:  # type: ignore[no-untyped-def]
    """Move the server's clock; access tokens last 15 minutes, so sign in again."""
    clock.set(to)
    for who, user in world.users.items():
        world.tokens[who] = (await login(world.client, user.username))["access_token"]


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


async def _issued(world: World, **overrides: Any) -> dict[str, Any]:
    r = await world.post("inspector", f"{BASE}/orders", _order(world, **overrides))
    assert r.status_code == 201, r.text
    return r.json()["order"]  # type: ignore[no-any-return]


async def test_order_life_over_http(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    order = await _issued(world)
    oid = order["id"]
    assert order["status"] == "issued" and order["overdue"] is False
    r = await world.post("contractor_a", f"{BASE}/orders/{oid}/accept", {})
    _problem(r, 403, None)
    photo = await announce(world, clock, "修复后.jpg", org="contractor_a", stored=True)
    r = await world.post("contractor_a", f"{BASE}/orders/{oid}/respond", {"text": "已补设连墙件", "photos": [photo]})
    assert r.status_code == 200, r.text
    assert r.json()["responses"][0]["photos"][0] == {
        "sha256": photo,
        "status": "stored",
        "pending": False,
        "content_type": "image/jpeg",
    }
    version = r.json()["order"]["version"]
    r = await world.post(
        "inspector",
        f"{BASE}/orders/{oid}/reject",
        {"version": version, "reason": "数量不足", "deadline": (clock.now() + timedelta(days=1)).isoformat()},
    )
    assert r.status_code == 200 and r.json()["order"]["status"] == "rejected"
    r = await world.post("contractor_a", f"{BASE}/orders/{oid}/respond", {"text": "已全部补设"})
    r = await world.post("supervisor", f"{BASE}/orders/{oid}/accept", {"note": "复查合格"})
    assert r.status_code == 200 and r.json()["order"]["status"] == "closed"
    body = _problem(await world.post("contractor_a", f"{BASE}/orders/{oid}/respond", {"text": "again"}), 409, "status")
    assert body["current_state"] == "closed" and body["type"].endswith("invalid-transition")
    r = await world.get("contractor_a", f"{BASE}/orders/{oid}")
    assert [e["action"] for e in r.json()["history"]] == ["issue", "respond", "reject", "respond", "accept"]
    _problem(await world.post("inspector", f"{BASE}/orders/{oid}/cancel", {"reason": "x"}), 409, "status")


async def test_bad_input_names_the_field_and_writes_nothing(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    issued = await _issued(world)
    closed = await _issued(world)
    await world.post("contractor_a", f"{BASE}/orders/{closed['id']}/respond", {"text": "ok"})
    await world.post("inspector", f"{BASE}/orders/{closed['id']}/accept", {})
    past = (clock.now() - timedelta(hours=2)).isoformat()
    cases = [
        ("create", _order(world, deadline=past), 422, "deadline"),
        ("create", _order(world, contractor_id=str(world.orgs["supervisor"].id)), 422, "contractor_id"),
        ("create", _order(world, photos=["c" * 64]), 422, "photos"),
        ("create", _order(world, photos=["not-a-hash"]), 400, "photos[0]"),
        ("create", _order(world, kind="fire"), 400, "kind"),
        ("create", _order(world, colour="red"), 400, "colour"),
        ("create", _order(world, description=""), 400, "description"),
        ("respond", {"text": ""}, 422, "text"),
        ("respond", {"text": "x", "photos": ["d" * 64]}, 422, "photos"),
        ("respond-closed", {"text": "x"}, 409, "status"),
        ("reject", {"reason": "x"}, 400, "deadline"),
        ("cancel", {}, 400, "reason"),
        ("cancel", {"reason": ""}, 400, "reason"),
    ]
    urls = {
        "create": f"{BASE}/orders",
        "respond": f"{BASE}/orders/{issued['id']}/respond",
        "respond-closed": f"{BASE}/orders/{closed['id']}/respond",
        "reject": f"{BASE}/orders/{issued['id']}/reject",
        "cancel": f"{BASE}/orders/{issued['id']}/cancel",
    }
    for what, body, status, field in cases:
        who = "contractor_a" if what.startswith("respond") else "inspector"
        before = await row_counts()
        _problem(await world.post(who, urls[what], body), status, field)
        assert await row_counts() == before, (what, body)
    _problem(await world.get("inspector", f"{BASE}/orders/not-a-uuid"), 400, "order_id")
    _problem(await world.get("inspector", f"{BASE}/orders", params={"status": "lost"}), 400, "status")


async def test_contractor_isolation_over_http(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    mine = await _issued(world)
    theirs = await _issued(world, work_item_id=str(world.id_of("work_b")))
    r = await world.get("contractor_a", f"{BASE}/orders")
    assert [o["id"] for o in r.json()["items"]] == [mine["id"]]
    for path in (f"{BASE}/orders/{theirs['id']}",):
        _problem(await world.get("contractor_a", path), 404, None)
        _problem(await world.get("outsider", path), 404, None)
    _problem(await world.post("contractor_a", f"{BASE}/orders/{theirs['id']}/respond", {"text": "x"}), 404, None)
    # asking for the other contractor's orders by filter gives nothing, not an error
    r = await world.get("contractor_a", f"{BASE}/orders", params={"contractor_id": str(world.orgs["contractor_b"].id)})
    assert r.json()["total"] == 0
    _problem(await world.post("contractor_a", f"{BASE}/orders", _order(world)), 403, None)
    _problem(await world.post("outsider", f"{BASE}/orders", _order(world)), 404, None)


async def test_list_filters_and_counts(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    start = clock.now()
    safety = await _issued(world)  # 3 days
    quality = await _issued(world, kind="quality", severity="major")  # 3 days
    draft = (await world.post("inspector", f"{BASE}/orders", _order(world, issue=False, kind="warranty"))).json()
    await _travel(world, clock, start + timedelta(days=5))
    r = await world.get("owner", f"{BASE}/orders", params={"overdue": "true"})
    assert {o["id"] for o in r.json()["items"]} == {safety["id"], quality["id"]}
    r = await world.get("owner", f"{BASE}/orders", params={"status": "draft"})
    assert [o["id"] for o in r.json()["items"]] == [draft["order"]["id"]]
    r = await world.get("owner", f"{BASE}/orders", params={"kind": "quality", "severity": "major"})
    assert [o["id"] for o in r.json()["items"]] == [quality["id"]]
    r = await world.get(
        "owner", f"{BASE}/orders", params={"due_before": (start + timedelta(days=10)).isoformat(), "limit": 1}
    )
    assert r.json()["total"] == 2 and len(r.json()["items"]) == 1
    # a plain date takes its whole day in (Beijing time); a bare number is no time at all (found by
    # `make fuzz`: query strings are read leniently, and 1.4e-98 passed as 1970-01-01)
    due_day = datetime.fromisoformat(safety["deadline"]).astimezone(ZoneInfo("Asia/Shanghai")).date()
    r = await world.get("owner", f"{BASE}/orders", params={"due_before": due_day.isoformat()})
    assert r.status_code == 200 and r.json()["total"] == 2, r.text
    r = await world.get("owner", f"{BASE}/orders", params={"due_before": (due_day - timedelta(days=1)).isoformat()})
    assert r.status_code == 200 and r.json()["total"] == 0, r.text
    r = await world.get("owner", f"{BASE}/orders", params={"due_before": "1.4226898516725138e-98"})
    assert "due_before" in _problem(r, r.status_code, None)["detail"] + str(r.json().get("errors")), r.text
    assert r.status_code in (400, 422)
    r = await world.get("owner", f"{BASE}/orders", params={"project_id": str(world.id_of("p1")), "overdue": "false"})
    assert [o["id"] for o in r.json()["items"]] == [draft["order"]["id"]]
    _problem(await world.get("outsider", f"{BASE}/orders", params={"project_id": str(world.id_of("p1"))}), 404, None)
    r = await world.get("supervisor", f"{BASE}/counts", params={"project_id": str(world.id_of("p1"))})
    assert r.status_code == 200
    totals = r.json()["totals"]
    assert (totals["open"], totals["overdue"], totals["drafts"]) == (2, 2, 1)
    assert r.json()["contractors"][0]["contractor_id"] == str(world.orgs["contractor_a"].id)


async def test_stop_and_resume_over_http(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    order = await _issued(world, kind="stop_work", severity="major")
    oid, p1 = order["id"], str(world.id_of("p1"))
    r = await world.get("inspector", f"{BASE}/stops", params={"project_id": p1, "active": "true"})
    assert [st["order_id"] for st in r.json()["items"]] == [oid]
    _problem(await world.post("inspector", f"{BASE}/orders/{oid}/resume", {}), 409, "status")
    await world.post("contractor_a", f"{BASE}/orders/{oid}/respond", {"text": "已整改,申请复工"})
    await world.post("inspector", f"{BASE}/orders/{oid}/accept", {})
    _problem(await world.post("contractor_a", f"{BASE}/orders/{oid}/resume", {}), 403, None)
    r = await world.post("inspector", f"{BASE}/orders/{oid}/resume", {"note": "同意复工"})
    assert r.status_code == 200 and r.json()["stops"][0]["active"] is False
    r = await world.get("contractor_a", f"{BASE}/stops", params={"project_id": p1})
    assert len(r.json()["items"]) == 1
    assert (await world.get("contractor_b", f"{BASE}/stops", params={"project_id": p1})).json()["items"] == []
    r = await world.get("inspector", f"{BASE}/stops", params={"project_id": p1, "active": "true"})
    assert r.json()["items"] == []


async def test_pending_photos_block_acceptance_over_http(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    order = await _issued(world)
    photo = await announce(world, clock, "pending.jpg", org="contractor_a")
    await world.post("contractor_a", f"{BASE}/orders/{order['id']}/respond", {"photos": [photo]})
    r = await world.get("inspector", f"{BASE}/orders/{order['id']}")
    assert r.json()["responses"][0]["photos"][0]["pending"] is True
    body = _problem(await world.post("inspector", f"{BASE}/orders/{order['id']}/accept", {}), 409, "photos")
    assert body["pending"] == [photo]
    await store(photo)
    assert (await world.post("inspector", f"{BASE}/orders/{order['id']}/accept", {})).status_code == 200


async def test_accept_and_cancel_at_once_over_http(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    order = await _issued(world)
    await world.post("contractor_a", f"{BASE}/orders/{order['id']}/respond", {"text": "已整改"})
    results = await asyncio.gather(
        world.post("inspector", f"{BASE}/orders/{order['id']}/accept", {}),
        world.post("supervisor", f"{BASE}/orders/{order['id']}/cancel", {"reason": "重复"}),
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    loser = next(r for r in results if r.status_code == 409).json()
    winner = next(r for r in results if r.status_code == 200).json()
    assert loser["current_state"] == winner["order"]["status"]


async def test_notification_feed(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    order = await _issued(world)
    r = await world.get("inspector", f"{BASE}/orders/{order['id']}")
    deadline = r.json()["order"]["deadline"]
    await _travel(world, clock, datetime.fromisoformat(deadline) + timedelta(hours=1))
    report = await world.services.rectification.escalate()
    assert report.notifications_created == 2
    feed = (await world.get("owner", "/api/v1/notifications")).json()
    assert feed["unread"] == 1 and feed["items"][0]["subject_id"] == order["id"]
    nid = feed["items"][0]["id"]
    _problem(await world.post("contractor_a", f"/api/v1/notifications/{nid}/read"), 404, None)
    r = await world.post("owner", f"/api/v1/notifications/{nid}/read")
    assert r.status_code == 200 and r.json()["read_at"] is not None
    assert (await world.get("owner", "/api/v1/notifications", params={"unread": "true"})).json()["total"] == 0
    # the contractor heard of the order when it was issued, and of no escalation
    mine = (await world.get("contractor_a", "/api/v1/notifications")).json()["items"]
    assert [n["kind"] for n in mine] == ["order_issued"]


async def test_readers_cannot_move(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    order = await _issued(world)
    for who in ("viewer", "resident", "owner", "authority"):
        assert (await world.get(who, f"{BASE}/orders/{order['id']}")).status_code == 200
        _problem(await world.post(who, f"{BASE}/orders/{order['id']}/cancel", {"reason": "x"}), 403, None)
