"""What the sampling rules read of a sample: its test items and the lab results recorded for it."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from inspection.samples.rules import ResultFact
from inspection.samples.tables import SampleResult


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
