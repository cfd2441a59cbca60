"""One 整改通知单 per inspection and contractor over HTTP: the drafts of an inspection issued together
under one number and one deadline, refused whole when mixed or not allowed, issued once when two
people click at the same moment, numbered in the one ZGTZ sequence, printed as one document, and
told to the contractor's people once."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from inspection.checklists.catalogue import import_shipped
from inspection.clock import FixedClock
from inspection.notifications.outbox_tables import Notification
from inspection.projects.rules import WorkType
from inspection.rectification.tables import RectificationNotice
from inspection.reports.tables import IssuedDocument
from tests.checklists.helpers import work_item
from tests.factories import World
from tests.instant import local_day
from tests.rectification.helpers import actor_of, failed_roof, row_counts
from tests.reports.helpers import pdf_text

BASE = "/api/v1/rectification"
NUMBER = re.compile(r"ZGTZ-\d{4}-\d{5}")
# deadlines typed as dates: within the rule (a few days on), and past it (half a year on)
DUE = local_day(4)
FAR = local_day(196)


@pytest.fixture(autouse=True)
async def templates(clock: FixedClock) -> None:
    await import_shipped(clock)


def _problem(r: httpx.Response, status: int, field: str | None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    if field is not None:
        assert body["field"] == field, body
    return body


async def _lone(world: World, description: str, issue: bool = False) -> str:
    """An order opened by hand on contractor A's roof work (no inspection behind it)."""
    body = {
        "project_id": str(world.id_of("p1")),
        "work_item_id": str(world.id_of("work_a")),
        "kind": "quality",
        "description": description,
        "issue": issue,
    }
    r = await world.post("inspector", f"{BASE}/orders", body)
    assert r.status_code == 201, r.text
    return r.json()["order"]["id"]  # type: ignore[no-any-return]


async def _counts() -> dict[str, int]:
    return {
        **await row_counts(),
        "notices": await RectificationNotice.count(),
        "numbers": await IssuedDocument.count(),
    }


async def _issued_notifications(subject_ids: list[Any]) -> list[dict[str, Any]]:
    return await Notification.select().where(  # type: ignore[no-any-return]
        (Notification.kind == "order_issued") & Notification.subject_id.is_in(subject_ids)
    )


async def test_drafts_go_out_as_one_notice_with_one_number_and_deadline(world: World, clock: FixedClock) -> None:
    body = await failed_roof(world, clock)
    ids = [o["id"] for o in body["orders"]]
    r = await world.post("supervisor", f"{BASE}/notices", {"order_ids": ids, "deadline": DUE})
    assert r.status_code == 201, r.text
    notice = r.json()["notice"]
    assert NUMBER.fullmatch(notice["number"])
    # a plain date is the end of that day where the programme is (Asia/Shanghai)
    assert notice["deadline"] in (f"{DUE}T15:59:59Z", f"{DUE}T15:59:59+00:00")
    assert notice["inspection_id"] == body["inspection"]["id"]
    assert notice["contractor_id"] == str(world.orgs["contractor_a"].id)
    listed = r.json()["orders"]
    assert sorted(o["id"] for o in listed) == sorted(ids)
    for o in listed:
        assert o["status"] == "issued" and o["notice_id"] == notice["id"] and o["notice_number"] == notice["number"]
        assert o["deadline"] == notice["deadline"]
    # each order reads its notice's number; the notice reads for whoever may read its orders
    one = (await world.get("contractor_a", f"{BASE}/orders/{ids[0]}")).json()["order"]
    assert one["notice_number"] == notice["number"]
    for who in ("supervisor", "inspector", "owner", "contractor_a"):
        got = await world.get(who, f"{BASE}/notices/{notice['id']}")
        assert got.status_code == 200 and got.json()["notice"]["number"] == notice["number"], who
    for who in ("contractor_b", "outsider"):
        _problem(await world.get(who, f"{BASE}/notices/{notice['id']}"), 404, None)
    # the contractor's people hear once, about the notice, not once per item
    told = await _issued_notifications([UUID(notice["id"]), *[UUID(i) for i in ids]])
    managers = {world.users["contractor_a"].id}
    assert len(told) == len(managers) and {n["recipient_user"] for n in told} == managers
    assert told[0]["subject_table"] == "rectification_notice"
    assert notice["number"] in told[0]["message"] and "共 2 项" in told[0]["message"]
    assert f"{DUE} 23:59" in told[0]["message"] and "+00:00" not in told[0]["message"]


