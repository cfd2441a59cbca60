"""Data for the browser tests, written into the server's own database before it starts:
`python -m tests.portal.seed` with the server's SITEINSPECT_* environment prints the ids as JSON.
Everything goes through the same services the API uses."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta
from decimal import Decimal
from hashlib import sha256
from typing import Any

from PIL import Image, ImageDraw

from api.app import build_services
from inspection import db
from inspection.actor import SYSTEM, Actor
from inspection.clock import FixedClock
from inspection.projects import schemas as ps
from inspection.projects.rules import OrgKind, Role, WorkCategory, WorkItemStatus, WorkType
from inspection.rectification import schemas as rs
from inspection.rectification.rules import OrderKind, Severity
from inspection.rectification.service import RectificationService
from inspection.settings import get_settings
from tests.factories import make_org, make_user
from tests.instant import TEST_NOW

RESIDENT_PHONE = "13912345678"


def photo(text_colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (800, 600), (190, 185, 175))
    draw = ImageDraw.Draw(image)
    draw.rectangle((80, 380, 720, 520), fill=text_colour)
    draw.line((80, 380, 720, 300), fill=(60, 60, 60), width=12)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def actor(user: ps.UserOut, org: ps.OrganisationOut | None) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        organisation_id=org.id if org else None,
        organisation_kind=org.kind.value if org else None,
    )


async def seed() -> dict[str, Any]:
    settings = get_settings()
    clock = FixedClock(TEST_NOW)  # the instant the suite runs at, as the server's clock is
    services = build_services(settings, clock)
    orgs = {
        "owner": await make_org(services, OrgKind.owner, "城南区住房和城乡建设局"),
        "supervisor": await make_org(services, OrgKind.supervisor, "恒信工程监理有限公司"),
        "contractor_a": await make_org(services, OrgKind.contractor, "宏达建设集团有限公司"),
        "contractor_b": await make_org(services, OrgKind.contractor, "安居市政工程有限公司"),
    }
    users = {
        "owner": await make_user(services, "owner", orgs["owner"]),
        "supervisor": await make_user(services, "supervisor", orgs["supervisor"]),
        "contractor_a": await make_user(services, "contractor_a", orgs["contractor_a"]),
        "contractor_b": await make_user(services, "contractor_b", orgs["contractor_b"]),
    }
    resident = await services.projects.create_user(
        SYSTEM,
        ps.UserCreate(username="resident", display_name="李桂兰", password="test-password-42", phone=RESIDENT_PHONE),
    )
    project = await services.projects.create_project(
        SYSTEM,
        ps.ProjectCreate(
            code="CN-2026-01",
            name="城南片区老旧小区改造一期",
            district="城南区",
            year=2026,
            owner_organisation_id=orgs["owner"].id,
        ),
    )
    for who, role in [
        ("owner", Role.owner),
        ("supervisor", Role.supervisor),
        ("supervisor", Role.inspector),
        ("contractor_a", Role.contractor),
        ("contractor_b", Role.contractor),
    ]:
        await services.projects.add_member(SYSTEM, project.id, ps.MembershipCreate(user_id=users[who].id, role=role))
    await services.projects.add_member(
        SYSTEM, project.id, ps.MembershipCreate(user_id=resident.id, role=Role.resident_supervisor)
    )
    site = await services.projects.create_site(
        SYSTEM,
        project.id,
        ps.SiteCreate(
            name="幸福里小区", address="城南区幸福路 18 号", households=412, building_count=9, floor_area_m2=31500.0
        ),
    )
    building = await services.projects.create_building(SYSTEM, site.id, ps.BuildingCreate(name="3号楼", floors=6))
    today = clock.today()
    work = {}
    for key, name, wtype, contractor, status, start, end in [
        ("roof", "屋面防水改造", WorkType.roof_waterproofing, "contractor_a", WorkItemStatus.in_progress, -20, 40),
        (
            "wall",
            "外墙保温及饰面改造",
            WorkType.external_wall_insulation,
            "contractor_a",
            WorkItemStatus.planned,
            10,
            90,
        ),
        ("drain", "雨污分流改造", WorkType.drainage, "contractor_b", WorkItemStatus.completed, -60, -5),
    ]:
        work[key] = await services.projects.create_work_item(
            SYSTEM,
            project.id,
            ps.WorkItemCreate(
                site_id=site.id,
                building_id=building.id if key != "drain" else None,
                category=WorkCategory.basic,
                work_type=wtype,
                name=name,
                contractor_id=orgs[contractor].id,
                status=status,
                planned_start=today + timedelta(days=start),
                planned_end=today + timedelta(days=end),
            ),
        )
    inspector = actor(users["supervisor"], orgs["supervisor"])
    defect = photo((120, 60, 40))
    digest = sha256(defect).hexdigest()

    async def chunks() -> Any:
        yield defect

    await services.evidence.upload(inspector, digest, chunks(), declared_size=len(defect), project_id=project.id)
    order_a = await services.rectification.create_order(
        inspector,
        rs.OrderCreate(
            project_id=project.id,
            work_item_id=work["roof"].id,
            kind=OrderKind.quality,
            description="3号楼屋面防水卷材搭接宽度不足 80 mm，女儿墙泛水高度不够",
            photos=[digest],
            issue=True,
        ),
    )
    # issued three weeks ago, so its deadline has passed
    past = RectificationService(settings, FixedClock(clock.now() - timedelta(days=21)))
    overdue_a = await past.create_order(
        inspector,
        rs.OrderCreate(
            project_id=project.id,
            work_item_id=work["roof"].id,
            kind=OrderKind.safety,
            severity=Severity.general,
            description="屋面临边防护栏杆缺失，作业人员未系安全带",
            issue=True,
        ),
    )
    order_b = await services.rectification.create_order(
        inspector,
        rs.OrderCreate(
            project_id=project.id,
            work_item_id=work["drain"].id,
            kind=OrderKind.quality,
            description="雨水井盖板标高低于路面 30 mm",
            issue=True,
        ),
    )
    await services.rectification.escalate()
    await _other_domains(services, settings, clock, project.id, work, users, orgs, inspector)
    site2 = await _finished_site(services, project.id, orgs, today)
    await _households_conflict(services, clock, site, users, orgs)
    return {
        "site2": str(site2.id),
        "project": str(project.id),
        "site": str(site.id),
        "order_a": str(order_a.order.id),
        "overdue_a": str(overdue_a.order.id),
        "order_b": str(order_b.order.id),
        "order_b_text": order_b.order.description,
        "inspector_photo": digest,
        "resident_phone": RESIDENT_PHONE,
        "resident_name": resident.display_name,
        "contractor_a_name": orgs["contractor_a"].name,
    }


async def _finished_site(services: Any, project_id: Any, orgs: Any, today: Any) -> Any:
    """A second 小区 whose only work is finished with nothing open: ready for joint acceptance."""
    site = await services.projects.create_site(
        SYSTEM,
        project_id,
        ps.SiteCreate(
            name="和平里小区", address="城南区和平街 6 号", households=168, building_count=4, floor_area_m2=12800.0
        ),
    )
    await services.projects.create_work_item(
        SYSTEM,
        project_id,
        ps.WorkItemCreate(
            site_id=site.id,
            category=WorkCategory.basic,
            work_type=WorkType.stairwell,
            name="楼道综合整治",
            contractor_id=orgs["contractor_b"].id,
            status=WorkItemStatus.completed,
            planned_start=today - timedelta(days=90),
            planned_end=today - timedelta(days=10),
        ),
    )
    return site


async def _households_conflict(services: Any, clock: Any, site: Any, users: Any, orgs: Any) -> None:
    """The owner's tablet and the supervisor's both change 户数 of 幸福里小区 offline, through the
    sync push as tablets send it: the supervisor's arrives last, the owner's value is overwritten."""
    for n, (who, households) in enumerate([("owner", 420), ("supervisor", 418)]):
        device = f"seed-tablet-{who}"
        pusher = Actor(
            user_id=users[who].id,
            username=users[who].username,
            organisation_id=orgs[who].id,
            organisation_kind=orgs[who].kind.value,
            device_id=device,
        )
        mutation = {
            "seq": 1,
            "id": f"0190d6c1-0000-7000-8000-00000000000{n}",
            "name": "site.update@1",
            "entity_id": str(site.id),
            "base_version": site.version,
            "base_values": {"households": site.households},
            "args": {"set": {"households": households}},
            "device_ts": clock.now().isoformat(),
        }
        results, _ = await services.sync.push(pusher, device, 1, [mutation])
        assert results[0]["status"] in ("applied", "conflict_recorded"), results


async def _other_domains(
    services: Any, settings: Any, clock: Any, project_id: Any, work: Any, users: Any, orgs: Any, inspector: Actor
) -> None:
    """Inspections and material samples when this build has those domains, so the dashboard's
    charts and the contractor's material panel have something to show."""
    try:
        from inspection.checklists import schemas as cs
        from inspection.checklists.catalogue import import_shipped
        from inspection.checklists.service import ChecklistsService
    except ImportError:
        pass
    else:
        await import_shipped(clock)
        signature = photo((20, 20, 20))
        digest = sha256(signature).hexdigest()

        async def chunks() -> Any:
            yield signature

        await services.evidence.upload(inspector, digest, chunks(), declared_size=len(signature), project_id=project_id)
        items = ["G1", "G2", "G3", "G4", "G5", "G6", "N1", "N2", "N3", "N4", "N5"]
        for days_ago, deductions in [(20, {"N1": 4}), (13, {"G2": 6, "N3": 8}), (6, {"G1": 10, "N1": 10}), (0, {})]:
            at = FixedClock(clock.now() - timedelta(days=days_ago))
            svc = ChecklistsService(settings, at)
            draft = await svc.create(
                inspector,
                cs.InspectionCreate(
                    project_id=project_id, work_item_id=work["roof"].id, template_code="jgj59-fastener-scaffold"
                ),
            )
            iid = draft.inspection.id
            answers = [
                cs.AnswerIn(
                    item_code=c, deduction=float(deductions.get(c, 0)), photos=[digest] if c in deductions else []
                )
                for c in items
            ]
            await svc.set_answers(inspector, iid, [*answers, cs.AnswerIn(item_code="A1", value="no")])
            await svc.submit(inspector, iid, cs.SubmitBody(signature_sha256=digest))
    try:
        from inspection.samples import schemas as ss
    except ImportError:
        return
    lab = await make_org(services, OrgKind.lab, "市建设工程质量检测中心")
    contractor = actor(users["contractor_a"], orgs["contractor_a"])
    for number, take in [("HRB-2611-07", True), ("HRB-2611-09", False)]:
        batch = await services.samples.create_batch(
            contractor,
            ss.BatchCreate(
                project_id=project_id,
                material="rebar",
                specification="HRB400E Φ16",
                manufacturer="北方钢铁集团",
                batch_number=number,
                quantity=Decimal("42.5"),
                unit="t",
                arrival_date=clock.today() - timedelta(days=3),
                work_item_id=work["roof"].id,
            ),
        )
        if take:
            await services.samples.take_sample(
                contractor, batch.batch.id, ss.SampleCreate(lab_id=lab.id, witness_id=users["supervisor"].id)
            )


async def main() -> None:
    async with db.connection_pool(get_settings()):
        print(json.dumps(await seed(), ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
