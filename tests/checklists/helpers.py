"""Builders for the checklist tests: imported templates, photos, drafts with answers."""

from __future__ import annotations

from typing import Any

import httpx

from inspection.actor import SYSTEM
from inspection.checklists.templates import Item, Template, load_file, shipped_files
from inspection.clock import FixedClock
from inspection.projects import schemas as ps
from inspection.projects.rules import WorkCategory, WorkType
from inspection.records import new_id
from tests.factories import World
from tests.rectification.helpers import actor_of, announce, sha

__all__ = ["actor_of", "announce", "answers_for", "draft", "sha", "submit"]

ROOF = "gb50300-roof-waterproofing"
SCAFFOLD = "jgj59-fastener-scaffold"


async def draft(world: World, who: str = "inspector", **body: Any) -> dict[str, Any]:
    payload = {"id": str(new_id()), "project_id": str(world.id_of("p1")), "work_item_id": str(world.id_of("work_a"))}
    payload |= {k: (str(v) if hasattr(v, "hex") else v) for k, v in body.items()}
    r = await world.post(who, "/api/v1/inspections/", payload)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def answer(
    world: World, inspection_id: str, answers: list[dict[str, Any]], who: str = "inspector"
) -> httpx.Response:
    return await world.client.put(
        f"/api/v1/inspections/{inspection_id}/answers", json={"answers": answers}, headers=world.headers(who)
    )


async def submit(
    world: World, clock: FixedClock, inspection_id: str, who: str = "inspector", **extra: Any
) -> httpx.Response:
    signature = await announce(world, clock, f"signature-{inspection_id}")
    return await world.post(
        who, f"/api/v1/inspections/{inspection_id}/submit", {"signature_sha256": signature, **extra}
    )


def answers_for(code: str, **overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """A passing set of answers for a shipped template, with some items replaced."""
    base: dict[str, dict[str, Any]]
    if code == ROOF:
        base = {
            "M1": {"value": "pass"},
            "M2": {"value": "pass"},
            "M3": {"value": "pass"},
            "N1": {"checked": 10, "passed": 10},
            "N2": {"measured": [-2, 0, -5, -1, 0], "unit": "mm"},
            "N3": {"checked": 5, "passed": 5},
            "N4": {"measured": [0.1, 0.2, 0.0, 0.3, 0.1], "unit": "%"},
        }
    elif code == SCAFFOLD:
        base = {c: {"deduction": 0} for c in ("G1", "G2", "G3", "G4", "G5", "G6", "N1", "N2", "N3", "N4", "N5")}
        base["A1"] = {"value": "no"}
    else:
        raise ValueError(code)
    merged = {**base, **overrides}
    return [{"item_code": c, **v} for c, v in merged.items()]


# The work types issue 21 added plans for, with a work item name each
NEW_PLANS = {
    WorkType.water_supply: "供水管网改造",
    WorkType.heating: "供热及室内采暖改造",
    WorkType.gas: "燃气管网改造",
    WorkType.power: "供电线路改造及线缆入地",
    WorkType.telecom: "通信线缆入地及规整",
    WorkType.windows: "节能门窗改造",
    WorkType.elevator: "3号楼加装电梯",
    WorkType.accessibility: "无障碍设施建设",
}
TEMPLATES = {t.code: t for t in (load_file(f) for f in shipped_files())}


def inside(item: Item) -> float:
    """A reading within the item's tolerance."""
    lo, hi = item.tolerance_min, item.tolerance_max
    if lo is not None and hi is not None:
        return (lo + hi) / 2
    if lo is not None:
        return lo if item.measure == "value" else max(lo, 0.0)
    assert hi is not None
    return hi if item.measure == "value" else min(hi, 0.0)


def outside(item: Item) -> float:
    lo, hi = item.tolerance_min, item.tolerance_max
    return lo - 1 if lo is not None else hi + 1  # type: ignore[operator]


def passing(template: Template, points: int = 5) -> dict[str, dict[str, Any]]:
    """API answers that pass every item: questions answered "no" (the plain case), pass/fail items
    passing, readings inside their tolerance, counts all passing; JGJ 59 items without deduction."""
    out: dict[str, dict[str, Any]] = {}
    for item in template.items:
        if item.answer == "yes_no":
            out[item.code] = {"value": "no"}
        elif item.answer == "text":
            out[item.code] = {"text": "见附件"}
        elif item.answer == "pass_fail":
            out[item.code] = {"value": "pass"}
        elif item.answer == "measured":
            out[item.code] = {"measured": [inside(item)] * points, "unit": item.unit}
        elif item.answer == "count":
            out[item.code] = {"checked": points, "passed": points}
        else:
            out[item.code] = {"deduction": 0}
    return out


async def work_item(world: World, work_type: WorkType, contractor: str = "contractor_a") -> str:
    """A work item of this type on site 1 (contractor A's unless another organisation is named)."""
    item = await world.services.projects.create_work_item(
        SYSTEM,
        world.id_of("p1"),
        ps.WorkItemCreate(
            site_id=world.id_of("site1"),
            category=WorkCategory.basic,
            work_type=work_type,
            name=NEW_PLANS.get(work_type, "改造内容"),
            contractor_id=world.orgs[contractor].id,
        ),
    )
    return str(item.id)


async def pass_point(world: World, clock: FixedClock, work_item_id: str, point: str, template: str) -> None:
    """Inspect a supervision point with passing answers and a photo, and submit it."""
    d = await draft(world, template_code=template, supervision_point=point, work_item_id=work_item_id)
    iid = d["inspection"]["id"]
    answers = [{"item_code": code, **a} for code, a in passing(TEMPLATES[template]).items()]
    answers[0]["photos"] = [await announce(world, clock, f"{work_item_id}-{point}.jpg")]
    r = await answer(world, iid, answers)
    assert r.status_code == 200, r.text
    r = await submit(world, clock, iid)
    assert r.status_code == 200, r.text
    assert r.json()["inspection"]["grade"] == "合格", (point, r.json()["score"])
