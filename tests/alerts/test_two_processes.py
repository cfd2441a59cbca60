"""Two real server processes with the scheduler on, against one PostgreSQL: every alert and every
notification exists exactly once, however their ticks fall."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest

from inspection.alerts.tables import Alert, SchedulerRun
from inspection.clock import FixedClock, local_day
from inspection.notifications.outbox_tables import Notification
from inspection.rectification.rules import OrderState
from inspection.tools.devserver import DevServer
from tests.factories import World
from tests.rectification.helpers import order_in
from tests.warranty.helpers import accept_site


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@pytest.mark.postgres_only
async def test_two_schedulers_make_every_alert_once(world: World, clock: FixedClock, tmp_path: Path) -> None:
    settings = world.services.settings
    # the servers run on a clock stopped at the suite's instant, as this test's clock starts
    now = clock.now()
    today = local_day(now, settings.warranty.timezone)
    # drainage (2 years) ends in 5 days; its retention fell due a year ago
    accepted = _add_years(today + timedelta(days=5), -2)
    await accept_site(
        world,
        accepted,
        terms=[
            {
                "work_item_id": str(world.id_of("work_b")),
                "settlement_amount": "500000",
                "retention_amount": "15000",
                "defect_liability_months": 12,
            }
        ],
    )
    # an order issued ten days ago, seven days to answer: overdue
    clock.set(now - timedelta(days=10))
    await order_in(world.services.rectification, world, clock, OrderState.issued)

    env = {"SITEINSPECT_SCHEDULER_ENABLED": "true", "SITEINSPECT_SCHEDULER_INTERVAL_S": "1"}
    servers = [DevServer(env, log=tmp_path / f"server{i}.log") for i in range(2)]
    try:
        # started one after the other in a worker thread: the event loop stays free for the database
        for server in servers:
            await asyncio.to_thread(server.start)
        # both processes tick every second; wait until each has run the jobs several times (a
        # deadline only against a hang: the test waits for the runs, not for a time)
        by_worker: dict[str, int] = {}

        async def both_ran() -> None:
            while len(by_worker) < 2 or min(by_worker.values()) < 4:
                runs = await SchedulerRun.select(SchedulerRun.worker).where(SchedulerRun.job == "warranty_expiring")
                by_worker.clear()
                for r in runs:
                    by_worker[r["worker"]] = by_worker.get(r["worker"], 0) + 1
                await asyncio.sleep(0.1)

        try:
            await asyncio.wait_for(both_ran(), timeout=600)
        except TimeoutError:
            raise AssertionError(f"the schedulers did not both run: {by_worker}") from None
    finally:
        for server in servers:
            server.stop(timeout_s=15)

    failed = await SchedulerRun.select().where(SchedulerRun.status == "failed")
    assert failed == [], failed
    made = await Alert.select(Alert.rule, Alert.threshold).order_by(Alert.rule)
    assert [(a["rule"], a["threshold"]) for a in made] == [("retention_due", 0), ("warranty_expiring", 7)]
    notes = await Notification.select(
        Notification.rule, Notification.subject_id, Notification.threshold, Notification.recipient_key
    )
    keys = [(n["rule"], n["subject_id"], n["threshold"], n["recipient_key"]) for n in notes]
    assert len(keys) == len(set(keys))
    by_rule: dict[str, int] = {}
    for n in notes:
        by_rule[n["rule"]] = by_rule.get(n["rule"], 0) + 1
    # contractor B and the owner for each warranty alert; the issuer's side and the owner for the overdue order
    assert by_rule["warranty_expiring"] == 2 and by_rule["retention_due"] == 2
    assert by_rule["order_overdue"] == 2
    # both processes really ran the jobs, and the lock kept some runs apart
    statuses = await SchedulerRun.select(SchedulerRun.worker, SchedulerRun.status)
    assert len({r["worker"] for r in statuses if r["status"] == "ok"}) == 2
