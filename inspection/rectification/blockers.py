"""What rectification holds against a joint acceptance: orders still open (issued, answered but
not reviewed, or sent back) and work stops not yet lifted."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from inspection.blockers import Blocker
from inspection.rectification.rules import OPEN
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
