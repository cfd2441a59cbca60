"""The render pool on its own, with real worker processes: a worker that dies mid-render (the
kernel's OOM killer, an operator) fails that render alone and is replaced; closing the pool kills
a render in flight, refuses the ones waiting and leaves no process behind."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
from collections.abc import AsyncIterator, Iterator

import pytest

from inspection.clock import FixedClock
from inspection.errors import ShuttingDown
from inspection.reports import rules
from inspection.reports.pool import RenderFailed, RenderPool
from inspection.reports.service import Prepared, ReportsService
from tests.factories import World
from tests.rectification.helpers import actor_of
from tests.reports.helpers import STARTED, slow_weekly, wait_until_gone


class _Lines(logging.Handler):
    """The pool's log lines (DEBUG included), to wait on what happens inside it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.changed.set()

    async def match(self, pattern: str, timeout_s: float = 60) -> re.Match[str]:
        async with asyncio.timeout(timeout_s):
            while True:
                for line in self.lines:
                    if found := re.search(pattern, line):
                        return found
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
def logs() -> Iterator[_Lines]:
    logger = logging.getLogger("siteinspect.reports")
    handler, level = _Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
async def pool() -> AsyncIterator[RenderPool]:
    pool = RenderPool(workers=1, queue=1, timeout_s=600)
    yield pool
    await pool.close()


async def _slow(world: World, clock: FixedClock, service: ReportsService) -> Prepared:
    await slow_weekly(world, clock)
    return await service.weekly(actor_of(world, "supervisor"), world.id_of("p1"), rules.local_day(clock.now()))


async def test_a_worker_killed_mid_render_fails_that_render_alone(
    world: World, clock: FixedClock, pool: RenderPool, logs: _Lines
) -> None:
    service = ReportsService(world.services.settings, clock, renderer=pool)
    supervisor = actor_of(world, "supervisor")
    slow = await _slow(world, clock, service)
    rendering = asyncio.create_task(service.issue(supervisor, slow))
    worker = int((await logs.match(STARTED))[1])
    os.kill(worker, signal.SIGKILL)
    with pytest.raises(RenderFailed, match=f"report worker {worker} died"):
        await rendering
    # the next report gets a new worker
    quick = await service.warranty_register(supervisor, world.id_of("p1"))
    rendered = await service.issue(supervisor, quick)
    assert rendered.pdf.startswith(b"%PDF")
    assert worker not in pool.worker_pids() and len(pool.worker_pids()) == 1


async def test_closing_kills_the_render_in_flight_and_refuses_the_rest(
    world: World, clock: FixedClock, pool: RenderPool, logs: _Lines
) -> None:
    service = ReportsService(world.services.settings, clock, renderer=pool)
    supervisor = actor_of(world, "supervisor")
    slow = await _slow(world, clock, service)
    rendering = asyncio.create_task(service.issue(supervisor, slow))
    worker = int((await logs.match(STARTED))[1])
    waiting = asyncio.create_task(service.issue(supervisor, slow))
    await logs.match(r"waiting for a worker \(1 waiting\)")

    await pool.close()
    for task in (rendering, waiting):
        with pytest.raises(ShuttingDown):
            await task
    with pytest.raises(ShuttingDown):
        await service.issue(supervisor, slow)
    await asyncio.to_thread(wait_until_gone, worker)
    assert pool.worker_pids() == []
