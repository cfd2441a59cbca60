"""What rectification holds against a joint acceptance: orders still open (issued, answered but
not reviewed, or sent back), drafts an inspection's failures opened that nobody has issued or
discarded yet, and work stops not yet lifted."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from inspection.blockers import Blocker, organisation_names, place_names
from inspection.messages import t
from inspection.rectification.rules import OPEN, OrderKind, OrderState, Source
from inspection.rectification.tables import RectificationOrder, WorkStop
from inspection.rectification.texts import KIND_NAMES, STATE_NAMES

RO = RectificationOrder


async def acceptance_blockers(project_id: UUID, site_id: UUID | None) -> list[Blocker]:
    where: Any = (RO.project == project_id) & RO.status.is_in([st.value for st in OPEN]) & RO.deleted.eq(False)
    if site_id is not None:
        where &= RO.site == site_id
    orders = await (
        RO.select(
            RO.id, RO.kind, RO.status, RO.description, RO.deadline, RO.site, RO.building, RO.work_item, RO.contractor
        )
        .where(where)
        .order_by(RO.deadline)
    )
    places = await place_names(orders)
    contractors = await organisation_names(o["contractor"] for o in orders)
    found = [
        Blocker(
            kind="open_order",
            record_table=RO._meta.tablename,
            record_id=o["id"],
            description=t(
                "blockers.open_order",
                place=place,
                kind=KIND_NAMES[OrderKind(o["kind"])],
                contractor=contractors.get(o["contractor"], ""),
                state=STATE_NAMES[OrderState(o["status"])],
                what=o["description"][:80],
            ),
            link=f"/portal/orders/{o['id']}",
        )
        for o, place in zip(orders, places, strict=True)
    ]
    found += await _undecided_drafts(project_id, site_id)
    stop_where: Any = (WorkStop.project == project_id) & WorkStop.resumed_at.is_null() & WorkStop.deleted.eq(False)
    if site_id is not None:
        stop_where &= WorkStop.site == site_id
    stops = await WorkStop.select(
        WorkStop.id, WorkStop.started_at, WorkStop.site, WorkStop.work_item, WorkStop.order, WorkStop.contractor
    ).where(stop_where)
    stop_places = await place_names(stops)
    stop_contractors = await organisation_names(st["contractor"] for st in stops)
    found += [
        Blocker(
            kind="work_stopped",
            record_table=WorkStop._meta.tablename,
            record_id=st["id"],
            description=t(
                "blockers.work_stopped",
                place=place,
                contractor=stop_contractors.get(st["contractor"], ""),
                since=st["started_at"],
            ),
            link=f"/portal/orders/{st['order']}",
        )
        for st, place in zip(stops, stop_places, strict=True)
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
    drafts = (
        await RO.select(RO.id, RO.kind, RO.site, RO.building, RO.work_item, RO.description)
        .where(where)
        .order_by(RO.version)
    )
    places = await place_names(drafts)
    return [
        Blocker(
            kind="draft_order",
            record_table=RO._meta.tablename,
            record_id=o["id"],
            description=t(
                "blockers.draft_order", place=place, kind=KIND_NAMES[OrderKind(o["kind"])], what=o["description"][:80]
            ),
            link=f"/portal/orders/{o['id']}",
        )
        for o, place in zip(drafts, places, strict=True)
    ]
