"""Inspections through tablet sync: made offline, answered with merges, submitted once, locked."""

from __future__ import annotations

import pytest

from inspection.checklists.service import answer_id
from inspection.checklists.templates import shipped_files
from inspection.clock import FixedClock
from inspection.records import new_id
from tests.checklists.helpers import ROOF, announce, answers_for
from tests.factories import World
from tests.sync.conftest import Tablets

pytestmark = pytest.mark.usefixtures("templates")


def enqueue_answers(tablet, inspection_id, answers) -> None:  # type: ignore[no-untyped-def]
    for a in answers:
        fields = {k: v for k, v in a.items() if k not in ("item_code", "photos")}
        tablet.enqueue(
            "answer.set@1", inspection_id, {"item_code": a["item_code"], "set": fields, "photos": a.get("photos", [])}
        )


async def test_an_inspection_made_offline_syncs_submits_and_reaches_the_contractor(
    world: World, tablets: Tablets, clock: FixedClock
) -> None:
    inspector = await tablets("inspector")
    contractor = await tablets("contractor_a")
    other = await tablets("contractor_b")
    await inspector.sync()
    templates = inspector.rows("checklist_template")
    assert len(templates) == len(shipped_files()), "templates are reference data on every tablet"
    roof = next(t for t in templates.values() if t["code"] == ROOF)

    leak = await announce(world, clock, "offline-leak.jpg")
    signature = await announce(world, clock, "offline-signature.png")
    iid = new_id()
    inspector.transport.offline = True  # type: ignore[attr-defined]
    inspector.enqueue(
        "inspection.create@1",
        iid,
        {"project_id": str(world.id_of("p1")), "work_item_id": str(world.id_of("work_a")), "template_id": roof["id"]},
    )
    enqueue_answers(inspector, iid, answers_for(ROOF, M3={"value": "fail", "photos": [leak]}))
    inspector.enqueue("inspection.submit@1", iid, {"signature_sha256": signature, "score": {"total": 100}})
    inspector.enqueue("inspection.submit@1", iid, {"signature_sha256": signature})
    inspector.transport.offline = False  # type: ignore[attr-defined]
    await inspector.sync()
    statuses = [o["result"]["status"] for o in inspector.outbox()]
    assert statuses == ["applied"] * 9 + ["noop"], inspector.outbox()
    assert inspector.outbox()[8]["result"]["grade"] == "不合格"
    row = inspector.rows("inspection")[str(iid)]
    assert row["status"] == "submitted" and row["grade"] == "不合格"
    assert len([a for a in inspector.rows("inspection_answer").values() if a["inspection"] == str(iid)]) == 7
    assert any(o["source_id"] == str(answer_id(iid, "M3")) for o in inspector.rows("rectification_order").values())

    await contractor.sync()
    assert contractor.rows("inspection")[str(iid)]["status"] == "submitted"
    assert str(answer_id(iid, "M3")) in contractor.rows("inspection_answer")
    await other.sync()
    assert str(iid) not in other.rows("inspection")


def edit_answer(tablet, inspection_id, item_code: str, changes: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
    """A field edit of one answer, with the values the tablet saw as its base."""
    current = tablet.row("inspection_answer", answer_id(inspection_id, item_code)) or {}
    tablet.enqueue(
        "answer.set@1",
        inspection_id,
        {"item_code": item_code, "set": changes},
        base_version=current.get("version"),
        base_values={k: current.get(k) for k in changes},
    )


async def test_answer_edits_merge_and_are_locked_after_submit(
    world: World, tablets: Tablets, clock: FixedClock
) -> None:
    first = await tablets("inspector")
    second = await tablets("inspector", device="inspector-phone")
    iid = new_id()
    first.enqueue(
        "inspection.create@1",
        iid,
        {"project_id": str(world.id_of("p1")), "work_item_id": str(world.id_of("work_a")), "template_code": ROOF},
    )
    enqueue_answers(first, iid, answers_for(ROOF))
    await first.sync()
    await second.sync()
    # both devices change N1's note from the same base; the second also changes another field
    edit_answer(first, iid, "N1", {"note": "抽查10处"})
    edit_answer(second, iid, "N1", {"note": "抽查10处,1处起鼓"})
    edit_answer(second, iid, "N1", {"passed": 9})
    await first.sync()
    await second.sync()
    assert [o["result"]["status"] for o in second.outbox()] == ["conflict_recorded", "applied"]
    await first.pull()
    n1 = first.rows("inspection_answer")[str(answer_id(iid, "N1"))]
    assert (n1["note"], n1["passed"], n1["checked"]) == ("抽查10处,1处起鼓", 9, 10)
    assert any(c["lost_value"] == '"抽查10处"' for c in first.rows("sync_conflict").values())
    # a merged answer is still checked against the template: passed above checked is refused
    edit_answer(second, iid, "N1", {"passed": 11})
    await second.sync()
    refused = second.outbox()[-1]["result"]
    assert (refused["status"], refused["field"]) == ("rejected", "answers[0].passed")

    signature = await announce(world, clock, "sig.png")
    first.enqueue("inspection.submit@1", iid, {"signature_sha256": signature})
    await first.sync()
    edit_answer(second, iid, "N1", {"note": "补记"})
    await second.sync()
    locked = second.outbox()[-1]["result"]
    assert (locked["status"], locked["current_state"]) == ("rejected", "submitted")
    # a different submission of a submitted inspection is refused, not merged
    other = await announce(world, clock, "other-sig.png")
    second.enqueue("inspection.submit@1", iid, {"signature_sha256": other})
    await second.sync()
    assert second.outbox()[-1]["result"]["status"] == "rejected"
