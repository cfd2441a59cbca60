"""Builders for the programme tests: a small programme (a district with two streets, two projects,
three sites, two contractors) and a month of records made through each domain's own service, on
a clock set to the moment each thing happens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from inspection.actor import SYSTEM, Actor
from inspection.checklists import schemas as cs
from inspection.clock import FixedClock
from inspection.complaints import schemas as cps
from inspection.evidence import links
from inspection.programme import schemas as s
from inspection.programme.rules import AreaLevel, OfficeRole
from inspection.projects import schemas as ps
from inspection.projects.rules import OrgKind, Role, WorkCategory, WorkType
from inspection.records import write
from inspection.rectification import schemas as rs
from inspection.rectification.rules import OrderKind, Severity
from inspection.reports.rules import BEIJING
from tests.checklists.helpers import ROOF, SCAFFOLD, answers_for
from tests.factories import World, login, make_org, make_user, unique
from tests.rectification.helpers import actor_of, sha
from tests.samples.helpers import REBAR_PASS, batch_body, lab, results


def bj(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    """A moment in Beijing time."""
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


@dataclass
class Programme:
    """The world's programme: 长青区 (in 示范市) with 东街道 (project P1: sites S1, S2) and 西街道
    (project P2: site S3); contractor A works on S1 and S2, B on S1 and S3; the supervision
    company supervises P1. Offices: `office` (旧改办 of 长青区), `east` and `west` (street offices)."""

    world: World
    id: UUID
    areas: dict[str, UUID] = field(default_factory=dict)
    sites: dict[str, UUID] = field(default_factory=dict)
    work: dict[str, UUID] = field(default_factory=dict)
    buildings: dict[str, UUID] = field(default_factory=dict)
    batch: UUID | None = None

    def actor(self, who: str) -> Actor:
        return actor_of(self.world, who)

    @property
    def svc(self) -> Any:
        return self.world.services.programme


async def build(world: World, clock: FixedClock) -> Programme:
    svc = world.services.programme
    projects = world.services.projects
    areas: dict[str, UUID] = {}
    for key, name, level, parent in [
        ("city", "示范市", AreaLevel.city, None),
        ("district", "长青区", AreaLevel.county, "city"),
        ("east", "东街道", AreaLevel.street, "district"),
        ("west", "西街道", AreaLevel.street, "district"),
        ("east_c", "东一社区", AreaLevel.community, "east"),
    ]:
        areas[key] = (
            await svc.create_area(SYSTEM, s.AreaCreate(name=name, level=level, parent_id=areas.get(parent or "")))
        ).id
    programme = await svc.create_programme(
        SYSTEM,
        s.ProgrammeCreate(
            name="长青区2026年度老旧小区改造计划", area_id=areas["district"], year=2026, survey_during_works=True
        ),
    )
    batch = await svc.create_batch(SYSTEM, programme.id, s.ProgrammeBatchCreate(number=1, name="第一批"))
    p = Programme(world, programme.id, areas, batch=batch.id)
    p1, p2 = world.id_of("p1"), world.id_of("p2")
    for who, role in [("inspector", Role.inspector), ("contractor_b", Role.contractor)]:
        await projects.add_member(SYSTEM, p2, ps.MembershipCreate(user_id=world.users[who].id, role=role))
    p.sites["S1"] = world.id_of("site1")
    p.buildings["S1"] = world.id_of("building1")
    for key, project in [("S2", p1), ("S3", p2)]:
        site = await projects.create_site(SYSTEM, project, ps.SiteCreate(name=f"{key}小区", households=100))
        p.sites[key] = site.id
        building = await projects.create_building(SYSTEM, site.id, ps.BuildingCreate(name="1号楼", floors=6, units=3))
        p.buildings[key] = building.id
    p.work["A1"], p.work["B1"] = world.id_of("work_a"), world.id_of("work_b")
    for key, project, site, org in [("A2", p1, "S2", "contractor_a"), ("B3", p2, "S3", "contractor_b")]:
        item = await projects.create_work_item(
            SYSTEM,
            project,
            ps.WorkItemCreate(
                site_id=p.sites[site],
                category=WorkCategory.basic,
                work_type=WorkType.roof_waterproofing,
                name="屋面防水改造",
                contractor_id=world.orgs[org].id,
            ),
        )
        p.work[key] = item.id
    await svc.place_project(SYSTEM, p1, s.PlacementIn(programme_id=p.id, area_id=areas["east"], batch_id=batch.id))
    await svc.place_project(SYSTEM, p2, s.PlacementIn(programme_id=p.id, area_id=areas["west"], batch_id=batch.id))
    office_org = await make_org(world.services, OrgKind.authority, "长青区老旧小区改造工作领导小组办公室")
    street_org = await make_org(world.services, OrgKind.community, "东街道办事处")
    for who, org, area, role in [
        ("office", office_org, "district", OfficeRole.programme_office),
        ("east", street_org, "east", OfficeRole.street_office),
        ("west", None, "west", OfficeRole.street_office),
    ]:
        user = await make_user(world.services, unique(who), org)
        world.users[who] = user
        await svc.appoint(SYSTEM, s.OfficeCreate(user_id=user.id, area_id=areas[area], role=role))
        world.tokens[who] = (await login(world.client, user.username))["access_token"]
    if org_key := next((k for k, o in world.orgs.items() if o.id == office_org.id), None):
        del world.orgs[org_key]
    world.orgs["office"], world.orgs["street"] = office_org, street_org
    return p


async def photo(clock: FixedClock, project: UUID, name: str) -> str:
    digest = sha(name)
    async with write(SYSTEM, clock) as w:
        await links.announce(w, digest, project_id=project, organisation_id=None, content_type="image/jpeg")
    return digest


async def inspect(
    p: Programme,
    clock: FixedClock,
    at: datetime,
    *,
    project: str,
    site: str,
    work: str | None,
    code: str,
    answers: list[dict[str, Any]],
    lot_size: int | None = None,
) -> UUID:
    """A submitted inspection made at `at` by the inspector, through the checklists service."""
    clock.set(at)
    svc = p.world.services.checklists
    actor = p.actor("inspector")
    project_id = p.world.id_of(project)
    draft = await svc.create(
        actor,
        cs.InspectionCreate(
            project_id=project_id,
            site_id=p.sites[site],
            work_item_id=p.work[work] if work else None,
            template_code=code,
            lot_size=lot_size,
        ),
    )
    await svc.set_answers(actor, draft.inspection.id, [cs.AnswerIn(**a) for a in answers])
    signature = await photo(clock, project_id, f"signature-{draft.inspection.id}")
    await svc.submit(actor, draft.inspection.id, cs.SubmitBody(signature_sha256=signature))
    return draft.inspection.id  # type: ignore[no-any-return]


def scaffold(total: int) -> list[dict[str, Any]]:
    """Scaffold sub-table answers scoring `total` (100, 90, 80, 70 or 60), from items that need no
    photo: general items N1, N2 (10 each), N4, N5 (5 each), then half of guarantee items G1 and G6
    (a guarantee item losing all its points would make the whole sub-table 0)."""
    deductions = {90: {"N1": 10}, 80: {"N1": 10, "N2": 10}, 70: {"N1": 10, "N2": 10, "N4": 5, "N5": 5}}
    deductions[60] = {**deductions[70], "G1": 5, "G6": 5}
    return answers_for(SCAFFOLD, **{k: {"deduction": v} for k, v in deductions.get(total, {}).items()})


async def roof_lot(
    p: Programme, clock: FixedClock, at: datetime, project: str, site: str, work: str, passed: bool
) -> UUID:
    answers = answers_for(ROOF)
    if not passed:
        shot = await photo(clock, p.world.id_of(project), f"roof-fail-{work}-{at.isoformat()}")
        answers = answers_for(ROOF, M1={"value": "fail", "photos": [shot]})
    return await inspect(p, clock, at, project=project, site=site, work=work, code=ROOF, answers=answers, lot_size=40)


async def order(
    p: Programme,
    clock: FixedClock,
    at: datetime,
    *,
    project: str,
    work: str,
    deadline: datetime,
    kind: OrderKind = OrderKind.safety,
    severity: Severity = Severity.general,
) -> UUID:
    """An order issued at `at` by the inspector, with its deadline."""
    clock.set(at)
    detail = await p.world.services.rectification.create_order(
        p.actor("inspector"),
        rs.OrderCreate(
            project_id=p.world.id_of(project),
            work_item_id=p.work[work],
            kind=kind,
            severity=severity,
            description=f"{kind.value} 整改 {work} {at.isoformat()}",
            deadline=deadline,
            deadline_reason="考核用例",
            issue=True,
        ),
    )
    return detail.order.id  # type: ignore[no-any-return]


async def respond(p: Programme, clock: FixedClock, at: datetime, order_id: UUID, who: str) -> None:
    clock.set(at)
    await p.world.services.rectification.respond(p.actor(who), order_id, rs.RespondBody(text="已整改完毕"))


async def accept(p: Programme, clock: FixedClock, at: datetime, order_id: UUID) -> None:
    clock.set(at)
    await p.world.services.rectification.accept(p.actor("inspector"), order_id, rs.AcceptBody(note="复查合格"))


async def failed_sample(p: Programme, clock: FixedClock, at: datetime) -> None:
    """Contractor A's rebar on S1: a sample whose yield strength fails (a retest is due, no order)."""
    clock.set(at)
    samples = p.world.services.samples
    batch = await samples.create_batch(p.actor("contractor_a"), batch_body(p.world, arrival_date=at.date()))
    from inspection.samples import schemas as ss

    body = ss.SampleCreate(lab_id=await lab(p.world), witness_id=p.world.users["supervisor"].id)
    sample = await samples.take_sample(p.actor("contractor_a"), batch.batch.id, body)
    await samples.record_results(p.actor("supervisor"), sample.sample.id, results(REBAR_PASS, yield_strength="380"))


async def upheld_complaint(p: Programme, clock: FixedClock, at: datetime, site: str, work: str) -> None:
    clock.set(at)
    complaints = p.world.services.complaints
    receipt = await complaints.submit(p.sites[site], cps.ComplaintIn(text="新做的屋面下雨后楼顶渗水，麻烦尽快处理。"))
    del receipt
    page = await complaints.list_complaints(p.actor("inspector"), p.world.id_of("p1"))
    newest = next(c for c in page.items if c.status.value == "new")
    await complaints.to_order(
        p.actor("inspector"), newest.id, cps.ToOrderBody(description="屋面渗水，按投诉整改", work_item_id=p.work[work])
    )


async def answer(
    p: Programme, clock: FixedClock, at: datetime, site: str, room: str, overall: int, **more: Any
) -> None:
    clock.set(at)
    await p.svc.survey.submit(
        p.sites[site],
        s.SurveyIn(building_id=p.buildings[site], unit=1, room=room, overall=overall, **more),
    )


__all__ = ["Decimal", "bj"]
