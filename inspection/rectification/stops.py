"""Work stops (停工) imposed by stop-work orders: starting and ending them, and the query other
domains (new inspections, material batches) use to show that a site or work item is stopped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from inspection.projects.tables import WorkItem
from inspection.records import Write, contractor_bucket, project_bucket
from inspection.rectification import schemas as s
from inspection.rectification.tables import WorkStop


async def start_stop(w: Write, order: dict[str, Any]) -> None:
    await w.insert(
        WorkStop,
        {
            "project": order["project"],
            "site": order["site"],
            "work_item": order["work_item"],
            "order": order["id"],
            "contractor": order["contractor"],
            "started_at": w.now,
            "started_by": w.actor.user_id,
        },
        [project_bucket(order["project"]), contractor_bucket(order["project"], order["contractor"])],
    )


async def end_stops(w: Write, order: dict[str, Any], note: str) -> int:
    rows = await WorkStop.select().where((WorkStop.order == order["id"]) & WorkStop.resumed_at.is_null())
    for row in rows:
        await w.update(
            WorkStop,
            row["id"],
            {"resumed_at": w.now, "resumed_by": w.actor.user_id, "resume_note": note},
            [project_bucket(row["project"]), contractor_bucket(row["project"], row["contractor"])],
            current=row,
        )
    return len(rows)


@dataclass(frozen=True)
class StopInfo:
    """An active stop, as other domains show it on a site or work item."""

    stop_id: UUID
    order_id: UUID
    project_id: UUID
    site_id: UUID
    work_item_id: UUID | None
    started_at: datetime


async def active_stops(
    project_id: UUID | None = None, site_id: UUID | None = None, work_item_id: UUID | None = None
) -> list[StopInfo]:
    """Stops not yet resumed. For a work item: its own stops and whole-site stops of its site.
    For a site: every stop on it (whole site or any of its work items). Callers check access."""
    if [project_id, site_id, work_item_id].count(None) != 2:
        raise ValueError("give exactly one of project_id, site_id, work_item_id")
    where: Any = WorkStop.resumed_at.is_null() & WorkStop.deleted.eq(False)
    if project_id is not None:
        where &= WorkStop.project == project_id
    elif site_id is not None:
        where &= WorkStop.site == site_id
    else:
        item = await WorkItem.select(WorkItem.site).where(WorkItem.id == work_item_id).first()
        if item is None:
            return []
        where &= (WorkStop.work_item == work_item_id) | ((WorkStop.site == item["site"]) & WorkStop.work_item.is_null())
    rows = await WorkStop.select().where(where).order_by(WorkStop.started_at)
    return [StopInfo(r["id"], r["order"], r["project"], r["site"], r["work_item"], r["started_at"]) for r in rows]


def stop_out(row: dict[str, Any]) -> s.StopOut:
    return s.from_row(row, s.StopOut, active=row["resumed_at"] is None)  # type: ignore[no-any-return]
