"""The demo programme carries material batches in every state; loading twice adds nothing."""

from __future__ import annotations

from inspection.clock import FixedClock
from inspection.demo import load_demo
from inspection.demo import samples as samples_demo
from inspection.projects.tables import Project
from inspection.rectification.tables import RectificationOrder
from inspection.samples.tables import MaterialBatch, Sample


async def test_demo_batches(clock: FixedClock) -> None:
    assert await load_demo(quiet=True, clock=clock)
    project = await Project.select(Project.id).where(Project.code == samples_demo.DEMO_PROJECT_CODE).first()
    assert project is not None
    pid = project["id"]
    statuses = {
        r["material"]: r["status"]
        for r in await MaterialBatch.select(MaterialBatch.material, MaterialBatch.status).where(
            MaterialBatch.project == pid
        )
    }
    assert statuses["roof_membrane"] == "accepted"  # failed, passed its retest
    assert statuses["waterproof_coating"] == "rejected"
    assert {"awaiting_sampling", "sampling", "accepted", "rejected"} <= set(statuses.values())
    assert await Sample.count().where((Sample.project == pid) & Sample.is_retest.eq(True)) == 2
    assert await Sample.count().where((Sample.project == pid) & Sample.witness.is_not_null()) >= 4
    failed = (RectificationOrder.project == pid) & (RectificationOrder.source == "failed_sample")
    assert await RectificationOrder.count().where(failed) == 1
    batches = await MaterialBatch.count().where(MaterialBatch.project == pid)
    assert not await samples_demo.load_demo(quiet=True, clock=clock)
    assert await MaterialBatch.count().where(MaterialBatch.project == pid) == batches
