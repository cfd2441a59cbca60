"""A seam for the checklists domain: a quality inspection lot (检验批) that uses a material batch
not yet accepted (or, for a failed concrete or mortar lot, not yet treated and accepted) warns on
submit and cannot pass.

    from inspection.samples.guards import batches_not_accepted

    problems = await batches_not_accepted(lot_batch_ids)
    if problems:  # each: batch_id, status, material, material_name, batch_number, reason
        ...  # warn, and refuse a passing verdict

A batch id that names no batch (or a deleted one) is reported with status "missing", so a typo
never lets a lot pass.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from inspection.samples.rulebook import default_rulebook
from inspection.samples.rules import BatchStatus
from inspection.samples.tables import MaterialBatch

B = MaterialBatch


async def batches_not_accepted(batch_ids: list[UUID]) -> list[dict[str, Any]]:
    """The batches among `batch_ids` that are not accepted, in the order given (each once)."""
    wanted = list(dict.fromkeys(batch_ids))
    if not wanted:
        return []
    rows = await B.select(B.id, B.status, B.status_reason, B.material, B.batch_number, B.project).where(
        B.id.is_in(wanted) & B.deleted.eq(False)
    )
    found = {r["id"]: r for r in rows}
    book = default_rulebook()
    out: list[dict[str, Any]] = []
    for batch_id in wanted:
        r = found.get(batch_id)
        if r is None:
            out.append(
                {
                    "batch_id": batch_id,
                    "project_id": None,
                    "status": "missing",
                    "material": None,
                    "material_name": None,
                    "batch_number": None,
                    "reason": "no such material batch",
                }
            )
            continue
        # a failed concrete or mortar lot accepted after in-place testing, the designer's check or
        # strengthening counts as accepted (GB 50300-2013 §5.0.6)
        if r["status"] in (BatchStatus.accepted.value, BatchStatus.treated.value):
            continue
        rule = book.material(r["material"])
        out.append(
            {
                "batch_id": batch_id,
                "project_id": r["project"],
                "status": r["status"],
                "material": r["material"],
                "material_name": rule.name if rule else r["material"],
                "batch_number": r["batch_number"],
                "reason": r["status_reason"],
            }
        )
    return out
