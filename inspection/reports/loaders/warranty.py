"""保修登记表 and 竣工联合验收记录 — through the warranty service, so its access rules hold (a
contractor sees its own warranty items only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.programme.survey import summary_until
from inspection.projects.tables import Site
from inspection.reports import rules
from inspection.reports.loaders.base import (
    Photos,
    ReportData,
    letterhead,
    org_rows,
    project_row,
    site_names,
    user_names,
)
from inspection.warranty.service import WarrantyService

PAGE = 500


def _item(i: Any, sites: dict[UUID, str]) -> dict[str, Any]:
    return {
        "site": sites.get(i.site_id, ""),
        "work_item": i.work_item_name,
        "work_type": i.work_type,
        "contractor": i.contractor_name,
        "period_unit": i.period_unit,
        "period_amount": i.period_amount,
        "by_contract": i.by_contract,
        "starts_on": i.starts_on,
        "ends_on": i.ends_on,
        "days_left": i.days_left,
        "expired": i.expired,
        "retention": str(i.retention_amount),
        "retention_release_on": i.retention_release_on,
        "retention_released_on": i.retention_released_on,
    }


async def load_warranty_register(service: WarrantyService, actor: Actor, project_id: UUID) -> ReportData:
    """Every warranty item of the project the actor may see, soonest to expire first, with the days
    left as of today (Beijing time)."""
    items: list[Any] = []
    while True:
        page = await service.register(actor, project_id, limit=PAGE, offset=len(items))
        items += page.items
        if len(items) >= page.total or not page.items:
            break
    project = await project_row(project_id)
    sites = await site_names({i.site_id for i in items})
    today = service.today()
    context = {
        "today": today,
        "items": [_item(i, sites) for i in items],
        "counts": {
            "total": len(items),
            "expired": sum(1 for i in items if i.expired),
            "within_90": sum(1 for i in items if not i.expired and i.days_left <= 90),
        },
    }
    return ReportData(
        kind="warranty_register",
        subject_id=project_id,
        project_id=project_id,
        title=rules.kind_info("warranty_register").title,
        letterhead=await letterhead(project, actor.organisation_id),
        context=context,
    )


async def _project_sites(project_id: UUID) -> list[UUID]:
    rows = await Site.select(Site.id).where((Site.project == project_id) & Site.deleted.eq(False))
    return [r["id"] for r in rows]


async def load_acceptance(service: WarrantyService, actor: Actor, acceptance_id: UUID) -> ReportData:
    a = await service.get_acceptance(actor, acceptance_id)  # NotFound unless a member
    project = await project_row(a.project_id)
    orgs = await org_rows(p.organisation_id for p in a.participants)
    people = await user_names([a.recorded_by_id])
    photos = Photos(actor)
    await photos.load([*(p.signature for p in a.participants if p.signature), *a.photos])
    sites = await site_names({a.site_id} if a.site_id else set())
    sites |= await site_names({i.site_id for i in a.warranty_items})
    context = {
        "acceptance": {
            "site": sites.get(a.site_id, "") if a.site_id else "",
            "accepted_on": a.accepted_on,
            "result": a.result,
            "remarks": a.remarks,
            "recorded_by": people.get(a.recorded_by_id, "") if a.recorded_by_id else "",
        },
        "participants": [
            {
                "party": p.party,
                "name": p.name,
                "organisation": orgs[p.organisation_id]["name"] if p.organisation_id in orgs else "",
                "signed": p.signed,
                "opinion": p.opinion,
                "signature": photos.show(p.signature) if p.signature else None,
            }
            for p in a.participants
        ],
        "photos": [photos.show(sha) for sha in a.photos],
        "items": [_item(i, sites) for i in a.warranty_items],
        # residents' evaluation (效果评价) as of the end of the acceptance day: the record does not
        # change when later answers arrive
        "satisfaction": await summary_until(
            [a.site_id] if a.site_id else await _project_sites(a.project_id),
            rules.day_start(a.accepted_on + timedelta(days=1)),
        ),
    }
    return ReportData(
        kind="acceptance",
        subject_id=a.id,
        project_id=a.project_id,
        title=rules.kind_info("acceptance").title,
        letterhead=await letterhead(project, project["owner_organisation"]),
        context=context,
        thumbnails=photos.thumbnails(),
    )
