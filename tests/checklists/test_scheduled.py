"""Scheduled inspections (巡检计划) fulfilled by the inspection that carries them out: named at
creation (API and tablet sync) or matched at submission, and then never alerted as missed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest

from inspection.actor import SYSTEM
from inspection.alerts.schemas import ScheduleCreate
from inspection.alerts.tables import InspectionOccurrence
from inspection.clock import FixedClock
from inspection.projects import schemas as ps
from inspection.records import new_id
from tests.alerts.helpers import alerts, run
from tests.checklists.helpers import ROOF, SCAFFOLD, actor_of, announce, answer, answers_for, draft, submit
from tests.checklists.test_sync import enqueue_answers
from tests.factories import World
from tests.sync.conftest import Tablets

pytestmark = pytest.mark.usefixtures("templates")

IO = InspectionOccurrence


def today(world: World, clock: FixedClock) -> date:
    return clock.today()


async def occurrences(
    world: World,
    clock: FixedClock,
    *,
    project: str = "p1",
    site_id: UUID | None = None,
    kind: str = "safety",
    days: int = 1,
) -> list[dict[str, Any]]:
    """A daily schedule from today for `days` days, and its occurrences as the job makes them."""
    start = today(world, clock)
    who = "supervisor" if project == "p1" else "outsider"
    body = {
        "project_id": str(world.id_of(project)),
        "site_id": str(site_id or world.id_of("site1")),
        "title": f"{kind} 巡查",
        "kind": kind,
        "frequency": "daily",
        "starts_on": start.isoformat(),
        "ends_on": (start + timedelta(days=days - 1)).isoformat(),
        "role": "owner" if project == "p2" else "inspector",
    }
    schedule = await world.services.alerts.create_schedule(actor_of(world, who), msgspec.convert(body, ScheduleCreate))
    await run("inspection_occurrences", world.services.settings, clock)
    return await IO.select().where(IO.schedule == schedule.id).order_by(IO.due_on)  # type: ignore[no-any-return]


async def occurrence(occurrence_id: UUID) -> dict[str, Any]:
    row = await IO.select().where(IO.id == occurrence_id).first()
    assert row is not None
    return row  # type: ignore[no-any-return]


async def missed_after(world: World, clock: FixedClock, days: int) -> list[UUID]:
    """Let `days` days pass and run the job: the occurrences it alerted as missed."""
    clock.advance(timedelta(days=days))
    await run("inspection_occurrences", world.services.settings, clock)
    return [a["subject_id"] for a in await alerts("inspection_missed")]


async def test_submitting_through_the_api_fulfils_the_occurrence_named(world: World, clock: FixedClock) -> None:
    due, tomorrow = await occurrences(world, clock, days=2)
    d = await draft(world, template_code=SCAFFOLD, occurrence_id=due["id"])
    iid = d["inspection"]["id"]
    assert d["inspection"]["occurrence_id"] == str(due["id"])
    await answer(world, iid, answers_for(SCAFFOLD))
    r = await submit(world, clock, iid)
    assert r.status_code == 200, r.text
    assert r.json()["warnings"] == []
    row = await occurrence(due["id"])
    assert (row["status"], str(row["inspection_id"]), row["fulfilled_at"]) == ("fulfilled", iid, clock.now())
    # two days on, only the occurrence nobody carried out is alerted
    assert await missed_after(world, clock, 3) == [tomorrow["id"]]
    assert (await occurrence(due["id"]))["status"] == "fulfilled"


async def test_a_revision_takes_over_the_occurrence(world: World, clock: FixedClock) -> None:
    (due,) = await occurrences(world, clock)
    d = await draft(world, template_code=SCAFFOLD, occurrence_id=due["id"])
    first = d["inspection"]["id"]
    await answer(world, first, answers_for(SCAFFOLD))
    assert (await submit(world, clock, first)).status_code == 200
    r = await world.post("inspector", f"/api/v1/inspections/{first}/revise", {"reason": "补录扣分"})
    assert r.status_code == 201, r.text
    second = r.json()["inspection"]["id"]
    assert r.json()["inspection"]["occurrence_id"] == str(due["id"])
    r = await submit(world, clock, second)
    assert r.status_code == 200, r.text
    assert r.json()["warnings"] == []
    assert str((await occurrence(due["id"]))["inspection_id"]) == second


async def test_the_occurrence_named_must_be_of_the_same_project_and_site(world: World, clock: FixedClock) -> None:
    site2 = await world.services.projects.create_site(SYSTEM, world.id_of("p2"), ps.SiteCreate(name="外项目小区"))
    (elsewhere,) = await occurrences(world, clock, project="p2", site_id=site2.id)
    other_site = await world.services.projects.create_site(SYSTEM, world.id_of("p1"), ps.SiteCreate(name="二号小区"))
    (on_other_site,) = await occurrences(world, clock, site_id=other_site.id)
    base = {"id": str(new_id()), "project_id": str(world.id_of("p1")), "template_code": SCAFFOLD}
    for occurrence_id, why in [
        (elsewhere["id"], "不属于本项目"),
        (new_id(), "不属于本项目"),
        (on_other_site["id"], "另一个小区"),
    ]:
        r = await world.post(
            "inspector",
            "/api/v1/inspections/",
            {**base, "work_item_id": str(world.id_of("work_a")), "occurrence_id": str(occurrence_id)},
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == "occurrence_id" and why in r.json()["detail"]
    # an inspection naming no site is placed on its occurrence's site
    r = await world.post("inspector", "/api/v1/inspections/", {**base, "occurrence_id": str(on_other_site["id"])})
    assert r.status_code == 201, r.text
    assert r.json()["inspection"]["site"] == str(other_site.id)
    assert (await occurrence(elsewhere["id"]))["status"] == "due"


async def test_an_occurrence_fulfilled_meanwhile_warns_but_does_not_stop_the_submission(
    world: World, clock: FixedClock
) -> None:
    (due,) = await occurrences(world, clock)
    first = (await draft(world, template_code=SCAFFOLD, occurrence_id=due["id"]))["inspection"]["id"]
    second = (await draft(world, template_code=SCAFFOLD, occurrence_id=due["id"]))["inspection"]["id"]
    for iid in (first, second):
        await answer(world, iid, answers_for(SCAFFOLD))
    assert (await submit(world, clock, first)).status_code == 200
    r = await submit(world, clock, second)
    assert r.status_code == 200, r.text
    assert r.json()["inspection"]["status"] == "submitted"
    assert len(r.json()["warnings"]) == 1 and first in r.json()["warnings"][0]
    assert str((await occurrence(due["id"]))["inspection_id"]) == first
    # once fulfilled, a new inspection cannot name it
    r = await world.post(
        "inspector",
        "/api/v1/inspections/",
        {"project_id": str(world.id_of("p1")), "template_code": SCAFFOLD, "occurrence_id": str(due["id"])},
    )
    assert r.status_code == 409 and r.json()["field"] == "occurrence_id"


async def test_without_a_link_submission_fulfils_the_matching_open_occurrence(world: World, clock: FixedClock) -> None:
    (roof_check,) = await occurrences(world, clock, kind="quality")
    (owner_walk,) = await occurrences(world, clock, kind="owner_check")
    d = await draft(world, template_code=ROOF)
    iid = d["inspection"]["id"]
    assert d["inspection"]["occurrence_id"] is None
    await answer(world, iid, answers_for(ROOF))
    r = await submit(world, clock, iid)
    assert r.status_code == 200, r.text
    assert r.json()["inspection"]["occurrence_id"] == str(roof_check["id"])
    assert str((await occurrence(roof_check["id"]))["inspection_id"]) == iid
    # a safety inspection does not carry out a quality schedule, nor the owner's walk-through
    d = await draft(world, template_code=SCAFFOLD)
    await answer(world, d["inspection"]["id"], answers_for(SCAFFOLD))
    assert (await submit(world, clock, d["inspection"]["id"])).json()["inspection"]["occurrence_id"] is None
    assert await missed_after(world, clock, 2) == [owner_walk["id"]]


async def test_through_tablet_sync(world: World, tablets: Tablets, clock: FixedClock) -> None:
    site2 = await world.services.projects.create_site(SYSTEM, world.id_of("p2"), ps.SiteCreate(name="外项目小区"))
    (elsewhere,) = await occurrences(world, clock, project="p2", site_id=site2.id)
    (due,) = await occurrences(world, clock)
    inspector = await tablets("inspector")
    await inspector.sync()
    assert str(due["id"]) in inspector.rows("inspection_occurrence"), "the occurrence reaches the tablet"
    body = {"project_id": str(world.id_of("p1")), "work_item_id": str(world.id_of("work_a")), "template_code": SCAFFOLD}
    refused, iid = new_id(), new_id()
    inspector.enqueue("inspection.create@1", refused, {**body, "occurrence_id": str(elsewhere["id"])})
    inspector.enqueue("inspection.create@1", iid, {**body, "occurrence_id": str(due["id"])})
    enqueue_answers(inspector, iid, answers_for(SCAFFOLD))
    signature = await announce(world, clock, "schedule-signature.png")
    inspector.enqueue("inspection.submit@1", iid, {"signature_sha256": signature})
    await inspector.sync()
    results = [o["result"] for o in inspector.outbox()]
    assert (results[0]["status"], results[0]["field"]) == ("rejected", "occurrence_id")
    assert [r["status"] for r in results[1:]] == ["applied"] * (len(results) - 1), results
    assert inspector.rows("inspection_occurrence")[str(due["id"])]["status"] == "fulfilled"
    assert inspector.rows("inspection")[str(iid)]["occurrence_id"] == str(due["id"])
    # the other project's occurrence, which nobody carried out, is the only one alerted
    assert await missed_after(world, clock, 2) == [elsewhere["id"]]
