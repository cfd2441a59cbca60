"""Builders for the checklist tests: imported templates, photos, drafts with answers."""

from __future__ import annotations

from typing import Any

import httpx

from inspection.clock import FixedClock
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
