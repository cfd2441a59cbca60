"""The demo programme carries material batches in every state; loading twice adds nothing."""

from __future__ import annotations

from inspection.demo import load_demo
from inspection.rectification.tables import RectificationOrder
from inspection.samples import demo as samples_demo
from inspection.samples.tables import MaterialBatch, Sample


async def test_demo_batches(database: None) -> None:
    assert await load_demo(quiet=True)
    statuses = {
        r["material"]: r["status"] for r in await MaterialBatch.select(MaterialBatch.material, MaterialBatch.status)
    }
    assert statuses["roof_membrane"] == "accepted"  # failed, passed its retest
    assert statuses["waterproof_coating"] == "rejected"
    assert {"awaiting_sampling", "sampling", "accepted", "rejected"} <= set(statuses.values())
    assert await Sample.count().where(Sample.is_retest.eq(True)) == 2
    assert await Sample.count().where(Sample.witness.is_not_null()) >= 4
    assert await RectificationOrder.count().where(RectificationOrder.source == "failed_sample") == 1
    batches = await MaterialBatch.count()
    assert not await samples_demo.load_demo(quiet=True)
    assert await MaterialBatch.count() == batches
