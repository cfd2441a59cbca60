"""Demo programme for `siteinspect demo`: the demo district (长青区) in a city, two streets and their
communities, the 2026 programme with three batches holding the three demo projects, a programme
office (office1) and a street office (street1), and four months of history before this one —
orders answered on time or late, JGJ 59 safety checks, residents' answers — with the first three
months finalised, so the office can follow a month from the daily digest to the bulletin and the
credit lists have something to show. Everything through the services the API uses."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any
from uuid import UUID

from inspection import progress
from inspection.actor import SYSTEM, Actor
from inspection.checklists import schemas as cs
from inspection.checklists.service import ChecklistsService
from inspection.clock import Clock, FixedClock, SystemClock
from inspection.documents import BEIJING
from inspection.evidence import links
from inspection.programme import evaluation, structure
from inspection.programme import schemas as s
from inspection.programme.rules import AreaLevel, Month, OfficeRole
from inspection.programme.survey import SurveyService
from inspection.programme.tables import Area, AreaOffice, Programme, ProgrammeBatch
from inspection.projects.auth import hash_password
from inspection.projects.rules import OrgKind
from inspection.projects.tables import Building, Organisation, Project, Site, User, WorkItem
from inspection.records import REFERENCE_BUCKET, write
from inspection.rectification import schemas as rs
from inspection.rectification.rules import OrderKind
from inspection.rectification.service import RectificationService
from inspection.settings import Settings

DEMO_PASSWORD = "siteinspect-demo-2026"  # noqa: S105 - the published demo password (inspection/demo/)
CITY, DISTRICT = "示范市", "长青区"
STREETS = {"长青街道": ["长青一社区", "长青二社区"], "新华街道": ["新华一社区"]}
# project code suffix → (street, batch)
PLACES = {"01": ("长青街道", 1), "02": ("新华街道", 2), "03": ("长青街道", 3)}
# how well each demo contractor (by its site manager's login) keeps its deadlines and sites
QUALITY = {"contractor1": 1.0, "contractor2": 0.7, "contractor3": 0.35}
HISTORY_MONTHS = 4
FINALISED = 3


def _at(month: Month, day: int, hour: int = 10) -> datetime:
    return datetime(month.year, month.month, day, hour, tzinfo=BEIJING)


async def _user(name: str) -> dict[str, Any] | None:
    return (
        await User.select(User.id, User.username, User.organisation, User.organisation.kind)
        .where(  # type: ignore[no-any-return]
            User.username == name
        )
        .first()
    )


def _actor(row: dict[str, Any]) -> Actor:
    return Actor(
        user_id=row["id"],
        username=row["username"],
        organisation_id=row["organisation"],
        organisation_kind=row.get("organisation.kind"),
    )


async def _area(name: str, level: AreaLevel, parent: UUID | None, clock: Clock) -> UUID:
    found = await Area.select(Area.id, Area.parent).where((Area.name == name) & (Area.level == level.value)).first()
    if found is not None:
        if parent is not None and found["parent"] is None:  # a district the upgrade made at the top
            async with write(SYSTEM, clock) as w:
                await w.update(Area, found["id"], {"parent": parent}, [REFERENCE_BUCKET])
        return found["id"]  # type: ignore[no-any-return]
    made = await structure.create_area(SYSTEM, clock, s.AreaCreate(name=name, level=level, parent_id=parent))
    return made.id


async def load_demo(settings: Settings, quiet: bool = False, clock: Clock | None = None) -> bool:
    """Returns False when the demo projects are missing or the demo programme is already there.
    Everything happens on `clock` (the wall clock unless given)."""
    projects = (
        await Project.select(Project.id, Project.code).where(Project.code.like("DEMO-2026-%")).order_by(Project.code)
    )
    if not projects or await User.exists().where(User.username == "office1"):
        return False
    clock = clock or SystemClock()
    city = await _area(CITY, AreaLevel.city, None, clock)
    district = await _area(DISTRICT, AreaLevel.county, city, clock)
    streets = {}
    for street, communities in STREETS.items():
        streets[street] = await _area(street, AreaLevel.street, district, clock)
        for community in communities:
            await _area(community, AreaLevel.community, streets[street], clock)
    found = (
        await Programme.select(Programme.id, Programme.version)
        .where((Programme.area == district) & (Programme.year == 2026))
        .first()
    )
    if found is None:
        programme = await structure.create_programme(
            SYSTEM,
            clock,
            s.ProgrammeCreate(
                name=f"{DISTRICT}2026年度老旧小区改造计划", area_id=district, year=2026, survey_during_works=True
            ),
        )
        programme_id = programme.id
    else:
        programme_id = found["id"]
        await structure.update_programme(
            SYSTEM, clock, programme_id, s.ProgrammeUpdate(version=found["version"], survey_during_works=True)
        )
    batches = {}
    for n, name in ((1, "第一批"), (2, "第二批"), (3, "第三批")):
        existing = (
            await ProgrammeBatch.select(ProgrammeBatch.id)
            .where((ProgrammeBatch.programme == programme_id) & (ProgrammeBatch.number == n))
            .first()
        )
        batches[n] = (
            existing["id"]
            if existing
            else (
                await structure.create_batch(SYSTEM, clock, programme_id, s.ProgrammeBatchCreate(number=n, name=name))
            ).id
        )
    for p in projects:
        street, batch = PLACES.get(p["code"].rsplit("-", 1)[-1], ("长青街道", 1))
        await structure.place_project(
            SYSTEM,
            clock,
            p["id"],
            s.PlacementIn(programme_id=programme_id, area_id=streets[street], batch_id=batches[batch]),
        )
    office = await _office_user(
        settings, clock, "office1", "长青区老旧小区改造办公室", district, OfficeRole.programme_office
    )
    await _office_user(
        settings, clock, "street1", "长青区长青街道办事处", streets["长青街道"], OfficeRole.street_office
    )
    await _history(settings, clock, programme_id, [p["id"] for p in projects], office, quiet)
    return True


async def _office_user(
    settings: Settings, clock: Clock, username: str, org_name: str, area: UUID, role: OfficeRole
) -> Actor:
    org = await Organisation.select(Organisation.id).where(Organisation.name == org_name).first()
    async with write(SYSTEM, clock) as w:
        if org is None:
            from inspection.demo import _credit_code

            kind = OrgKind.authority if role is OfficeRole.programme_office else OrgKind.community
            org = await w.insert(
                Organisation,
                {"name": org_name, "kind": kind.value, "credit_code": _credit_code(random.Random(username), "11")},
                [REFERENCE_BUCKET],
            )
        names = {"office1": "赵旧改", "street1": "钱街道"}
        await w.insert(
            User,
            {
                "username": username,
                "display_name": names.get(username, username),
                "organisation": org["id"],
                "password_hash": hash_password(DEMO_PASSWORD, settings),
                "email": "",
            },
            [],
            audit_values=False,
        )
    user = await _user(username)
    assert user is not None
    if not await AreaOffice.exists().where((AreaOffice.user == user["id"]) & (AreaOffice.area == area)):
        await structure.appoint(SYSTEM, clock, s.OfficeCreate(user_id=user["id"], area_id=area, role=role))
    return _actor(user)


async def _history(
    settings: Settings, real: Clock, programme_id: UUID, project_ids: list[UUID], office: Actor, quiet: bool
) -> None:
    """Four months before this one: each contractor's orders answered on time as often as its
    quality says, a safety check a fortnight per site with a few sites each month, and residents'
    answers on the first sites in the first month. The first three months are then finalised."""
    rng = random.Random(2026)
    clock = FixedClock(real.now())
    rectification = RectificationService(settings, clock)
    checklists = ChecklistsService(settings, clock)
    survey = SurveyService(clock)
    inspector = await _user("inspector2")
    if inspector is None:
        return
    inspector_actor = _actor(inspector)
    site_managers = {}
    for login in QUALITY:
        row = await _user(login)
        if row is not None:
            site_managers[row["organisation"]] = (login, _actor(row))
    months = list(reversed(Month.holding(real.now()).previous().back(HISTORY_MONTHS)))
    sites = await Site.select(Site.id, Site.project).where(Site.project.is_in(project_ids)).order_by(Site.name)
    work = await WorkItem.select(WorkItem.id, WorkItem.project, WorkItem.site, WorkItem.contractor).where(
        WorkItem.project.is_in(project_ids)
    )
    for number, month in enumerate(months):
        for project in project_ids:
            own = [w for w in work if w["project"] == project and w["contractor"] in site_managers]
            for contractor in sorted({w["contractor"] for w in own}, key=str):
                login, responder = site_managers[contractor]
                items = [w for w in own if w["contractor"] == contractor]
                for day in (3, 14):
                    item = rng.choice(items)
                    clock.set(_at(month, day, 9))
                    detail = await rectification.create_order(
                        inspector_actor,
                        rs.OrderCreate(
                            project_id=project,
                            work_item_id=item["id"],
                            kind=OrderKind.safety,
                            description=rng.choice(
                                [
                                    "脚手架连墙件间距超过方案要求",
                                    "临边防护栏杆缺失",
                                    "配电箱未设置漏电保护器",
                                    "材料堆放占用消防通道",
                                ]
                            ),
                            issue=True,
                        ),
                    )
                    on_time = rng.random() < QUALITY[login]
                    clock.set(_at(month, day + (1 if on_time else 6), 15))
                    await rectification.respond(responder, detail.order.id, rs.RespondBody(text="已按要求整改完毕"))
                    clock.set(_at(month, day + (2 if on_time else 7), 10))
                    await rectification.accept(inspector_actor, detail.order.id, rs.AcceptBody(note="复查合格"))
            for site in [x for x in sites if x["project"] == project][:3]:
                # a site is as good as its best contractor keeps it (residents judge the whole site)
                quality = max(
                    (QUALITY[site_managers[w["contractor"]][0]] for w in own if w["site"] == site["id"]), default=0.7
                )
                clock.set(_at(month, 10 + rng.randint(0, 8), 10))
                await _safety_check(checklists, inspector_actor, clock, project, site["id"], quality, rng)
                if number == 0:
                    await _answers(survey, clock, month, site["id"], quality, rng)
        if not quiet:
            progress.report("demo programme", number + 1, len(months), month.label)
    clock.set(real.now())
    for month in months[:FINALISED]:
        await evaluation.finalise(office, clock, programme_id, str(month), "示范数据")


async def _safety_check(
    checklists: ChecklistsService,
    actor: Actor,
    clock: FixedClock,
    project: UUID,
    site: UUID,
    quality: float,
    rng: random.Random,
) -> None:
    """A JGJ 59 scaffold check of the whole site, deductions from general items only, fewer the
    better the site's contractors work."""
    draft = await checklists.create(
        actor, cs.InspectionCreate(project_id=project, site_id=site, template_code="jgj59-fastener-scaffold")
    )
    loss = round((1 - quality) * 30)
    deductions = {"N1": min(10, loss), "N2": min(10, max(0, loss - 10)), "N4": min(5, max(0, loss - 20)), "N5": 0}
    answers = [cs.AnswerIn(item_code=c, deduction=0) for c in ("G1", "G2", "G3", "G4", "G5", "G6", "N3")]
    answers += [cs.AnswerIn(item_code=c, deduction=d) for c, d in deductions.items()]
    answers.append(cs.AnswerIn(item_code="A1", value="no"))
    await checklists.set_answers(actor, draft.inspection.id, answers)
    signature = f"{rng.getrandbits(256):064x}"
    async with write(SYSTEM, clock) as w:
        await links.announce(w, signature, project_id=project, organisation_id=None, content_type="image/png")
    await checklists.submit(actor, draft.inspection.id, cs.SubmitBody(signature_sha256=signature))


async def _answers(
    survey: SurveyService, clock: FixedClock, month: Month, site: UUID, quality: float, rng: random.Random
) -> None:
    buildings = (
        await Building.select(Building.id, Building.units, Building.floors).where(Building.site == site).limit(3)
    )
    for b in buildings:
        for unit in range(1, min(b["units"] or 2, 2) + 1):
            for floor in range(1, min(b["floors"] or 5, 5) + 1):
                if rng.random() < 0.5:
                    continue
                overall = max(1, min(5, round(rng.gauss(1.5 + 3.5 * quality, 0.6))))
                clock.set(_at(month, 20 + rng.randint(0, 7), 19))
                await survey.submit(
                    site,
                    s.SurveyIn(building_id=b["id"], unit=unit, room=f"{floor}0{rng.randint(1, 2)}", overall=overall),
                )
