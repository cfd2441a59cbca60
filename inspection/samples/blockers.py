"""What the samples domain puts in the way of a joint acceptance (see inspection/blockers.py): a
rejected batch that has not left the site (no disposition recorded yet)."""

from __future__ import annotations

from uuid import UUID

from inspection.blockers import Blocker, place_names
from inspection.messages import t
from inspection.samples.rulebook import default_rulebook
from inspection.samples.rules import BatchStatus
from inspection.samples.tables import MaterialBatch

B = MaterialBatch


async def acceptance_blockers(project_id: UUID, site_id: UUID | None) -> list[Blocker]:
    """Rejected batches of the project (or of the site) whose disposition is not recorded."""
    where = (B.project == project_id) & (B.status == BatchStatus.rejected.value) & B.deleted.eq(False)
    if site_id is not None:
        where &= B.site == site_id
    rows = await (
        B.select(B.id, B.material, B.batch_number, B.quantity, B.unit, B.site, B.work_item)
        .where(where)
        .order_by(B.arrival_date)
    )
    book = default_rulebook()
    places = await place_names(rows)
    out = []
    for r, place in zip(rows, places, strict=True):
        rule = book.material(r["material"])
        name = rule.name if rule else r["material"]
        out.append(
            Blocker(
                kind="batch_not_disposed",
                record_table=B._meta.tablename,
                record_id=r["id"],
                description=t(
                    "blockers.batch_not_disposed",
                    place=place,
                    material=name,
                    batch=r["batch_number"] or "—",
                    quantity=r["quantity"],
                    unit=r["unit"],
                ),
                link=f"/portal/projects/{project_id}",
            )
        )
    return out
