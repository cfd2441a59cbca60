"""The seams other domains call: acceptance blockers (through inspection/blockers.py), the
checklists guard on batches not accepted (a lot citing one cannot pass, one citing accepted
batches can), the alerts query and job for samples awaiting results, and the ledger rows the CSV
and the PDF share."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from inspection import blockers
from inspection.checklists.catalogue import import_shipped
from inspection.clock import FixedClock
from inspection.records import new_id
from inspection.reports.loaders.ledger import load_ledger
from inspection.samples import ledger
from inspection.samples import schemas as s
from inspection.samples.guards import batches_not_accepted
from inspection.samples.queries import samples_awaiting_result
from inspection.samples.rules import BatchStatus, DispositionKind, Verdict
from tests.alerts.helpers import alerts, notifications, run
from tests.checklists.helpers import ROOF, answer, answers_for, draft, submit
from tests.factories import World
from tests.rectification.helpers import actor_of, announce
from tests.samples.helpers import REBAR_PASS, lab, new_batch, results, sample_on, svc


async def test_rejected_batches_block_acceptance_until_disposed(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    assert "inspection.samples.blockers" in blockers.BLOCKER_MODULES
    batch = (await new_batch(world)).batch
    sample = (await sample_on(world, batch.id)).sample
    await svc(world).record_results(
        actor_of(world, "supervisor"), sample.id, results(REBAR_PASS, weight_deviation="7.5")
    )
    # the rejection also opened an order, which blocks on its own; here only the batch matters
    found = [b for b in await blockers.acceptance_blockers(world.id_of("p1")) if b.record_table == "material_batch"]
    assert [(b.kind, b.record_table, b.record_id) for b in found] == [
        ("batch_not_disposed", "material_batch", batch.id)
    ]
    assert "热轧带肋钢筋" in found[0].description.render()
    on_site = await blockers.acceptance_blockers(world.id_of("p1"), world.id_of("site1"))
    assert [b.record_id for b in on_site if b.record_table == "material_batch"] == [batch.id]
    assert await blockers.acceptance_blockers(world.id_of("p1"), new_id()) == []  # another site
    assert await blockers.acceptance_blockers(world.id_of("p2")) == []

    photo = await announce(world, clock, "销毁.jpg", org="contractor_a")
    await svc(world).dispose(
        actor_of(world, "contractor_a"),
        batch.id,
        s.DispositionCreate(kind=DispositionKind.destroyed, witnessed_by_id=world.users["owner"].id, evidence=[photo]),
    )
    assert [
        b for b in await blockers.acceptance_blockers(world.id_of("p1")) if b.record_table == "material_batch"
    ] == []


async def test_batches_not_accepted(world: World) -> None:
    accepted = (await new_batch(world)).batch
    # 58.6 t of rebar: two sets (2 tensile + 2 bend specimens)
    sample = (await sample_on(world, accepted.id, sets=2)).sample
    await svc(world).record_results(actor_of(world, "contractor_a"), sample.id, results(REBAR_PASS, sets=2))
    waiting = (await new_batch(world, material="cement_bagged", quantity=Decimal(50))).batch
    missing = new_id()
    assert await batches_not_accepted([]) == []
    out = await batches_not_accepted([accepted.id, waiting.id, missing, waiting.id])
    assert [(x["batch_id"], x["status"]) for x in out] == [(waiting.id, "awaiting_sampling"), (missing, "missing")]
    assert out[0]["material_name"] == "水泥（袋装）" and out[0]["project_id"] == world.id_of("p1")
    assert await batches_not_accepted([accepted.id]) == []


async def test_a_quality_lot_citing_accepted_batches_can_pass(world: World, clock: FixedClock) -> None:
    await import_shipped(clock)
    accepted = []
    for number in ("L24-0815", "L24-0816"):
        batch = (await new_batch(world, batch_number=number)).batch
        sample = (await sample_on(world, batch.id, sets=2)).sample
        done = await svc(world).record_results(actor_of(world, "contractor_a"), sample.id, results(REBAR_PASS, sets=2))
        assert done.batch.status is BatchStatus.accepted
        accepted.append(done.batch.id)
    d = await draft(world, template_code=ROOF, material_batch_ids=[str(b) for b in accepted])
    iid = d["inspection"]["id"]
    await answer(world, iid, answers_for(ROOF))
    r = await submit(world, clock, iid)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["inspection"]["grade"] == "合格" and body["warnings"] == []
    assert body["score"]["details"]["material_batch_warnings"] == []


async def test_samples_waiting_too_long_for_a_lab_result_raise_one_alert_each(world: World, clock: FixedClock) -> None:
    """The scheduler's job on real batches: past 14 days without a verdict, one alert per sample."""
    waiting_batch = (await new_batch(world)).batch
    waiting = (await sample_on(world, waiting_batch.id, taken_at=clock.now() - timedelta(days=20))).sample
    # 100 t of rebar needs three sets: after one passing sample the batch is still being sampled,
    # so only the sample's own results keep it off the list
    judged_batch = (await new_batch(world, quantity=Decimal(100), batch_number="L24-0901")).batch
    judged = (await sample_on(world, judged_batch.id, taken_at=clock.now() - timedelta(days=20))).sample
    out = await svc(world).record_results(actor_of(world, "contractor_a"), judged.id, results(REBAR_PASS))
    assert out.sample.verdict is Verdict.passed and out.batch.status is BatchStatus.sampling
    await sample_on(world, judged_batch.id, taken_at=clock.now() - timedelta(days=13))  # not yet too long
    for _ in range(2):
        await run("samples_awaiting_result", world.services.settings, clock)
    (alert,) = await alerts("sample_awaiting_result")
    assert (alert["subject_table"], alert["subject_id"], alert["threshold"]) == ("sample", waiting.id, 14)
    assert alert["project"] == world.id_of("p1")
    told = {n["recipient_user"] for n in await notifications("sample_awaiting_result")}
    assert world.users["supervisor"].id in told
    # said in Chinese: the material by its name, the sample's label, the local day it was taken
    taken = (clock.now() - timedelta(days=20)).astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert alert["message"].startswith(f"热轧带肋钢筋样品 {waiting.label_code} 于 {taken} 取样送检"), alert["message"]
    assert f"/portal/projects/{world.id_of('p1')}" in alert["message"]


