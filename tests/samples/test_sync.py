"""Batches, samples, results and retests made offline on tablets and pushed through sync: the same
service and rules as the API, a command that arrives twice converges, refusals never block the queue,
and a contractor's tablet receives only its own organisation's batches."""

from __future__ import annotations

from inspection.records import new_id
from inspection.samples.tables import MaterialBatch, Sample, SampleResult
from tests.factories import World
from tests.samples.helpers import REBAR_PASS, lab
from tests.sync.conftest import Tablets, tablets  # noqa: F401 - the fixture


async def test_offline_batch_sample_results_and_retest(world: World, tablets: Tablets) -> None:  # noqa: F811
    lab_id = str(await lab(world))
    contractor = await tablets("contractor_a")
    other = await tablets("contractor_b")
    supervisor = await tablets("supervisor")
    await contractor.sync()
    contractor.transport.offline = True  # type: ignore[attr-defined]
    batch_id, sample_id, retest_id = new_id(), new_id(), new_id()
    contractor.enqueue(
        "batch.create@1",
        batch_id,
        {
            "project_id": str(world.id_of("p1")),
            "material": "rebar",
            "quantity": "45.2",
            "unit": "t",
            "arrival_date": "2026-11-03",
            "work_item_id": str(world.id_of("work_a")),
        },
    )
    witness = str(world.users["supervisor"].id)
    taken = {"batch_id": str(batch_id), "lab_id": lab_id, "witness_id": witness}
    contractor.enqueue("sample.record@1", sample_id, taken)
    failing = {**REBAR_PASS, "elongation": "14"}
    contractor.enqueue(
        "sample.results@1", sample_id, {"results": [{"test_item": k, "value": v} for k, v in failing.items()]}
    )
    contractor.enqueue("sample.results@1", sample_id, {"results": [{"test_item": "bend", "value": 1}]})  # twice
    contractor.enqueue("sample.retest@1", retest_id, {"retest_of": str(sample_id), "lab_id": lab_id})
    own_witness = {"batch_id": str(batch_id), "lab_id": lab_id, "witness_id": str(world.users["contractor_a"].id)}
    contractor.enqueue("sample.record@1", new_id(), own_witness)
    contractor.transport.offline = False  # type: ignore[attr-defined]
    await contractor.sync()
    results = [o["result"] for o in contractor.outbox()]
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "rejected", "applied", "rejected"]
    assert results[2]["verdict"] == "fail" and results[3]["code"] == "conflict"
    assert results[5]["code"] == "validation"
    retest = await Sample.select().where(Sample.id == retest_id).first()
    assert retest["sets"] == 2 and retest["test_items"] == "elongation"
    assert retest["created_by"] == world.users["contractor_a"].id
    assert await SampleResult.count().where(SampleResult.project == world.id_of("p1")) == 6

    # the same create again from its author converges
    again = {"project_id": str(world.id_of("p1")), "material": "rebar", "quantity": 45.2, "unit": "t"}
    contractor.enqueue("batch.create@1", batch_id, {**again, "arrival_date": "2026-11-03"})
    await contractor.sync()
    assert contractor.outbox()[-1]["result"]["status"] == "noop"
    assert await MaterialBatch.count().where(MaterialBatch.project == world.id_of("p1")) == 1

    assert str(batch_id) in contractor.rows("material_batch")
    assert str(retest_id) in contractor.rows("sample")
    await supervisor.sync()
    assert str(batch_id) in supervisor.rows("material_batch")
    assert len(supervisor.rows("sample_result")) == 6
    await other.sync()
    assert other.rows("material_batch") == {} and other.rows("sample") == {}


async def test_an_id_taken_by_someone_else_is_refused(world: World, tablets: Tablets) -> None:  # noqa: F811
    batch_id = new_id()
    body = {
        "project_id": str(world.id_of("p1")),
        "material": "cement_bulk",
        "quantity": 120,
        "unit": "t",
        "arrival_date": "2026-11-03",
        "work_item_id": str(world.id_of("work_a")),
    }
    first, second = await tablets("contractor_a"), await tablets("supervisor")
    first.enqueue("batch.create@1", batch_id, body)
    second.enqueue("batch.create@1", batch_id, body)
    await first.sync()
    await second.sync()
    assert first.outbox()[0]["result"]["status"] == "applied"
    refused = second.outbox()[0]["result"]
    assert (refused["status"], refused["code"]) == ("rejected", "id_conflict")
    assert await MaterialBatch.count().where(MaterialBatch.project == world.id_of("p1")) == 1