async def test_bad_requests_name_the_field_and_write_nothing(world: World, clock: FixedClock) -> None:
    body = await failed_roof(world, clock)
    ids = [o["id"] for o in body["orders"]]
    manual = await _lone(world, "现场巡查发现的问题")  # a draft, but not an inspection's
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"order_ids": ids}, 400, "deadline"),
        ({"order_ids": [], "deadline": DUE}, 400, "order_ids"),
        ({"order_ids": ids, "deadline": "2026-13-40"}, 422, "deadline"),
        ({"order_ids": [ids[0], ids[0]], "deadline": DUE}, 422, "order_ids"),
        ({"order_ids": [*ids, str(UUID(int=7))], "deadline": DUE}, 404, "order_ids"),
        # past the rule's deadline without a reason
        ({"order_ids": ids, "deadline": FAR}, 422, "deadline_reason"),
        # an order not raised by an inspection goes out alone
        ({"order_ids": [*ids, manual], "deadline": DUE}, 422, "order_ids"),
    ]
    for request, status, field in cases:
        before = await _counts()
        _problem(await world.post("supervisor", f"{BASE}/notices", request), status, field)
        assert await _counts() == before, request
    after = [(await world.get("supervisor", f"{BASE}/orders/{i}")).json()["order"]["status"] for i in ids]
    assert after == ["draft", "draft"]


async def test_mixing_inspections_or_contractors_is_refused(world: World, clock: FixedClock) -> None:
    first = await failed_roof(world, clock)
    second = await failed_roof(world, clock)
    roof_b = await work_item(world, WorkType.roof_waterproofing, "contractor_b")
    theirs = await failed_roof(world, clock, roof_b)
    for other in (second, theirs):
        before = await _counts()
        ids = [first["orders"][0]["id"], other["orders"][0]["id"]]
        _problem(
            await world.post("supervisor", f"{BASE}/notices", {"order_ids": ids, "deadline": DUE}),
            422,
            "order_ids",
        )
        assert await _counts() == before


async def test_only_issuers_may_issue_a_notice(world: World, clock: FixedClock) -> None:
    body = await failed_roof(world, clock)
    request = {"order_ids": [o["id"] for o in body["orders"]], "deadline": DUE}
    before = await _counts()
    # a contractor never sees drafts, an outsider not the project: both as if they did not exist
    _problem(await world.post("contractor_a", f"{BASE}/notices", request), 404, "order_ids")
    _problem(await world.post("outsider", f"{BASE}/notices", request), 404, "order_ids")
    _problem(await world.post("viewer", f"{BASE}/notices", request), 403, None)
    assert await _counts() == before
    r = await world.post("inspector", f"{BASE}/notices", request)
    assert r.status_code == 201, r.text
    # issued: not again, as a notice or alone
    _problem(await world.post("inspector", f"{BASE}/notices", request), 409, "order_ids")
    _problem(await world.post("inspector", f"{BASE}/orders/{request['order_ids'][0]}/issue", {}), 409, "status")


async def test_two_people_issuing_the_same_drafts_at_once_make_one_notice(world: World, clock: FixedClock) -> None:
    body = await failed_roof(world, clock)
    request = {"order_ids": [o["id"] for o in body["orders"]], "deadline": DUE}
    answers = await asyncio.gather(
        world.post("supervisor", f"{BASE}/notices", request), world.post("inspector", f"{BASE}/notices", request)
    )
    assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
    assert await RectificationNotice.count() == 1
    assert await IssuedDocument.count() == 1
    loser = next(r for r in answers if r.status_code == 409)
    _problem(loser, 409, None)


