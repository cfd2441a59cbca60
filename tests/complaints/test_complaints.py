"""Complaints: the rules (table-driven, no database) and the service and API (both databases)."""

from __future__ import annotations

from uuid import UUID

import pytest

from inspection.complaints.rules import (
    ComplaintState,
    Triage,
    complaint_problem,
    next_state,
)
from inspection.complaints.schemas import ComplaintIn
from inspection.complaints.service import reference
from tests.portal.helpers import actor_from


@pytest.mark.parametrize(
    ("text", "contact", "problem"),
    [
        ("路面塌陷了", "", None),
        ("短", "", "text"),  # under five characters says too little to act on
        ("    五个字    ", "", "text"),  # spaces do not count
        ("楼道灯不亮" * 500, "", "text"),  # over 2000 characters
        ("脚手架没有围挡", "138 0000 1111", None),
        ("脚手架没有围挡", "li@example.org", None),
        ("脚手架没有围挡", "<script>", "contact"),
        ("脚手架没有围挡", "1" * 101, "contact"),
    ],
)
def test_what_a_complaint_must_say(text: str, contact: str, problem: str | None) -> None:
    found = complaint_problem(text, contact)
    assert (found[0] if found else None) == problem


@pytest.mark.parametrize(
    ("state", "move", "after"),
    [
        (ComplaintState.new, Triage.order, ComplaintState.ordered),
        (ComplaintState.new, Triage.dismiss, ComplaintState.dismissed),
        (ComplaintState.ordered, Triage.dismiss, None),  # handled once, never reopened
        (ComplaintState.dismissed, Triage.order, None),
        (ComplaintState.ordered, Triage.order, None),
    ],
)
def test_triage_moves(state: ComplaintState, move: Triage, after: ComplaintState | None) -> None:
    assert next_state(state, move) == after


async def test_api_lists_and_triages_for_office_roles_only(app, world) -> None:
    services = app.state.services
    receipt = await services.complaints.submit(world.id_of("site1"), ComplaintIn(text="楼道墙皮脱落砸到人"))
    p1 = world.id_of("p1")
    r = await world.get("supervisor", "/api/v1/complaints/", params={"project_id": str(p1)})
    assert r.status_code == 200 and r.json()["new"] == 1
    item = r.json()["items"][0]
    assert item["reference"] == receipt.reference == reference(UUID(item["id"]))
    for who in ("contractor_a", "resident", "viewer", "outsider"):
        r = await world.get(who, "/api/v1/complaints/", params={"project_id": str(p1)})
        assert r.status_code == 404, who
        r = await world.get(who, f"/api/v1/complaints/{item['id']}")
        assert r.status_code == 404, who
    r = await world.post("contractor_a", f"/api/v1/complaints/{item['id']}/dismiss", json={"reason": "不是我们的"})
    assert r.status_code == 404
    r = await world.post(
        "inspector",
        f"/api/v1/complaints/{item['id']}/order",
        json={"description": "清理楼道空鼓墙皮并修补", "work_item_id": str(world.id_of("work_a")), "kind": "safety"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ordered"
    order = await services.rectification.get_order(actor_from(world, "contractor_a"), r.json()["order_id"])
    assert order.order.kind.value == "safety" and order.order.status.value == "issued"
    r = await world.post("inspector", f"/api/v1/complaints/{item['id']}/dismiss", json={"reason": "重复"})
    assert r.status_code == 409


async def test_a_complaint_on_work_of_another_site_is_refused(app, world) -> None:
    from inspection.actor import SYSTEM
    from inspection.errors import ValidationFailed
    from inspection.projects import schemas as ps

    other = await app.state.services.projects.create_site(SYSTEM, world.id_of("p1"), ps.SiteCreate(name="另一个小区"))
    with pytest.raises(ValidationFailed) as refused:
        await app.state.services.complaints.submit(
            other.id, ComplaintIn(text="屋面还在漏水呢", work_item_id=world.id_of("work_a"))
        )
    assert refused.value.field == "work_item_id"
