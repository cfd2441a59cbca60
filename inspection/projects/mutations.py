"""Tablet commands on project structure, applied through sync push."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from inspection.errors import Forbidden, NotFound, ValidationFailed
from inspection.projects.access import project_access
from inspection.projects.rules import WorkItemStatus
from inspection.projects.tables import Building, Site, WorkItem
from inspection.records import context_buckets, contractor_bucket, load_row, project_bucket
from inspection.sync.registry import Outcome
from inspection.sync.service import MutationContext, merge_update

SITE_FIELDS = {"name", "address", "year_built", "building_count", "households", "floor_area_m2"}
WORK_ITEM_FIELDS = {"status", "planned_start", "planned_end"}
BUILDING_FIELDS = {"name", "floors", "units", "households", "year_built"}


async def _load(table: Any, entity_id: Any) -> dict[str, Any]:
    try:
        key = UUID(str(entity_id))
    except ValueError:
        raise ValidationFailed("entity_id must be a UUID", field="entity_id") from None
    row = await load_row(table, key)
    if row is None:
        raise NotFound(f"{table._meta.tablename} {key} does not exist")
    return row  # type: ignore[no-any-return]


async def site_update(ctx: MutationContext) -> Outcome:
    row = await _load(Site, ctx.mutation.get("entity_id"))
    access = await project_access(ctx.actor, row["project"])
    if not access.can_manage:
        raise Forbidden("only the project's owner or supervisor may change sites")
    return await merge_update(ctx, Site, row, SITE_FIELDS, context_buckets(row["project"]), project_id=row["project"])


async def building_update(ctx: MutationContext) -> Outcome:
    row = await _load(Building, ctx.mutation.get("entity_id"))
    access = await project_access(ctx.actor, row["project"])
    if not access.can_manage:
        raise Forbidden("only the project's owner or supervisor may change buildings")
    return await merge_update(
        ctx, Building, row, BUILDING_FIELDS, context_buckets(row["project"]), project_id=row["project"]
    )


async def work_item_update(ctx: MutationContext) -> Outcome:
    row = await _load(WorkItem, ctx.mutation.get("entity_id"))
    access = await project_access(ctx.actor, row["project"])
    if not access.sees_organisation_record(row["contractor"]):
        raise NotFound(f"work item {row['id']} does not exist")
    if not access.can_manage:
        raise Forbidden("only the project's owner or supervisor may change work items")
    status = (ctx.args.get("set") or {}).get("status")
    if status is not None and status not in {s.value for s in WorkItemStatus}:
        raise ValidationFailed(f"unknown work item status {status!r}", field="args.set.status")
    buckets = [project_bucket(row["project"])]
    if row["contractor"]:
        buckets.append(contractor_bucket(row["project"], row["contractor"]))
    return await merge_update(ctx, WorkItem, row, WORK_ITEM_FIELDS, buckets, project_id=row["project"])


MUTATIONS = {
    "site.update@1": site_update,
    "building.update@1": building_update,
    "work_item.update@1": work_item_update,
}
