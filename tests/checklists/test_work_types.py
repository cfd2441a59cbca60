"""The renovation's remaining work types (issue 21): every template imports and scores, and every
new supervision plan's hold points refuse the next step until they pass; a lift is not handed over
before its special-equipment supervision inspection, gas not before its tightness test."""

from __future__ import annotations

from typing import Any

import pytest

from inspection import blockers
from inspection.checklists.scoring import Answer, lot_min_sample, score
from inspection.checklists.supervision import PARTICIPANTS, plans
from inspection.clock import FixedClock
from inspection.projects.rules import WorkType
from inspection.samples.rulebook import default_rulebook
from tests.checklists.helpers import NEW_PLANS, TEMPLATES, outside, pass_point, passing, work_item
from tests.factories import World


def as_rules(raw: dict[str, dict[str, Any]]) -> dict[str, Answer]:
    return {
        code: Answer(
            code,
            value=a.get("value", ""),
            deduction=a.get("deduction"),
            measured=tuple(a.get("measured", ())),
            checked=a.get("checked"),
            passed=a.get("passed"),
            text=a.get("text", ""),
        )
        for code, a in raw.items()
    }


@pytest.mark.parametrize("code", sorted(TEMPLATES))
def test_every_template_scores_a_pass_and_a_failure(code: str) -> None:
    template = TEMPLATES[code]
    good = passing(template)
    result = score(template, as_rules(good))
    assert result.grade in ("合格", "优良"), (code, result.failed)
    bad = dict(good)
    if template.kind == "safety":
        # JGJ 59: a table losing every point scores 0, which is 不合格
        bad |= {i.code: {"deduction": i.points} for i in template.items if i.answer == "deduction"}
        assert score(template, as_rules(bad)).grade == "不合格", code
        return
    # one failure of a deciding item fails it: a main-control or check item, or a reading outside
    # its tolerance
    decisive = next(i for i in template.items if i.cls in ("main", "check"))
    if decisive.answer == "pass_fail":
        bad[decisive.code] = {"value": "fail"}
    elif decisive.answer == "measured":
        bad[decisive.code] = {"measured": [outside(decisive)], "unit": decisive.unit}
    else:
        bad[decisive.code] = {"checked": 5, "passed": 4}
    assert score(template, as_rules(bad)).grade == "不合格", code


def test_windows_sample_by_gb_50210_not_table_3_0_9() -> None:
    # GB 50210-2018 §6.1: 5 % and at least 3 of a lot of ≤ 100 units; high-rise external windows
    # 10 % and at least 6 (table 3.0.9 would ask 8 of a lot of 100)
    windows = TEMPLATES["gb50300-windows"]
    assert [lot_min_sample(windows, n) for n in (2, 40, 100)] == [2, 3, 5]
    assert [lot_min_sample(windows, n, {"A1": "yes"}) for n in (5, 40, 100)] == [5, 6, 10]
    assert score(windows, as_rules(passing(windows, points=5)), 100).grade == "合格"
    short = score(windows, as_rules({**passing(windows, points=5), "A1": {"value": "yes"}}), 100)
    assert short.grade == "不合格" and short.details["min_sample"] == 10


def test_every_plan_names_known_materials_and_participants() -> None:
    book = default_rulebook()
    for work_type in NEW_PLANS:
        plan = plans()[work_type.value]
        assert plan.materials and set(plan.materials) <= set(book.materials), plan.code
        assert all(set(p.participants) <= set(PARTICIPANTS) for p in plan.points)
        assert any(p.kind == "hold" for p in plan.points)
    # the gas company takes part in both pressure tests; the lift's last point is the institute's
    gas = {p.code: p for p in plans()["gas"].points}
    assert "utility" in gas["strength-test"].participants and "utility" in gas["tightness-test"].participants
    lift = plans()["elevator"].points[-1]
    assert lift.kind == "hold" and lift.blocks_handover and lift.participants == ("special_equipment_institute",)


START = "/api/v1/supervision/work-items/{}/points/{}/start"


@pytest.mark.usefixtures("templates")
@pytest.mark.parametrize("work_type", sorted(WorkType(w) for w in plans()), ids=lambda w: w.value)
async def test_each_hold_point_refuses_the_next_step_until_it_passes(
    world: World, clock: FixedClock, work_type: WorkType
) -> None:
    wid = await work_item(world, work_type)
    points = plans()[work_type.value].points
    for index, point in enumerate(points):
        following = points[index + 1] if index + 1 < len(points) else None
        if point.kind != "hold":
            continue
        if following is not None:
            r = await world.post("contractor_a", START.format(wid, following.code), {})
            assert r.status_code == 409, (point.code, r.text)
            assert point.code in r.json()["open_hold_points"]
        await pass_point(world, clock, wid, point.code, point.template_code)
        if following is not None:
            r = await world.post("contractor_a", START.format(wid, following.code), {})
            assert r.status_code == 200, (following.code, r.text)
    progress = (await world.get("supervisor", f"/api/v1/supervision/work-items/{wid}")).json()
    assert progress["waiting_hold_points"] == []


@pytest.mark.usefixtures("templates")
async def test_a_lift_is_not_handed_over_before_its_supervision_inspection(world: World, clock: FixedClock) -> None:
    wid = await work_item(world, WorkType.elevator)

    async def open_holds() -> list[str]:
        found = await blockers.acceptance_blockers(world.id_of("p1"), world.id_of("site1"))
        return [b.description.render() for b in found if b.kind == "hold_point_open" and str(b.record_id) == wid]

    (waiting,) = await open_holds()
    assert "特种设备监督检验" in waiting and "不得交付使用" in waiting
    for point in plans()["elevator"].points:
        if point.kind == "hold":
            await pass_point(world, clock, wid, point.code, point.template_code)
    assert await open_holds() == []
    # the point's record shows who takes part
    progress = (await world.get("supervisor", f"/api/v1/supervision/work-items/{wid}")).json()
    last = progress["points"][-1]
    assert last["blocks_handover"] and last["participants"] == ["special_equipment_institute"]


@pytest.mark.usefixtures("templates")
async def test_gas_is_not_handed_over_before_its_tightness_test(world: World, clock: FixedClock) -> None:
    wid = await work_item(world, WorkType.gas)
    found = await blockers.acceptance_blockers(world.id_of("p1"))
    assert [b.kind for b in found if str(b.record_id) == wid] == ["hold_point_open"]
    await pass_point(world, clock, wid, "strength-test", "test-gas-strength")
    await pass_point(world, clock, wid, "tightness-test", "test-gas-tightness")
    assert [b for b in await blockers.acceptance_blockers(world.id_of("p1")) if str(b.record_id) == wid] == []
