"""Data for the tablet's browser tests, written into the server's own database before it starts:
`python -m tests.tablet.seed` with the server's SITEINSPECT_* environment prints the ids as JSON.
Everything goes through the same services the API uses."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from hashlib import sha256
from typing import Any

from api.app import build_services
from inspection import db
from inspection.actor import SYSTEM
from inspection.checklists.catalogue import import_shipped
from inspection.clock import SystemClock
from inspection.projects import schemas as ps
from inspection.projects.rules import OrgKind, Role, WorkCategory, WorkItemStatus, WorkType
from inspection.rectification import schemas as rs
from inspection.rectification.rules import OrderKind
from inspection.settings import get_settings
from tests.factories import make_org, make_user
from tests.portal.seed import actor, photo


async def _upload(services: Any, who: Any, project_id: Any, data: bytes) -> str:
    digest = sha256(data).hexdigest()

    async def chunks() -> Any:
        yield data

    await services.evidence.upload(who, digest, chunks(), declared_size=len(data), project_id=project_id)
    return digest


async def seed() -> dict[str, Any]:
    settings = get_settings()
    clock = SystemClock()
    services = build_services(settings, clock)
    await import_shipped(clock)
    orgs = {
        "owner": await make_org(services, OrgKind.owner, "城东区住房和城乡建设局"),
        "supervisor": await make_org(services, OrgKind.supervisor, "诚信建设监理有限公司"),
        "contractor": await make_org(services, OrgKind.contractor, "永固建筑工程有限公司"),
        "lab": await make_org(services, OrgKind.lab, "市建设工程质量检测中心"),
    }
    users = {
        "inspector": await make_user(services, "inspector", orgs["supervisor"]),
        "inspector2": await make_user(services, "inspector2", orgs["supervisor"]),
        "contractor": await make_user(services, "contractor", orgs["contractor"]),
        "owner": await make_user(services, "owner", orgs["owner"]),
    }
    project = await services.projects.create_project(
        SYSTEM,
        ps.ProjectCreate(
            code="CD-2026-01",
            name="城东片区老旧小区改造",
            district="城东区",
            year=2026,
            owner_organisation_id=orgs["owner"].id,
        ),
    )
    other = await services.projects.create_project(
        SYSTEM, ps.ProjectCreate(code="CD-2026-02", name="城东片区二期", district="城东区", year=2026)
    )
    for who, role, where in [
        ("inspector", Role.supervisor, project),
        ("inspector", Role.inspector, project),
        ("inspector2", Role.inspector, other),
        ("contractor", Role.contractor, project),
        ("owner", Role.owner, project),
    ]:
        await services.projects.add_member(SYSTEM, where.id, ps.MembershipCreate(user_id=users[who].id, role=role))
    site = await services.projects.create_site(
        SYSTEM,
        project.id,
        ps.SiteCreate(name="和平里小区", address="城东区和平路 6 号", households=320, building_count=8),
    )
    other_site = await services.projects.create_site(SYSTEM, other.id, ps.SiteCreate(name="二期试点小区"))
    building = await services.projects.create_building(SYSTEM, site.id, ps.BuildingCreate(name="5号楼", floors=6))
    today = date.today()
    roof = await services.projects.create_work_item(
        SYSTEM,
        project.id,
        ps.WorkItemCreate(
            site_id=site.id,
            building_id=building.id,
            category=WorkCategory.basic,
            work_type=WorkType.roof_waterproofing,
            name="5号楼屋面防水改造",
            contractor_id=orgs["contractor"].id,
            status=WorkItemStatus.in_progress,
            planned_start=today - timedelta(days=10),
            planned_end=today + timedelta(days=50),
        ),
    )
    # an order the inspector issued and the contractor answered: waiting for the inspector's review
    inspector = actor(users["inspector"], orgs["supervisor"])
    contractor = actor(users["contractor"], orgs["contractor"])
    before = await _upload(services, inspector, project.id, photo((150, 40, 40)))
    order = await services.rectification.create_order(
        inspector,
        rs.OrderCreate(
            project_id=project.id,
            work_item_id=roof.id,
            kind=OrderKind.quality,
            description="5号楼屋面女儿墙泛水高度不足 250 mm",
            photos=[before],
            issue=True,
        ),
    )
    after = await _upload(services, contractor, project.id, photo((40, 140, 60)))
    await services.rectification.respond(
        contractor,
        order.order.id,
        rs.RespondBody(text="已将泛水高度加至 300 mm 并重新粘贴卷材", photos=[after]),
    )
    return {
        "project": str(project.id),
        "other_project": str(other.id),
        "site": str(site.id),
        "other_site": str(other_site.id),
        "roof": str(roof.id),
        "order": str(order.order.id),
        "before_photo": before,
        "after_photo": after,
        "users": {k: str(u.id) for k, u in users.items()},
    }


async def main() -> None:
    async with db.connection_pool(get_settings()):
        print(json.dumps(await seed(), ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