async def test_one_sequence_for_lone_and_grouped_notices(world: World, clock: FixedClock) -> None:
    lone_id = await _lone(world, "女儿墙泛水高度不足", issue=True)
    pdf = await world.get("inspector", f"/api/v1/reports/rectification/{lone_id}.pdf")
    assert pdf.status_code == 200, pdf.text[:300]
    first = NUMBER.search(pdf_text(pdf.content))
    assert first is not None
    body = await failed_roof(world, clock)
    ids = [o["id"] for o in body["orders"]]
    r = await world.post("supervisor", f"{BASE}/notices", {"order_ids": ids, "deadline": DUE})
    number = r.json()["notice"]["number"]
    year, serial = first.group().split("-")[1:]
    assert number == f"ZGTZ-{year}-{int(serial) + 1:05d}"
    # the next lone notice continues the same sequence
    lone2 = await _lone(world, "排水口杂物堵塞", issue=True)
    pdf2 = await world.get("inspector", f"/api/v1/reports/rectification/{lone2}.pdf")
    assert f"ZGTZ-{year}-{int(serial) + 2:05d}" in pdf_text(pdf2.content)


async def test_the_notice_prints_once_for_all_its_orders(world: World, clock: FixedClock) -> None:
    body = await failed_roof(world, clock)
    ids = [o["id"] for o in body["orders"]]
    r = await world.post("supervisor", f"{BASE}/notices", {"order_ids": ids, "deadline": DUE})
    number = r.json()["notice"]["number"]
    before = await IssuedDocument.count()
    texts = []
    for oid, who in ((ids[0], "supervisor"), (ids[1], "contractor_a"), (ids[0], "contractor_a")):
        pdf = await world.get(who, f"/api/v1/reports/rectification/{oid}.pdf")
        assert pdf.status_code == 200, pdf.text[:300]
        text = pdf_text(pdf.content)
        assert set(NUMBER.findall(text)) == {number}
        texts.append(re.sub(r"\s+", "", text))
    assert await IssuedDocument.count() == before  # printing takes no new number
    text = texts[0]
    for words in (
        "质量问题整改通知单",
        "3号楼北侧檐沟积水",
        "收头密封胶开裂一处",
        "第1项",
        "第2项",
        "屋面防水改造",
        "1号楼",
    ):
        assert words in text, words
    assert f"{DUE}23:59" in text
    _problem(await world.get("contractor_b", f"/api/v1/reports/rectification/{ids[0]}.pdf"), 404, None)
    # the contractor's reply cites the notice's number
    answer_r = await world.post("contractor_a", f"{BASE}/orders/{ids[0]}/respond", {"text": "已清理檐沟并复验"})
    assert answer_r.status_code == 200, answer_r.text
    reply = await world.get("contractor_a", f"/api/v1/reports/rectification/{ids[0]}.pdf", params={"kind": "reply"})
    assert reply.status_code == 200, reply.text[:300]
    assert number in pdf_text(reply.content)


async def test_a_late_notice_is_escalated_once_not_once_per_item(world: World, clock: FixedClock) -> None:
    """The items of one notice pass their shared deadline together: each threshold notifies its
    people once, about the notice (number, how many items unanswered, its link), and every item's
    history records the escalation."""
    body = await failed_roof(world, clock)
    ids = [o["id"] for o in body["orders"]]
    assert len(ids) >= 2
    r = await world.post("supervisor", f"{BASE}/notices", {"order_ids": ids, "deadline": DUE})
    assert r.status_code == 201, r.text
    notice = r.json()["notice"]
    rectification = world.services.rectification
    clock.set(clock.now() + timedelta(days=30))
    report = await rectification.escalate()
    assert report.notifications_created > 0
    assert (await rectification.escalate()).notifications_created == 0  # each threshold once
    told = await Notification.select().where(Notification.rule == "order_overdue")
    assert told, "nobody was told"
    assert {n["subject_table"] for n in told} == {"rectification_notice"}
    assert {str(n["subject_id"]) for n in told} == {notice["id"]}
    # one per recipient and threshold, however many items the notice lists
    assert len(told) == len({(n["recipient_key"], n["threshold"]) for n in told})
    first = min(told, key=lambda n: n["threshold"])
    assert notice["number"] in first["message"] and f"{len(ids)} 项" in first["message"]
    assert f"/portal/orders/notices/{notice['id']}" in first["message"]
    for oid in ids:
        # (through the service: a month on, the test's access tokens have expired)
        history = (await rectification.get_order(actor_of(world, "supervisor"), UUID(oid))).history
        assert any(e.action == "escalate" and e.reason.startswith("逾期第") for e in history), oid
