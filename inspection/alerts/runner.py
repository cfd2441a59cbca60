"""Running the alert jobs: one at a time per job across processes, each run recorded.

Two safeguards, because one is not enough (issue 8: a trial saw two processes both run a job when
their ticks did not overlap, so a lock alone still doubles alerts):
- a PostgreSQL advisory transaction lock (`pg_try_advisory_xact_lock`) per job: while one process
  runs a job, another skips it at once rather than queueing behind it; the lock ends with the
  transaction, so a crashed process never leaves it held. SQLite has one writer at a time anyway.
- every alert, notification, occurrence and delivery has a unique key written by insert-or-ignore
  (or checked under the change counter's lock), so a second run, sooner or later, adds nothing.

Jobs compute from the records (what is due now), never from the ticks they missed, so the first
run after downtime catches up in one go.
"""

from __future__ import annotations

import logging
import os
import socket
import time as _time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from inspection import db, progress
from inspection.clock import Clock
from inspection.joblock import try_job_lock
from inspection.records import new_id
from inspection.settings import Settings

log = logging.getLogger("siteinspect.alerts")

WORKER = f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class JobContext:
    settings: Settings
    clock: Clock
    now: datetime
    today: date
    stats: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """One job: `run` returns how many things it created (alerts, orders, occurrences, sends).
    `exclusive` jobs run inside one transaction holding the job's lock; a job that talks to the
    network (delivery) takes its own short transactions and claims its rows instead."""

    name: str
    run: Callable[[JobContext], Awaitable[int]]
    exclusive: bool = True


@dataclass(frozen=True)
class RunResult:
    job: str
    status: str  # ok | locked | failed
    created: int
    seconds: float
    detail: str = ""


async def _record(job: str, started: datetime, finished: datetime, status: str, created: int, detail: str) -> None:
    from inspection.alerts.tables import SchedulerRun

    await SchedulerRun.insert(
        SchedulerRun(
            id=new_id(),
            job=job,
            worker=WORKER,
            started_at=started,
            finished_at=finished,
            status=status,
            created=created,
            detail=detail[:2000],
        )
    )


async def run_job(job: Job, settings: Settings, clock: Clock) -> RunResult:
    """Run one job once; never raises (a failing job is logged and recorded, the others go on)."""
    now = clock.now()
    ctx = JobContext(settings=settings, clock=clock, now=now, today=clock.today())
    t0 = _time.perf_counter()
    status, created, detail = "ok", 0, ""
    try:
        if job.exclusive:
            async with db.transaction():
                if await try_job_lock(job.name):
                    created = await job.run(ctx)
                else:
                    status = "locked"
        else:
            created = await job.run(ctx)
        detail = ", ".join(f"{k}={v}" for k, v in sorted(ctx.stats.items()))
    except Exception as exc:
        status, detail = "failed", f"{type(exc).__name__}: {exc}"
        log.exception("alert job %s failed", job.name)
    seconds = _time.perf_counter() - t0
    try:
        await _record(job.name, now, clock.now(), status, created, detail)
    except Exception:
        log.exception("could not record the run of %s", job.name)
    return RunResult(job.name, status, created, seconds, detail)


async def run_jobs(jobs: Sequence[Job], settings: Settings, clock: Clock) -> list[RunResult]:
    """Every job once, in order (alerts before the delivery that sends them)."""
    results = []
    for index, job in enumerate(jobs):
        progress.report("alert jobs", index, len(jobs), job.name)
        results.append(await run_job(job, settings, clock))
    progress.report("alert jobs", len(jobs), len(jobs), "")
    return results


def summary(results: Sequence[RunResult]) -> dict[str, Any]:
    return {r.job: {"status": r.status, "created": r.created, "seconds": round(r.seconds, 3)} for r in results}
