"""The render pool: PDF reports rendered in a few warm worker processes, each render under a time
limit, with a bounded queue in front.

Why processes. A render is CPU-bound Python (WeasyPrint's layout) that cannot be interrupted: a
thread that took on a report with a 1,000,000-character name kept rendering for half an hour
after its client had gone, and kept the server from stopping. A process can be killed at any
moment, and its memory goes with it. So:

- `reports.render_workers` processes (`python -m inspection.reports.worker`) start with the server
  and stay warm: importing WeasyPrint and loading the CJK fonts costs about a second, which a
  request never pays. A worker renders one report at a time.
- A render gets `reports.render_timeout_s`. Past it, or when the request is cancelled (its client
  went away, the server is stopping), the worker is killed at once with SIGKILL and a fresh one
  started in the background. A timeout answers `RenderTimedOut` (504).
- When every worker is busy, up to `reports.render_queue` requests wait for one, in order; the
  next is refused at once with `ReportsBusy` (503, Retry-After from the recent render times), so
  a burst cannot pile up requests that will time out anyway.

Measured against the thread pool this replaces (bench/report_render.py, README "PDF reports"):
sending the report data and the photos to the worker and the PDF back costs milliseconds on a
report of one to three seconds. Forking a fresh process per render from a warm parent would avoid
the kill-and-replace step, but fork() in a server holding database connections, the event loop
and scheduler threads is unsafe, and a process that re-imports WeasyPrint per render costs a
second each time.

The pool belongs to one event loop (the server's, or the CLI's). Workers start lazily when a
render needs one and no lifespan started them (the CLI, in-process tests); `close()` ends them, and
a pool dropped without closing kills its workers when it is collected or the interpreter exits.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import pickle
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from inspection.errors import DomainError, ShuttingDown, Unavailable
from inspection.messages import t
from inspection.reports.render import DocumentHead
from inspection.reports.worker import READY, frame, read_frame
from inspection.settings import PROJECT_ROOT, ReportsSettings

log = logging.getLogger("siteinspect.reports")

WORKER_MODULE = "inspection.reports.worker"
START_TIMEOUT_S = 60.0  # from spawning a worker to its READY; a cold disk and a busy machine included
FIRST_GUESS_S = 2.0  # render time assumed for Retry-After until renders have been timed
T = TypeVar("T")


class ReportsBusy(Unavailable):
    slug = "reports-busy"


class RenderTimedOut(DomainError):
    status = 504
    slug = "render-timeout"


class RenderFailed(RuntimeError):
    """The worker raised (a template or WeasyPrint error) or died: a fault of the server."""


async def _in_thread(fn: Callable[[], T]) -> T:
    """`fn()` in a daemon thread of its own: a blocking pipe read that a killed worker ends. Unlike
    an executor's threads it never holds up the interpreter's exit, and unlike a subprocess
    transport it is tied to no event loop."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(result: Any, failed: bool) -> None:
        if not future.done():
            future.set_exception(result) if failed else future.set_result(result)

    def run() -> None:
        try:
            result: Any = fn()
            failed = False
        except BaseException as exc:
            result, failed = exc, True
        try:
            loop.call_soon_threadsafe(deliver, result, failed)
        except RuntimeError:
            pass  # the loop has closed: nobody waits for this any more

    threading.Thread(target=run, daemon=True, name="report-worker-pipe").start()
    return await future


class _Worker:
    """One worker process and its pipes."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", WORKER_MODULE, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=PROJECT_ROOT,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def _exchange(self, job: bytes | None) -> bytes:
        """Send `job` (if any), then read the worker's next frame. Blocking."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if job is not None:
            self.proc.stdin.write(frame(job))
            self.proc.stdin.flush()
        answer = read_frame(self.proc.stdout)
        if answer is None:
            raise EOFError(f"report worker {self.pid} ended (exit {self.proc.poll()})")
        return answer

    async def ready(self) -> None:
        if await _in_thread(lambda: self._exchange(None)) != READY:
            raise RenderFailed(f"report worker {self.pid} said something other than READY")

    async def run(self, job: bytes) -> tuple[Any, ...]:
        answer = await _in_thread(lambda: self._exchange(job))
        reply: tuple[Any, ...] = pickle.loads(answer)  # noqa: S301 - our own worker, over a private pipe
        return reply

    def kill(self) -> None:
        """SIGKILL, then collect the exit status in the background (a killed process ends at once)."""
        _kill(self.proc)
        threading.Thread(target=self.proc.wait, daemon=True, name="report-worker-reap").start()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def _kill_left_over(procs: set[subprocess.Popen[bytes]]) -> None:
    """For a pool never closed (collected, or still there when the interpreter exits)."""
    for proc in list(procs):
        _kill(proc)
        proc.wait()


