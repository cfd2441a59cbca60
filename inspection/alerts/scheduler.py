"""APScheduler 3.x in the server process: one interval job that runs every alert job in order.

- `coalesce=True` and `max_instances=1`: ticks missed while the process slept or was busy fire
  once, not once each; the jobs compute from the records, so that one run catches up.
- `next_run_time=now`: a process that starts (after downtime, say) runs the jobs at once.
- Every process runs it; the job locks and unique keys in runner.py make that safe.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from inspection.alerts.jobs import JOBS
from inspection.alerts.runner import run_jobs
from inspection.clock import Clock
from inspection.settings import Settings

JOB_ID = "siteinspect-alerts"
log = logging.getLogger("siteinspect.alerts")


async def _tick(settings: Settings, clock: Clock) -> None:
    try:
        await run_jobs(JOBS, settings, clock)
    except asyncio.CancelledError:
        # the server is stopping (scheduler.shutdown cancels a run in progress): the job's
        # transaction rolls back and the next start catches up, so this is no job failure
        log.info("alert jobs interrupted by the shutdown; the next run catches up")


def build_scheduler(settings: Settings, clock: Clock) -> AsyncIOScheduler:
    # every tick would log two INFO lines; each job run is recorded in scheduler_run instead
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLogger().level))
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        _tick,
        IntervalTrigger(seconds=settings.scheduler.interval_s, timezone=UTC),
        args=[settings, clock],
        id=JOB_ID,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=settings.scheduler.misfire_grace_s,
        next_run_time=datetime.now(UTC),
        replace_existing=True,
    )
    return scheduler