async def test_the_csv_and_the_pdf_ledger_print_the_same_rows(world: World, clock: FixedClock) -> None:
    batch = (await new_batch(world)).batch
    original = (await sample_on(world, batch.id)).sample
    await svc(world).record_results(
        actor_of(world, "contractor_a"), original.id, results(REBAR_PASS, tensile_strength="530")
    )
    await svc(world).take_retest(actor_of(world, "contractor_a"), original.id, s.RetestCreate(lab_id=await lab(world)))
    await new_batch(world, "contractor_b", work_item_id=world.id_of("work_b"), batch_number="B-77")
    for who in ("supervisor", "contractor_b"):
        actor = actor_of(world, who)
        rows = await ledger.ledger_rows(actor, world.id_of("p1"), svc(world).book)
        assert await svc(world).ledger_csv(actor, world.id_of("p1")) == ledger.render(rows, svc(world).book.timezone)
        pdf = await load_ledger(svc(world), actor, world.id_of("p1"), None, None)
        assert pdf.context["batches"] == rows
    supervisor_rows = await ledger.ledger_rows(actor_of(world, "supervisor"), world.id_of("p1"), svc(world).book)
    assert [len(b["samples"]) for b in supervisor_rows] == [2, 0]
    first, retest = supervisor_rows[0]["samples"]
    assert (first["verdict"], first["failed"], first["failed_items"]) == ("不合格", True, ["抗拉强度 Rm"])
    assert (retest["is_retest"], retest["retest_of"], retest["verdict"]) == (True, original.label_code, "待出报告")


async def test_samples_awaiting_result(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    batch = (await new_batch(world, quantity=Decimal(100))).batch
    old = (await sample_on(world, batch.id, taken_at=clock.now() - timedelta(days=40))).sample
    await svc(world).record_results(actor_of(world, "contractor_a"), old.id, results({"bend": "1"}))
    done = (await sample_on(world, batch.id, taken_at=clock.now() - timedelta(days=35))).sample
    await svc(world).record_results(actor_of(world, "contractor_a"), done.id, results(REBAR_PASS))
    await sample_on(world, batch.id, taken_at=clock.now() - timedelta(days=2))  # recent
    out = await samples_awaiting_result(clock.now() - timedelta(days=28))
    assert [x["sample_id"] for x in out] == [old.id]
    assert (out[0]["results_recorded"], out[0]["results_expected"], out[0]["material"]) == (1, 6, "rebar")
    assert out[0]["contractor_id"] == world.orgs["contractor_a"].id and out[0]["batch_id"] == batch.id
    assert len(await samples_awaiting_result(clock.now() + timedelta(minutes=1))) == 2
    with pytest.raises(ValueError, match="time zone"):
        await samples_awaiting_result(clock.now().replace(tzinfo=None))


# the command line runs on the wall clock, as it does for its users: so do this test's records
@pytest.mark.wall_clock
async def test_command_line_ledger_and_awaiting(world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    batch = (await new_batch(world)).batch
    await sample_on(world, batch.id, label_code="GJ-CLI-1")
    out = tmp_path / "ledger.csv"
    code = world.p1.code  # type: ignore[union-attr]
    run = (
        f"from inspection.cli import main; raise SystemExit(main(['samples', 'ledger', {code!r}, '-o', {str(out)!r}]))"
    )
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", run, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    assert proc.returncode == 0, err
    text = out.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and "GJ-CLI-1" in text.decode("utf-8-sig")
    run = "from inspection.cli import main; raise SystemExit(main(['samples', 'awaiting', '--days', '0']))"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", run, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, err = await proc.communicate()
    assert proc.returncode == 0, err
    assert "GJ-CLI-1" in stdout.decode() and "共 1 个送检样品" in stdout.decode()
