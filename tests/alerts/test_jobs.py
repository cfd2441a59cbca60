"""The alert jobs on a controlled clock: each alert once per (subject, rule, threshold), the
catch-up rule after downtime, order deadlines through the rectification escalation, retention."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from inspection.alerts import jobs
from inspection.alerts.jobs import JOBS, Job
from inspection.alerts.runner import run_job, run_jobs
from inspection.alerts.tables import Alert, SchedulerRun
from inspection.clock import FixedClock
from inspection.notifications.outbox_tables import Notification
from inspection.rectification.rules import OrderState
from tests.alerts.helpers import alerts, notifications, run
from tests.factories import World
from tests.rectification.helpers import actor_of, order_in
from tests.warranty.helpers import accept_site

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 9) -> datetime:
    """`hour` o'clock in Shanghai on `day`, as the server clock (UTC) shows it."""
    return datetime.combine(day, time(hour), SHANGHAI).astimezone(UTC)


async def _accepted(world: World, clock: FixedClock) -> None:
    clock.set(at(date(2026, 6, 15)))
    await accept_site(
        world,
        date(2026, 6, 10),
        terms=[
            {
                "work_item_id": str(world.id_of("work_a")),
                "settlement_amount": "800000",
                "retention_amount": "24000",
                "defect_liability_months": 12,
            }
        ],
    )


ROOF_END = date(2031, 6, 10)  # 5 years from 2026-06-10
DRAINS_END = date(2028, 6, 10)  # 2 years


async def test_each_lead_time_alerts_once(world: World, clock: FixedClock) -> None:
    await _accepted(world, clock)
    settings = world.services.settings
    clock.set(at(DRAINS_END - timedelta(days=91)))
    await run("warranty_expiring", settings, clock)
    assert await alerts("warranty_expiring") == []
    clock.set(at(DRAINS_END - timedelta(days=90)))
    for _ in range(3):
        await run("warranty_expiring", settings, clock)
    made = await alerts("warranty_expiring")
    assert [(a["threshold"], a["due_on"]) for a in made] == [(90, DRAINS_END)]
    # contractor B and the owner, once each
    recipients = sorted(n["recipient_organisation"] for n in await notifications("warranty_expiring"))
    assert recipients == sorted([world.orgs["contractor_b"].id, world.orgs["owner"].id])
    clock.set(at(DRAINS_END - timedelta(days=30)))
    await run("warranty_expiring", settings, clock)
    clock.set(at(DRAINS_END - timedelta(days=7)))
    await run("warranty_expiring", settings, clock)
    await run("warranty_expiring", settings, clock)
    assert [a["threshold"] for a in await alerts("warranty_expiring")] == [90, 30, 7]
    assert len(await notifications("warranty_expiring")) == 6
    # after the end: nothing more
    clock.set(at(DRAINS_END + timedelta(days=1)))
    await run("warranty_expiring", settings, clock)
    assert len(await alerts("warranty_expiring")) == 3


async def test_catch_up_after_downtime_fires_once(world: World, clock: FixedClock) -> None:
    """Down from 100 days before the end until 5 days before: the 90-, 30- and 7-day marks all
    passed unseen. The first run back makes the 7-day alert only, once."""
    await _accepted(world, clock)
    settings = world.services.settings
    clock.set(at(ROOF_END - timedelta(days=100)))
    await run("warranty_expiring", settings, clock)
    clock.set(at(ROOF_END - timedelta(days=5)))
    await run("warranty_expiring", settings, clock)
    await run("warranty_expiring", settings, clock)
    roof = [a for a in await alerts("warranty_expiring") if a["due_on"] == ROOF_END]
    assert [a["threshold"] for a in roof] == [7]
    # a Chinese sentence naming the 小区, the work and its contractor, with a link to the project
    message = roof[0]["message"]
    assert f"保修期将于 {ROOF_END.isoformat()} 届满，剩 5 天。" in message, message
    assert world.orgs["contractor_a"].name in message or world.orgs["contractor_b"].name in message
    assert f"{settings.public_base_url}/portal/projects/" in message
    assert "roof" not in message and "day(s)" not in message


async def test_lead_times_come_from_settings(world: World, clock: FixedClock) -> None:
    import msgspec

    await _accepted(world, clock)
    base = world.services.settings
    settings = msgspec.structs.replace(base, alerts=msgspec.structs.replace(base.alerts, warranty_lead_days=[60]))
    clock.set(at(DRAINS_END - timedelta(days=60)))
    await run("warranty_expiring", settings, clock)
    assert [a["threshold"] for a in await alerts("warranty_expiring")] == [60]


async def test_retention_due_before_and_on_the_day(world: World, clock: FixedClock) -> None:
    await _accepted(world, clock)
    settings = world.services.settings
    release = date(2027, 6, 10)  # 12 months after acceptance
    clock.set(at(release - timedelta(days=15)))
    await run("retention_due", settings, clock)
    assert await alerts("retention_due") == []
    clock.set(at(release - timedelta(days=14)))
    await run("retention_due", settings, clock)
    clock.set(at(release + timedelta(days=3)))  # down over the day itself: caught up once
    await run("retention_due", settings, clock)
    await run("retention_due", settings, clock)
    assert [a["threshold"] for a in await alerts("retention_due")] == [14, 0]


