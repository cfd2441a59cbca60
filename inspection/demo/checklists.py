"""Demo inspections for `make run`: the shipped templates imported, and on the first demo
project a few submitted inspections (scores, grades, draft orders) and one draft, through the
same service the API uses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from inspection.actor import Actor
from inspection.checklists import schemas as s
from inspection.checklists.catalogue import import_shipped
from inspection.checklists.service import ChecklistsService
from inspection.checklists.tables import Inspection
from inspection.clock import Clock, FixedClock, SystemClock
from inspection.evidence import links
from inspection.messages import t
from inspection.projects.tables import Project, User, WorkItem
from inspection.records import write
from inspection.settings import get_settings

SCAFFOLD = [("G1", 0), ("G2", 0), ("G3", 0), ("G4", 0), ("G5", 0), ("G6", 3), ("N1", 2), ("N2", 4), ("N3", 0)]


def _scaffold(extra: dict[str, float]) -> list[s.AnswerIn]:
    taken = dict(SCAFFOLD) | {"N4": 0, "N5": 2} | extra
    answers = [s.AnswerIn(item_code=c, deduction=d) for c, d in taken.items()]
    return [*answers, s.AnswerIn(item_code="A1", value="no")]


def _roof(failing: bool) -> list[s.AnswerIn]:
    return [
        s.AnswerIn(item_code="M1", value="pass"),
        s.AnswerIn(item_code="M2", value="pass"),
        s.AnswerIn(item_code="M3", value="pass"),
        s.AnswerIn(item_code="N1", checked=10, passed=7 if failing else 9, note="抽查10处"),
        s.AnswerIn(item_code="N2", measured=[-3, -6, 0, -2, -8], unit="mm"),
        s.AnswerIn(item_code="N3", checked=5, passed=5),
        s.AnswerIn(item_code="N4", measured=[0.2, 0.1, 0.3, 0.0, 0.4], unit="%"),
    ]


async def load_demo(seed: int = 2026, quiet: bool = False, clock: Clock | None = None) -> bool:
    """Import the templates; add the demo inspections once (False when already there), as of
    `clock` (default: the wall clock)."""
    real = clock or SystemClock()
    await import_shipped(real)
    project = await Project.select(Project.id).where(Project.code.like("DEMO-2026-01")).first()
    inspector = (
        await User.select(User.id, User.username, User.organisation).where(User.username == "inspector1").first()
    )
    if project is None or inspector is None:
        return False
    if await Inspection.exists().where(Inspection.project == project["id"]):
        return False
    actor = Actor(user_id=inspector["id"], username=inspector["username"], organisation_id=inspector["organisation"])
    roofs = (
        await WorkItem.select()
        .where((WorkItem.project == project["id"]) & (WorkItem.work_type == "roof_waterproofing"))
        .order_by(WorkItem.site.name, WorkItem.building.name, WorkItem.id)
        .limit(3)
    )
    if not roofs:
        return False
    # spread the inspections over the last weeks so the score trend has a shape
    clock = FixedClock(real.now() - timedelta(days=21))
    service = ChecklistsService(get_settings(), clock)
    plan: list[tuple[str, list[s.AnswerIn], dict[str, Any]]] = [
        ("jgj59-fastener-scaffold", _scaffold({}), {}),
        ("jgj59-fastener-scaffold", _scaffold({"N1": 6, "N2": 8, "G6": 6}), {}),
        ("gb50300-roof-waterproofing", _roof(False), {"lot_size": 20}),
        ("gb50300-roof-waterproofing", _roof(True), {"lot_size": 20}),
    ]
    for index, (code, answers, extra) in enumerate(plan):
        work = roofs[index % len(roofs)]
        detail = await service.create(
            actor,
            s.InspectionCreate(project_id=project["id"], work_item_id=work["id"], template_code=code, **extra),
        )
        iid = detail.inspection.id
        await service.set_answers(actor, iid, answers)
        signature = f"{seed:08x}{index:056x}"
        async with write(actor, clock) as w:
            await links.announce(w, signature, project_id=project["id"], organisation_id=None, content_type="image/png")
        await service.submit(actor, iid, s.SubmitBody(signature_sha256=signature))
        clock.advance(timedelta(days=5))
    await service.create(
        actor,
        s.InspectionCreate(project_id=project["id"], work_item_id=roofs[0]["id"], template_code="passfail-site-fire"),
    )
    if not quiet:
        print(t("cli.demo_checklists", count=len(plan), project="DEMO-2026-01"))
    return True
