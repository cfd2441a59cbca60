"""Inspections through tablet sync: made offline, answered with merges, submitted once, locked."""

from __future__ import annotations

import pytest

from inspection.checklists.answers import answer_id
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


async def test_the_record_and_its_pdf_show_when_the_inspector_worked_not_when_it_synced(
    world: World, tablets: Tablets, clock: FixedClock
) -> None:
    """检查时间 (issue 16, item 5): a tablet whose clock runs 3 hours slow starts and signs an
    inspection offline at 09:30 and 10:10 (server time); it syncs at 14:00. The record and the PDF
    show 09:30 to 10:10, the device's times corrected by the skew the server measured."""
    from datetime import UTC, datetime, timedelta

    from tests.reports.helpers import pdf_text, squeeze

    def device_clock(slow: timedelta) -> timedelta:
        # the reference client's clock is the test's clock plus an offset: the server's, slow
        return -slow

    slow = timedelta(hours=3)
    # half a minute past, so that the milliseconds the test itself takes never change the minute
    clock.set(datetime(2026, 11, 24, 1, 30, 30, tzinfo=UTC))  # 09:30 in Beijing
    inspector = await tablets("inspector", clock_offset=device_clock(slow))
    await inspector.sync()
    signature = await announce(world, clock, "worked-signature.png")
    iid = new_id()
    inspector.transport.offline = True  # type: ignore[attr-defined]
    started = clock.now() - slow  # what the slow tablet's clock says
    inspector.enqueue(
        "inspection.create@1",
        iid,
        {
            "project_id": str(world.id_of("p1")),
            "work_item_id": str(world.id_of("work_a")),
            "template_code": ROOF,
            "started_at_device": started.isoformat(),
        },
    )
    enqueue_answers(inspector, iid, answers_for(ROOF))
    clock.advance(timedelta(minutes=40))
    inspector.clock_offset = device_clock(slow)
    signed = clock.now() - slow
    inspector.enqueue(
        "inspection.submit@1", iid, {"signature_sha256": signature, "submitted_at_device": signed.isoformat()}
    )
    clock.set(datetime(2026, 11, 24, 6, 0, tzinfo=UTC))  # back in signal at 14:00
    inspector.clock_offset = device_clock(slow)
    inspector.transport.offline = False  # type: ignore[attr-defined]
    await inspector.sync()
    assert {o["result"]["status"] for o in inspector.outbox()} == {"applied"}, inspector.outbox()

    detail = (await world.get("inspector", f"/api/v1/inspections/{iid}")).json()["inspection"]
    worked_from = datetime.fromisoformat(detail["inspected_from"])
    worked_to = datetime.fromisoformat(detail["inspected_to"])
    assert abs(worked_from - datetime(2026, 11, 24, 1, 30, 30, tzinfo=UTC)) < timedelta(seconds=5), detail
    assert abs(worked_to - datetime(2026, 11, 24, 2, 10, 30, tzinfo=UTC)) < timedelta(seconds=5), detail
    assert datetime.fromisoformat(detail["submitted_at"]) == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    assert abs(detail["device_clock_skew_ms"] - 3 * 3600 * 1000) < 5000

    r = await world.get("inspector", f"/api/v1/reports/inspections/{iid}.pdf")
    assert r.status_code == 200, r.text
    text = squeeze(pdf_text(r.content))
    assert "检查时间2026-11-2409:30至2026-11-2410:10" in text, text[:800]
    assert "上传时间2026-11-2414:00" in text
    assert "06:30" not in text and "07:10" not in text  # the slow device clock itself is never printed
