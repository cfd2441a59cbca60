"""Demo data for warranty and alerts: one site of the first demo project accepted two years ago
(so its two-year warranties are about to end), a resident's claim, a weekly safety inspection
schedule, and the alerts the jobs raise from them."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from uuid import UUID

import msgspec

from inspection.actor import SYSTEM, Actor
from inspection.alerts import schemas as alert_schemas
from inspection.alerts.jobs import JOBS
from inspection.alerts.rules import Frequency
from inspection.alerts.runner import run_jobs
from inspection.alerts.service import AlertsService
from inspection.blockers import acceptance_blockers
from inspection.clock import Clock, SystemClock
from inspection.evidence import links
from inspection.messages import t
from inspection.projects.tables import Membership, Site, WorkItem
from inspection.records import write
from inspection.settings import get_settings
from inspection.warranty import schemas as s
from inspection.warranty.rules import AcceptanceParty, add_months
from inspection.warranty.service import WarrantyService


def _actor(user_id: UUID, username: str, org_id: UUID | None, kind: str | None) -> Actor:
    return Actor(user_id=user_id, username=username, organisation_id=org_id, organisation_kind=kind, device_id="demo")


async def load_demo(
    orgs: dict[str, UUID], users: dict[str, UUID], quiet: bool = False, clock: Clock | None = None
) -> None:
    settings = get_settings()
    clock = clock or SystemClock()
    warranty = WarrantyService(settings, clock)
    owner = _actor(users["owner1"], "owner1", orgs["owner"], "owner")
    resident = _actor(users["resident1"], "resident1", None, None)
    inspector = _actor(users["inspector1"], "inspector1", orgs["supervisor"], "supervisor")
    membership = (
        await Membership.select(Membership.project)
        .where(Membership.user == users["resident1"])
        .order_by(Membership.project.code)
        .first()
    )
    if membership is None:
        return
    project_id = membership["project"]
    # The first site by name that nothing blocks: the other demos put open orders, draft
    # inspections and rejected materials on the first sites, and an acceptance must not meet them.
    site = None
    sites = await Site.select(Site.id, Site.name).where(Site.project == project_id).order_by(Site.name, Site.id)
    for candidate in sites:
        if not await acceptance_blockers(project_id, candidate["id"]):
            site = candidate
            break
    if site is None:
        return
    roof = (
        await WorkItem.select(WorkItem.id)
        .where((WorkItem.site == site["id"]) & (WorkItem.work_type == "roof_waterproofing"))
        .order_by(WorkItem.building.name, WorkItem.id)
        .first()
    )
    today = warranty.today()
    # two years less 60 days ago: the two-year warranties end within the 90-day lead time
    accepted_on = add_months(today, -24) + timedelta(days=60)
    people = [
        (AcceptanceParty.owner, "建设单位代表", orgs["owner"]),
        (AcceptanceParty.contractor, "施工单位项目经理", orgs["contractor_a"]),
        (AcceptanceParty.supervisor, "总监理工程师", orgs["supervisor"]),
        (AcceptanceParty.designer, "设计负责人", orgs["designer"]),
        (AcceptanceParty.community, "街道城建科", orgs["community"]),
        (AcceptanceParty.property, "物业项目经理", orgs["property"]),
        (AcceptanceParty.resident_supervisor, "业主监督员（一）", None),
        (AcceptanceParty.resident_supervisor, "业主监督员（二）", None),
    ]
    terms = []
    if roof is not None:
        terms.append(
            {
                "work_item_id": str(roof["id"]),
                "settlement_amount": "1260000.00",
                "retention_amount": "37800.00",
                "defect_liability_months": 24,
            }
        )
    acceptance = await warranty.record_acceptance(
        owner,
        msgspec.convert(
            {
                "project_id": str(project_id),
                "site_id": str(site["id"]),
                "accepted_on": accepted_on.isoformat(),
                "result": "passed",
                "remarks": "工程资料齐全，实体质量符合设计及规范要求，同意通过竣工验收。",
                "participants": [
                    {"party": p.value, "name": n, "organisation_id": str(o) if o else None, "signed": True}
                    for p, n, o in people
                ],
                "terms": terms,
            },
            s.AcceptanceCreate,
        ),
    )
    roof_item = next((i for i in acceptance.warranty_items if i.work_type == "roof_waterproofing"), None)
    if roof_item is not None:
        photo = hashlib.sha256(b"siteinspect demo: ceiling stain under the roof").hexdigest()
        async with write(SYSTEM, clock) as w:
            await links.announce(w, photo, project_id=project_id, organisation_id=None, content_type="image/jpeg")
        await warranty.report_claim(
            resident,
            s.ClaimCreate(
                warranty_item_id=roof_item.id,
                reporter_party="resident",
                location=f"{site['name']} 1号楼 2单元 602 室卧室顶棚",
                description="雨后顶棚出现水渍，墙角有渗水痕迹。",
                photos=[photo],
            ),
        )
    await AlertsService(settings, clock).create_schedule(
        inspector,
        alert_schemas.ScheduleCreate(
            project_id=project_id,
            title="每周安全巡查",
            kind="safety",
            frequency=Frequency.weekly,
            weekday=2,
            working_days_only=True,
            starts_on=today,
            inspector_id=users["inspector1"],
        ),
    )
    results = await run_jobs(JOBS, settings, clock)
    if not quiet:
        made = sum(r.created for r in results)
        items = len(acceptance.warranty_items)
        print(t("cli.demo_warranty", site=site["name"], day=accepted_on.isoformat(), items=items, alerts=made))
