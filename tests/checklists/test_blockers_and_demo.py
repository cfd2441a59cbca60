"""Drafts block acceptance; the demo loads inspections with scores, once."""

from __future__ import annotations

import pytest

from inspection import blockers
from inspection.checklists.tables import Inspection
from inspection.clock import FixedClock
from inspection.demo import checklists as checklists_demo
from inspection.demo import load_demo
from tests.checklists.helpers import ROOF, answer, answers_for, draft, submit
from tests.factories import World


@pytest.mark.usefixtures("templates")
async def test_drafts_block_acceptance_until_submitted(world: World, clock: FixedClock) -> None:
    d = await draft(world, template_code=ROOF)
    found = await blockers.acceptance_blockers(world.id_of("p1"), world.id_of("site1"))
    ours = [b for b in found if b.record_table == "inspection"]
    assert [(b.kind, str(b.record_id)) for b in ours] == [("inspection_draft", d["inspection"]["id"])]
    assert await blockers.acceptance_blockers(world.id_of("p2")) == []
    await answer(world, d["inspection"]["id"], answers_for(ROOF))
    assert (await submit(world, clock, d["inspection"]["id"])).status_code == 200
    assert [b for b in await blockers.acceptance_blockers(world.id_of("p1")) if b.kind == "inspection_draft"] == []


async def test_demo_inspections_load_once(clock: FixedClock) -> None:
    assert await load_demo(quiet=True, clock=clock)
    # the checklists demo's own inspections (inspector1's; the programme demo's history is inspector2's)
    demo = (Inspection.project.code == "DEMO-2026-01") & (Inspection.inspector.username == "inspector1")
    rows = await Inspection.select(Inspection.status, Inspection.grade).where(demo)
    grades = sorted(r["grade"] for r in rows if r["status"] == "submitted")
    assert grades == sorted(["优良", "合格", "合格", "不合格"])
    assert [r["status"] for r in rows].count("draft") == 1
    assert not await checklists_demo.load_demo(quiet=True, clock=clock)
    assert await Inspection.count().where(demo) == len(rows)
