"""What rectification holds against a joint acceptance: orders still open (issued, answered but
not reviewed, or sent back), drafts an inspection's failures opened that nobody has issued or
discarded yet, and work stops not yet lifted."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from inspection.blockers import Blocker
from inspection.rectification.rules import OPEN, OrderState, Source
from inspection.rectification.tables import RectificationOrder, WorkStop

RO = RectificationOrder


async def acceptance_blockers(project_id: UUID, site_id: UUID | None) -> list[Blocker]:
    where: Any = (RO.project == project_id) & RO.status.is_in([st.value for st in OPEN]) & RO.deleted.eq(False)
    if site_id is not None:
        where &= RO.site == site_id
    orders = await RO.select(RO.id, RO.kind, RO.status, RO.description, RO.deadline).where(where).order_by(RO.deadline)
    found = [
        Blocker(
            kind="open_order",
            record_table=RO._meta.tablename,
            record_id=o["id"],
            description=f"{o['kind']} order {o['status']}: {o['description'][:80]}",
        )
        for o in orders
    ]
    found += await _undecided_drafts(project_id, site_id)
    stop_where: Any = (WorkStop.project == project_id) & WorkStop.resumed_at.is_null() & WorkStop.deleted.eq(False)
    if site_id is not None:
        stop_where &= WorkStop.site == site_id
    stops = await WorkStop.select(WorkStop.id, WorkStop.started_at, WorkStop.work_item).where(stop_where)
    found += [
        Blocker(
            kind="work_stopped",
            record_table=WorkStop._meta.tablename,
            record_id=st["id"],
            description=(
                f"work stopped since {st['started_at'].date().isoformat()}"
                + (" on a work item" if st["work_item"] else " on the whole site")
                + ", not resumed"
            ),
        )
        for st in stops
    ]
    return found


async def _undecided_drafts(project_id: UUID, site_id: UUID | None) -> list[Blocker]:
    """A failure found on inspection is open business until someone issues its draft or discards
    it with a reason; otherwise an acceptance could pass over a defect nobody decided on."""
    where: Any = (
        (RO.project == project_id)
        & (RO.status == OrderState.draft.value)
        & (RO.source == Source.inspection_answer.value)
        & RO.deleted.eq(False)
    )
    if site_id is not None:
        where &= RO.site == site_id
    drafts = await RO.select(RO.id, RO.kind, RO.description).where(where).order_by(RO.version)
    return [
        Blocker(
            kind="draft_order",
            record_table=RO._meta.tablename,
            record_id=o["id"],
            description=f"{o['kind']} order draft, neither issued nor discarded: {o['description'][:80]}",
        )
        for o in drafts
    ]
