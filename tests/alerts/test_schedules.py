"""Inspection schedules: due days by rule, occurrences in the project bucket, missed ones alerted
to the inspector and the supervisors, fulfilment by an inspection, and bad input."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import msgspec
import pytest

from inspection.actor import SYSTEM
from inspection.alerts.rules import Frequency, Recurrence, due_days, recurrence_problem, tightest_threshold
from inspection.alerts.schedules import fulfil_occurrence
from inspection.alerts.schemas import ScheduleCreate
from inspection.alerts.tables import InspectionOccurrence
from inspection.changefeed.tables import SyncChange
from inspection.clock import FixedClock
from inspection.errors import Conflict
from inspection.messages import t
from inspection.records import project_bucket, write
from inspection.rectification.rules import Calendar
from tests.alerts.helpers import alerts, notifications, relogin, run
from tests.alerts.test_jobs import SHANGHAI, at
from tests.factories import World
from tests.notifications.helpers import choose, held
from tests.rectification.helpers import actor_of

# 2026-10-01..07 is the National Day holiday; 2026-10-10 (a Saturday) a make-up working day
CAL = Calendar(
    tz=SHANGHAI,
    holidays=frozenset(date(2026, 10, d) for d in range(1, 8)),
    extra_working_days=frozenset({date(2026, 10, 10)}),
)


@pytest.mark.parametrize(
    ("rule", "start", "end", "expected"),
    [
        # daily scaffold check on working days: the holiday week is skipped, the make-up Saturday kept
        (
            Recurrence(Frequency.daily, date(2026, 9, 30), working_days_only=True),
            date(2026, 9, 30),
            date(2026, 10, 12),
            [date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10), date(2026, 10, 12)],
        ),
        # weekly on Monday; the holiday Monday moves to the next working day
        (
            Recurrence(Frequency.weekly, date(2026, 9, 1), weekday=0, working_days_only=True),
            date(2026, 9, 25),
            date(2026, 10, 13),
            [date(2026, 9, 28), date(2026, 10, 8), date(2026, 10, 12)],
        ),
        # monthly on the 31st: short months use their last day
        (
            Recurrence(Frequency.monthly, date(2026, 1, 1), day_of_month=31),
            date(2026, 1, 1),
            date(2026, 4, 30),
            [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)],
        ),
        # every second week, ending with the schedule
        (
            Recurrence(Frequency.weekly, date(2026, 6, 1), ends_on=date(2026, 6, 30), weekday=2, interval=2),
            date(2026, 6, 1),
            date(2026, 7, 31),
            [date(2026, 6, 3), date(2026, 6, 17)],
        ),
    ],
)
def test_due_days(rule: Recurrence, start: date, end: date, expected: list[date]) -> None:
    assert due_days(rule, start, end, CAL) == expected


def test_recurrence_problems_and_thresholds() -> None:
    assert recurrence_problem(Recurrence(Frequency.weekly, date(2026, 1, 1))) == (
        "weekday",
        t("alerts.weekly_schedule_names_weekday_0_monday"),
    )
    assert recurrence_problem(Recurrence(Frequency.daily, date(2026, 2, 1), ends_on=date(2026, 1, 1)))[0] == "ends_on"  # type: ignore[index]
    assert [tightest_threshold(d, [90, 30, 7]) for d in (91, 90, 31, 30, 8, 7, 0, -1)] == [
        None,
        90,
        90,
        30,
        30,
        7,
        7,
        7,
    ]


async def test_occurrences_sync_and_missed_ones_alert(world: World, clock: FixedClock) -> None:
    clock.set(at(date(2026, 6, 15)))  # a Monday
    r = await world.post(
        "supervisor",
        "/api/v1/schedules",
        json={
            "project_id": str(world.id_of("p1")),
            "title": "每周安全巡查",
            "kind": "safety",
            "frequency": "weekly",
            "weekday": 2,
            "starts_on": "2026-06-15",
            "inspector_id": str(world.users["inspector"].id),
        },
    )
    assert r.status_code == 201, r.text
    settings = world.services.settings
    for _ in range(2):
        await run("inspection_occurrences", settings, clock)
    rows = await InspectionOccurrence.select().order_by(InspectionOccurrence.due_on)
    assert [(o["due_on"], o["status"]) for o in rows] == [(date(2026, 6, 17), "due")]
    assert rows[0]["inspector"] == world.users["inspector"].id and rows[0]["site"] == world.id_of("site1")
    # it reaches the inspector's tablet through the project bucket
    assert await SyncChange.exists().where(
        (SyncChange.row_id == rows[0]["id"]) & (SyncChange.bucket == project_bucket(world.id_of("p1")))
    )
    r = await world.get(
        "inspector", "/api/v1/schedules/occurrences", params={"project_id": str(world.id_of("p1")), "mine": True}
    )
    assert [o["title"] for o in r.json()["items"]] == ["每周安全巡查"]
    # the supervisor keeps missed inspections for the daily digest
    await choose(world, "supervisor", "inspection_missed", "digest")
    # the 17th passes without an inspection
    clock.set(at(date(2026, 6, 18)))
    await run("inspection_occurrences", settings, clock)
    await run("inspection_occurrences", settings, clock)
    (missed,) = await alerts("inspection_missed")
    assert missed["subject_id"] == rows[0]["id"]
    told = sorted(n["recipient_user"] for n in await notifications("inspection_missed"))
    assert told == [world.users["inspector"].id]
    assert [h["subject_id"] for h in await held(world, "supervisor")] == [rows[0]["id"]]
    # done late, it is fulfilled by the inspection; again with the same one changes nothing
    inspection_id, other = uuid4(), uuid4()
    async with write(SYSTEM, clock) as w:
        await fulfil_occurrence(w, rows[0]["id"], inspection_id)
        await fulfil_occurrence(w, rows[0]["id"], inspection_id)
    with pytest.raises(Conflict):
        async with write(SYSTEM, clock) as w:
            await fulfil_occurrence(w, rows[0]["id"], other)
    row = await InspectionOccurrence.select().where(InspectionOccurrence.id == rows[0]["id"]).first()
    assert row is not None and (row["status"], row["inspection_id"]) == ("fulfilled", inspection_id)
    await relogin(world, "inspector")


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"frequency": "weekly"}, "weekday", 422),
        ({"frequency": "monthly"}, "day_of_month", 422),
        ({"ends_on": "2026-01-01"}, "ends_on", 422),
        ({"inspector_id": None}, "inspector_id", 422),
        ({"inspector_id": "contractor_a"}, "inspector_id", 422),
        ({"site_id": "p2"}, "site_id", 422),
    ],
)
async def test_bad_schedules(world: World, change: dict[str, object], field: str, status: int) -> None:
    body: dict[str, object] = {
        "project_id": str(world.id_of("p1")),
        "title": "脚手架日检",
        "frequency": "daily",
        "starts_on": "2026-06-15",
        "inspector_id": str(world.users["inspector"].id),
    }
    for key, value in change.items():
        if value == "contractor_a":
            value = str(world.users["contractor_a"].id)
        elif value == "p2":
            value = str(world.id_of("p2"))
        body[key] = value
    if change.get("inspector_id", "") is None:
        body.pop("inspector_id")
    r = await world.post("supervisor", "/api/v1/schedules", json=body)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field
    r = await world.post("contractor_a", "/api/v1/schedules", json={**body, "frequency": "daily"})
    assert r.status_code in (403, 422)


async def test_weekly_schedule_covers_every_active_site(world: World, clock: FixedClock) -> None:
    from inspection.projects import schemas as ps

    await world.services.projects.create_site(SYSTEM, world.id_of("p1"), ps.SiteCreate(name="二号小区"))
    clock.set(at(date(2026, 6, 15)))
    await world.services.alerts.create_schedule(
        actor_of(world, "owner"),
        msgspec.convert(
            {
                "project_id": str(world.id_of("p1")),
                "title": "业主月度质量检查",
                "frequency": "monthly",
                "day_of_month": 20,
                "starts_on": "2026-06-01",
                "role": "owner",
            },
            ScheduleCreate,
        ),
    )
    await run("inspection_occurrences", world.services.settings, clock)
    rows = await InspectionOccurrence.select().where(InspectionOccurrence.project == world.id_of("p1"))
    assert len(rows) == 2 and {r["due_on"] for r in rows} == {date(2026, 6, 20)}
    assert {r["role"] for r in rows} == {"owner"} and all(r["inspector"] is None for r in rows)
