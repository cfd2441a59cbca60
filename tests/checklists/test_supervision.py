"""Supervision plans: hold points stop the next step until their inspection passes."""

from __future__ import annotations

import pytest

from inspection.checklists import supervision
from inspection.checklists.supervision import PlanError, open_holds_before, parse_plan, plans
from inspection.checklists.tables import SupervisionPointState
from inspection.clock import FixedClock
from inspection.rectification.tables import RectificationOrder
from tests.checklists.helpers import announce, answer, draft, submit
from tests.factories import World

ROOF_START = "/api/v1/supervision/work-items/{}/points/{}/start"


def test_shipped_plans_cover_the_renovation_work_types() -> None:
    shipped = plans()
    assert {"roof_waterproofing", "external_wall_insulation", "drainage", "stairwell", "road_paving"} <= set(shipped)
    for plan in shipped.values():
        assert any(p.kind == "hold" for p in plan.points), plan.code


def test_open_holds_before_a_point() -> None:
    roof = plans()["roof_waterproofing"]
    # witness points never block; hold points block every later step until they pass
    assert open_holds_before(roof, "base-hidden", {}) == []
    assert open_holds_before(roof, "membrane-laying", {}) == ["base-hidden"]
    assert open_holds_before(roof, "protective-layer", {"base-hidden": "passed"}) == ["water-test"]
    assert open_holds_before(roof, "protective-layer", {"base-hidden": "passed", "water-test": "failed"}) == [
        "water-test"
    ]


def test_a_bad_plan_names_the_point() -> None:
    raw = {"code": "x", "work_type": "roof_waterproofing", "points": [{"code": "p", "kind": "stop", "title": "t"}]}
    with pytest.raises(PlanError) as caught:
        parse_plan(raw, "x.toml", {"passfail-hidden-works"})
    reasons = [r for f, p, r in caught.value.problems if f == "x.toml" and p == "p"]
    assert any("kind 须为" in str(r) for r in reasons) and any("template_code" in str(r) for r in reasons)


async def pass_point(world: World, clock: FixedClock, point: str, template: str, items: list[str]) -> dict:  # type: ignore[type-arg]
    d = await draft(world, template_code=template, supervision_point=point)
    iid = d["inspection"]["id"]
    r = await answer(world, iid, [{"item_code": c, "value": "pass"} for c in items])
    assert r.status_code == 200, r.text
    # the point requires photos: without any the submission is refused
    r = await submit(world, clock, iid)
    assert r.status_code == 422 and r.json()["field"] == "answers.photos"
    photo = await announce(world, clock, f"{point}-overview.jpg")
    assert (await answer(world, iid, [{"item_code": items[0], "value": "pass", "photos": [photo]}])).status_code == 200
    r = await submit(world, clock, iid)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.usefixtures("templates")
async def test_a_step_past_an_open_hold_point_is_refused_until_it_passes(world: World, clock: FixedClock) -> None:
    wid = str(world.id_of("work_a"))
    progress = (await world.get("inspector", f"/api/v1/supervision/work-items/{wid}")).json()
    assert progress["plan_code"] == "plan-roof-waterproofing" and progress["current"] == "membrane-sampling"
    assert progress["waiting_hold_points"] == ["base-hidden", "water-test"]
    r = await world.post("contractor_a", ROOF_START.format(wid, "membrane-laying"), {"note": "开始热熔铺贴"})
    assert r.status_code == 409 and r.json()["open_hold_points"] == ["base-hidden"]
    assert await SupervisionPointState.count().where(SupervisionPointState.work_item == wid) == 0
    # another contractor cannot even see the work item
    assert (await world.post("contractor_b", ROOF_START.format(wid, "base-hidden"), {})).status_code == 404
    # the hold point's inspection passes: the step may start
    await pass_point(world, clock, "base-hidden", "passfail-hidden-works", ["C1", "C2", "C3", "C4"])
    r = await world.post("contractor_a", ROOF_START.format(wid, "membrane-laying"), {})
    assert r.status_code == 200, r.text
    states = {p["code"]: p["state"] for p in r.json()["points"]}
    assert states["base-hidden"] == "passed" and states["membrane-laying"] == "started"
    # starting it twice is a conflict
    assert (await world.post("contractor_a", ROOF_START.format(wid, "membrane-laying"), {})).status_code == 409
    summary = (await world.get("supervisor", f"/api/v1/supervision/projects/{world.id_of('p1')}")).json()
    waiting = {(w["work_item"], w["point"]) for w in summary["waiting_hold_points"]}
    assert (wid, "water-test") in waiting and (wid, "base-hidden") not in waiting


@pytest.mark.usefixtures("templates")
async def test_a_failed_hold_inspection_keeps_the_point_closed(world: World, clock: FixedClock) -> None:
    wid = str(world.id_of("work_a"))
    d = await draft(world, template_code="passfail-hidden-works", supervision_point="base-hidden")
    photo = await announce(world, clock, "base-crack.jpg")
    answers = [{"item_code": c, "value": "pass"} for c in ("C1", "C3", "C4")]
    answers.append({"item_code": "C2", "value": "fail", "photos": [photo]})
    assert (await answer(world, d["inspection"]["id"], answers)).status_code == 200
    assert (await submit(world, clock, d["inspection"]["id"])).status_code == 200
    progress = (await world.get("inspector", f"/api/v1/supervision/work-items/{wid}")).json()
    assert {p["code"]: p["state"] for p in progress["points"]}["base-hidden"] == "failed"
    assert (await world.post("contractor_a", ROOF_START.format(wid, "membrane-laying"), {})).status_code == 409


@pytest.mark.usefixtures("templates")
async def test_by_setting_a_violation_is_recorded_and_opens_a_draft_order(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervision, "violation_mode", lambda: "record")
    wid = str(world.id_of("work_a"))
    r = await world.post("contractor_a", ROOF_START.format(wid, "membrane-laying"), {})
    assert r.status_code == 200, r.text
    point = next(p for p in r.json()["points"] if p["code"] == "membrane-laying")
    assert point["state"] == "started" and point["violation"] is True
    order = await RectificationOrder.select().first()
    assert order["status"] == "draft" and order["source_table"] == "supervision_point_state"
    assert "base-hidden" in order["description"]


@pytest.mark.usefixtures("templates")
async def test_an_inspection_at_a_point_uses_the_points_template(world: World) -> None:
    body = {
        "project_id": str(world.id_of("p1")),
        "work_item_id": str(world.id_of("work_a")),
        "template_code": "gb50300-roof-waterproofing",
        "supervision_point": "base-hidden",
    }
    r = await world.post("inspector", "/api/v1/inspections/", body)
    assert r.status_code == 422 and r.json()["field"] == "template_code"
    r = await world.post("inspector", "/api/v1/inspections/", {**body, "supervision_point": "no-such-point"})
    assert r.status_code == 422 and r.json()["field"] == "supervision_point"