async def test_order_due_tomorrow_then_overdue_escalates(world: World, clock: FixedClock) -> None:
    svc = world.services.rectification
    clock.set(at(date(2026, 6, 15)))
    order_id = await order_in(svc, world, clock, OrderState.issued)  # quality/general: 7 days
    order = (await svc.get_order(actor_of(world, "inspector"), order_id)).order
    settings = world.services.settings
    deadline_day = order.deadline.astimezone(SHANGHAI).date()
    clock.set(at(deadline_day - timedelta(days=2)))
    await run("rectification_deadlines", settings, clock)
    assert await alerts("order_due_soon") == []
    clock.set(at(deadline_day - timedelta(days=1)))
    await run("rectification_deadlines", settings, clock)
    await run("rectification_deadlines", settings, clock)
    due = await alerts("order_due_soon")
    assert len(due) == 1 and due[0]["subject_id"] == order_id
    (note,) = await notifications("order_due_soon")
    assert note["recipient_organisation"] == world.orgs["contractor_a"].id
    # past the deadline: the rectification escalation notifies the issuer's side and the owner
    clock.set(order.deadline + timedelta(hours=1))
    await run("rectification_deadlines", settings, clock)
    await run("rectification_deadlines", settings, clock)
    overdue = await notifications("order_overdue")
    assert sorted(n["recipient_organisation"] for n in overdue) == sorted(
        [world.orgs["supervisor"].id, world.orgs["owner"].id]
    )


async def test_two_runs_at_once_make_each_alert_once(world: World, clock: FixedClock) -> None:
    await _accepted(world, clock)
    settings = world.services.settings
    clock.set(at(ROOF_END - timedelta(days=6)))
    job = jobs.job_named("warranty_expiring")
    results = await asyncio.gather(*(run_job(job, settings, clock) for _ in range(4)))
    assert {r.status for r in results} <= {"ok", "locked"}
    # the roof (the drains ended in 2028): one alert, to contractor A and the owner
    assert [a["threshold"] for a in await alerts("warranty_expiring")] == [7]
    assert await Notification.count().where(Notification.rule == "warranty_expiring") == 2
    runs = await SchedulerRun.select().where(SchedulerRun.job == "warranty_expiring")
    assert len(runs) == 4


async def test_a_failing_job_is_recorded_and_the_others_run(world: World, clock: FixedClock) -> None:
    await _accepted(world, clock)
    clock.set(at(DRAINS_END - timedelta(days=1)))

    async def broken(ctx: object) -> int:
        raise RuntimeError("the lab system is down")

    results = await run_jobs([Job("broken", broken), *JOBS], world.services.settings, clock)
    assert results[0].status == "failed" and "lab system" in results[0].detail
    assert all(r.status == "ok" for r in results[1:])
    assert await Alert.count().where(Alert.project == world.id_of("p1")) >= 1
    this_run = SchedulerRun.job.is_in(["broken", *(j.name for j in JOBS)]) & (SchedulerRun.started_at == clock.now())
    failed = await SchedulerRun.select().where(this_run & (SchedulerRun.status == "failed"))
    assert [r["job"] for r in failed] == ["broken"]


async def test_guard_job_seam_for_other_domains(world: World, clock: FixedClock) -> None:
    """The samples domain plugs its overdue-sample query in as one JOBS entry."""
    import sys
    import types
    from dataclasses import dataclass
    from uuid import uuid4

    @dataclass
    class Hit:
        id: object
        project_id: object

    sample_id = uuid4()

    async def samples_awaiting_result(cutoff: datetime) -> list[Hit]:
        assert cutoff == clock.now() - timedelta(days=7)
        return [Hit(sample_id, world.id_of("p1"))]

    module = types.ModuleType("tests.alerts._fake_guards")
    module.samples_awaiting_result = samples_awaiting_result  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    job = Job(
        "samples_awaiting_result",
        jobs.guard_job(
            "tests.alerts._fake_guards:samples_awaiting_result",
            rule="sample_awaiting_result",
            older_than=timedelta(days=7),
        ),
    )
    for _ in range(2):
        assert (await run_job(job, world.services.settings, clock)).status == "ok"
    made = await alerts("sample_awaiting_result")
    assert len(made) == 1 and made[0]["subject_id"] == sample_id
    recipients = {
        n["recipient_organisation"] or n["recipient_user"] for n in await notifications("sample_awaiting_result")
    }
    assert recipients == {world.orgs["owner"].id, world.users["supervisor"].id}


async def test_released_retention_is_not_alerted(world: World, clock: FixedClock) -> None:
    from inspection.errors import Forbidden, InvalidTransition
    from inspection.warranty import schemas as ws

    await _accepted(world, clock)
    roof = (await world.services.warranty.register(actor_of(world, "owner"), world.id_of("p1"))).items[-1]
    assert roof.work_type == "roof_waterproofing" and roof.retention_release_on == date(2027, 6, 10)
    clock.set(at(date(2027, 5, 20)))
    with pytest.raises(Forbidden):
        await world.services.warranty.release_retention(
            actor_of(world, "contractor_a"), roof.id, ws.RetentionRelease(released_on=date(2027, 5, 20))
        )
    out = await world.services.warranty.release_retention(
        actor_of(world, "owner"), roof.id, ws.RetentionRelease(released_on=date(2027, 5, 20))
    )
    assert out.retention_released_on == date(2027, 5, 20)
    with pytest.raises(InvalidTransition):
        await world.services.warranty.release_retention(
            actor_of(world, "owner"), roof.id, ws.RetentionRelease(released_on=date(2027, 5, 20))
        )
    clock.set(at(date(2027, 6, 10)))
    await run("retention_due", world.services.settings, clock)
    assert await alerts("retention_due") == []
