"""Tablet commands on project structure: field edits of sites, buildings and work items."""

from __future__ import annotations

from typing import Any

from inspection.projects import schemas as s
from inspection.projects.schemas import Input
from inspection.sync.commands.base import CommandContext, Outcome, changes_of, edit_fields

SiteChanges = changes_of(s.SiteUpdate, leave_out=frozenset({"version"}), name="SiteChanges")
BuildingChanges = changes_of(s.BuildingUpdate, leave_out=frozenset({"version"}), name="BuildingChanges")
WorkItemChanges = changes_of(s.WorkItemUpdate, leave_out=frozenset({"version"}), name="WorkItemChanges")


class SiteEdit(Input, kw_only=True):
    set: SiteChanges  # type: ignore[valid-type]


class BuildingEdit(Input, kw_only=True):
    set: BuildingChanges  # type: ignore[valid-type]


class WorkItemEdit(Input, kw_only=True):
    set: WorkItemChanges  # type: ignore[valid-type]


async def site_update(ctx: CommandContext, args: SiteEdit) -> Outcome:
    projects, site_id = ctx.services.projects, ctx.entity
    current = await projects.site_for_edit(ctx.actor, site_id)

    async def save(version: int, fields: dict[str, Any]) -> s.SiteOut:
        return await projects.update_site(ctx.actor, site_id, s.SiteUpdate(version=version, **fields))

    return await edit_fields(
        ctx, table_name="site", current=current, changes=args.set, save=save, project_id=current.project_id
    )


async def building_update(ctx: CommandContext, args: BuildingEdit) -> Outcome:
    projects, building_id = ctx.services.projects, ctx.entity
    current = await projects.building_for_edit(ctx.actor, building_id)

    async def save(version: int, fields: dict[str, Any]) -> s.BuildingOut:
        return await projects.update_building(ctx.actor, building_id, s.BuildingUpdate(version=version, **fields))

    return await edit_fields(
        ctx, table_name="building", current=current, changes=args.set, save=save, project_id=current.project_id
    )


async def work_item_update(ctx: CommandContext, args: WorkItemEdit) -> Outcome:
    projects, work_item_id = ctx.services.projects, ctx.entity
    current = await projects.work_item_for_edit(ctx.actor, work_item_id)

    async def save(version: int, fields: dict[str, Any]) -> s.WorkItemOut:
        return await projects.update_work_item(ctx.actor, work_item_id, s.WorkItemUpdate(version=version, **fields))

    return await edit_fields(
        ctx, table_name="work_item", current=current, changes=args.set, save=save, project_id=current.project_id
    )