class RenderPool:
    """See the module's docstring. One per process and settings: `RenderPool.shared(settings)`."""

    _shared: dict[tuple[int, int, float], RenderPool] = {}

    def __init__(self, workers: int = 2, queue: int = 8, timeout_s: float = 60.0) -> None:
        self.workers = workers
        self.queue = queue
        self.timeout_s = timeout_s
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._closed = False
        self._render_s = FIRST_GUESS_S  # moving average of render times, for Retry-After
        self._fresh_state(None)
        weakref.finalize(self, _kill_left_over, self._procs)

    @classmethod
    def shared(cls, settings: ReportsSettings) -> RenderPool:
        """The process's pool for these settings: every app and service in a process (a server
        has one; the tests make one per test) renders with the same few warm workers."""
        key = (settings.render_workers, settings.render_queue, settings.render_timeout_s)
        pool = cls._shared.get(key)
        if pool is None or pool._closed:
            pool = cls._shared[key] = cls(*key)
        return pool

    def _fresh_state(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """What belongs to one event loop: the slots, the queue, the workers' lines."""
        self._loop = loop
        self._slots = asyncio.Semaphore(self.workers)
        self._queued = 0
        self._idle: list[_Worker] = []
        self._lines = 0  # workers running or starting; never more than `workers`
        self._line_waiters: list[asyncio.Future[None]] = []
        self._starting: set[asyncio.Task[None]] = set()

    def _on_this_loop(self) -> None:
        """A pool used from a new event loop (a second asyncio.run) starts over: nothing of the
        old loop is still running, but its waiters and tasks cannot be awaited from this one."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            for proc in list(self._procs):
                _kill(proc)
            self._procs.clear()
            self._fresh_state(loop)

    # What callers see

    def start(self) -> None:
        """Warm every worker in the background (the server's start-up); renders need not wait."""
        self._on_this_loop()
        while self._lines < self.workers and not self._closed:
            self._start_in_background()

    def check_capacity(self) -> None:
        """ReportsBusy now if a render would be refused: lets a caller skip work it would waste."""
        if self._closed:
            raise self._stopping()
        if self._loop is asyncio.get_running_loop() and self._slots.locked() and self._queued >= self.queue:
            raise self._busy()

    async def pdf(
        self, template: str, doc: DocumentHead, context: Mapping[str, Any], thumbnails: Mapping[str, bytes]
    ) -> bytes:
        """Render in a worker: ReportsBusy when the queue is full, RenderTimedOut past the limit,
        ShuttingDown once the pool is closing. Cancelling the call kills the worker's render."""
        self._on_this_loop()
        job = pickle.dumps((template, doc, dict(context), dict(thumbnails)), protocol=pickle.HIGHEST_PROTOCOL)
        await self._acquire_slot()
        try:
            worker = await self._take_worker()
            reply = await self._run(worker, job)
        finally:
            self._slots.release()
        if reply[0] != "ok":
            raise RenderFailed(f"the report worker failed: {reply[1]}\n{reply[2]}")
        pdf: bytes = reply[1]
        return pdf

    async def close(self) -> None:
        """Kill every worker, rendering or not, and refuse renders from now on."""
        self._closed = True
        for task in list(self._starting):
            task.cancel()
        procs = list(self._procs)
        for proc in procs:
            _kill(proc)
        self._procs.clear()
        self._idle.clear()
        self._wake_line_waiters()
        if procs:
            # SIGKILL cannot be refused: this only collects the exit statuses
            await _in_thread(lambda: [p.wait(timeout=10) for p in procs])

    def worker_pids(self) -> list[int]:
        return sorted(p.pid for p in self._procs if p.poll() is None)

    # Slots and the queue

    def _busy(self) -> ReportsBusy:
        wait = self._render_s * (self._queued + self.workers) / self.workers
        retry_after = max(1, min(math.ceil(wait), math.ceil(self.timeout_s)))
        return ReportsBusy(
            t("reports.busy", workers=self.workers, queued=self._queued, retry_after=retry_after),
            retry_after=retry_after,
        )

    def _stopping(self) -> ShuttingDown:
        return ShuttingDown(t("reports.server_stopping"), retry_after=5)

    async def _acquire_slot(self) -> None:
        if self._closed:
            raise self._stopping()
        if not self._slots.locked():
            await self._slots.acquire()
            return
        if self._queued >= self.queue:
            raise self._busy()
        self._queued += 1
        log.debug("report render waiting for a worker (%d waiting)", self._queued)
        try:
            await self._slots.acquire()
        finally:
            self._queued -= 1

    # Workers

    def _wake_line_waiters(self) -> None:
        for waiter in self._line_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._line_waiters.clear()

    async def _spawn_ready(self) -> _Worker:
        worker = _Worker()
        self._procs.add(worker.proc)
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                await worker.ready()
        except BaseException:
            worker.kill()
            self._procs.discard(worker.proc)
            raise
        log.debug("report worker %s ready", worker.pid)
        return worker

    def _start_in_background(self) -> None:
        self._lines += 1
        task = asyncio.get_running_loop().create_task(self._warm_one())
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _warm_one(self) -> None:
        try:
            worker = await self._spawn_ready()
        except asyncio.CancelledError:
            self._lines -= 1
            self._wake_line_waiters()
            raise
        except Exception as exc:
            # a render that needs this line starts its own worker, and reports if that fails too
            self._lines -= 1
            self._wake_line_waiters()
            log.error("a report worker did not start: %s: %s", type(exc).__name__, exc)
            return
        if self._closed:
            worker.kill()
            return
        self._idle.append(worker)
        self._wake_line_waiters()

    async def _take_worker(self) -> _Worker:
        """An idle worker; or a new one when fewer than `workers` run or start; or the next one to
        become idle or finish starting."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                while True:
                    if self._closed:
                        raise self._stopping()
                    while self._idle:
                        worker = self._idle.pop()
                        if worker.alive:
                            return worker
                        self._forget(worker)
                    if self._lines < self.workers:
                        break
                    waiter: asyncio.Future[None] = loop.create_future()
                    self._line_waiters.append(waiter)
                    await waiter
                self._lines += 1
                try:
                    return await self._spawn_ready()
                except BaseException:
                    self._lines -= 1
                    self._wake_line_waiters()
                    raise
        except (TimeoutError, OSError, EOFError, RenderFailed) as exc:
            log.error("no report worker could be started: %s: %s", type(exc).__name__, exc)
            raise Unavailable(t("reports.render_service_down"), retry_after=30) from None

    def _forget(self, worker: _Worker) -> None:
        """A worker gone (killed, crashed): free its line, and start its successor unless closing."""
        worker.kill()
        self._procs.discard(worker.proc)
        self._lines -= 1
        if not self._closed:
            self._start_in_background()
        self._wake_line_waiters()

    async def _run(self, worker: _Worker, job: bytes) -> tuple[Any, ...]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        log.debug("report render started in worker %s", worker.pid)
        finished = False
        try:
            async with asyncio.timeout(self.timeout_s):
                reply = await worker.run(job)
            finished = True
        except TimeoutError:
            log.warning(
                "report render stopped at the limit of %g s (reports.render_timeout_s); worker %s killed",
                self.timeout_s,
                worker.pid,
            )
            raise RenderTimedOut(
                t("reports.render_timed_out", limit_s=f"{self.timeout_s:g}"),
                limit_s=self.timeout_s,
            ) from None
        except asyncio.CancelledError:
            log.info("report render cancelled (client gone or server stopping); worker %s killed", worker.pid)
            raise
        except (EOFError, OSError) as exc:
            if self._closed:
                raise self._stopping() from None
            raise RenderFailed(f"report worker {worker.pid} died during a render (exit {worker.proc.poll()})") from exc
        finally:
            if finished:
                self._idle.append(worker)
                self._wake_line_waiters()
            else:
                self._forget(worker)
        took = loop.time() - started
        self._render_s = 0.8 * self._render_s + 0.2 * took
        log.debug("report render finished in worker %s in %.2f s", worker.pid, took)
        return reply
