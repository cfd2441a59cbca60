"""Read-only queries over samples that the service, the ledger, the reports and the alerts
scheduler share. The scheduler's seam: samples sent to a lab whose results are still outstanding.

    from inspection.samples.queries import samples_awaiting_result

    for s in await samples_awaiting_result(now - timedelta(days=28)):
        ...  # s: sample_id, batch_id, project_id, contractor_id, lab_id, label_code, material,
             #    is_retest, taken_at, results_recorded, results_expected

Only samples of batches still being sampled count: once a batch is rejected (or disposed of) its
other samples no longer matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from inspection.samples.rules import OPEN_STATUSES, ResultFact, Verdict
from inspection.samples.tables import Sample, SampleResult


def test_item_codes(text: str) -> list[str]:
    """A sample's `test_items` column (comma-separated codes) as a list."""
    return [c for c in (text or "").split(",") if c]


async def result_facts(sample_ids: Sequence[UUID]) -> dict[UUID, list[ResultFact]]:
    """The lab results recorded for each sample, as the rules read them."""
    out: dict[UUID, list[ResultFact]] = {sid: [] for sid in sample_ids}
    if not sample_ids:
        return out
    rows = await SampleResult.select(
        SampleResult.sample, SampleResult.test_item, SampleResult.set_no, SampleResult.passed
    ).where(SampleResult.sample.is_in(list(sample_ids)) & SampleResult.deleted.eq(False))
    for r in rows:
        out[r["sample"]].append(ResultFact(r["test_item"], r["set_no"], bool(r["passed"])))
    return out


def _expected(material: str, sets: int, items: list[str]) -> int:
    """Results a sample takes: one per item and set, one per sample for an item weighed or tested
    once whatever the sets (rebar weight deviation)."""
    from inspection.samples.rulebook import default_rulebook

    rule = default_rulebook().material(material)
    return sum(rule.result_sets(c, sets) if rule else sets for c in items)


async def samples_awaiting_result(older_than: datetime) -> list[dict[str, Any]]:
    """Samples taken before `older_than` whose verdict is still pending, oldest first."""
    if older_than.tzinfo is None:
        raise ValueError("older_than needs a time zone")
    rows = await (
        Sample.select(
            Sample.id,
            Sample.batch,
            Sample.project,
            Sample.contractor,
            Sample.lab,
            Sample.label_code,
            Sample.batch.material.as_alias("material"),
            Sample.is_retest,
            Sample.taken_at,
            Sample.sets,
            Sample.test_items,
        )
        .where(
            (Sample.verdict == Verdict.pending.value)
            & (Sample.taken_at < older_than)
            & Sample.deleted.eq(False)
            & Sample.batch.status.is_in([s.value for s in OPEN_STATUSES])
            & Sample.batch._.deleted.eq(False)
        )
        .order_by(Sample.taken_at)
        .order_by(Sample.id)
    )
    counts: dict[Any, int] = {}
    if rows:
        results = await SampleResult.select(SampleResult.sample).where(
            SampleResult.sample.is_in([r["id"] for r in rows]) & SampleResult.deleted.eq(False)
        )
        for r in results:
            counts[r["sample"]] = counts.get(r["sample"], 0) + 1
    return [
        {
            "sample_id": r["id"],
            "batch_id": r["batch"],
            "project_id": r["project"],
            "contractor_id": r["contractor"],
            "lab_id": r["lab"],
            "label_code": r["label_code"],
            "material": r["material"],
            "is_retest": r["is_retest"],
            "taken_at": r["taken_at"],
            "results_recorded": counts.get(r["id"], 0),
            "results_expected": _expected(r["material"], r["sets"], test_item_codes(r["test_items"])),
        }
        for r in rows
    ]
