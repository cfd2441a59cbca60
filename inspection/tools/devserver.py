"""A uvicorn process on 127.0.0.1 for tests and benchmarks: start it, wait until it answers, stop it
gently or kill it with SIGKILL.

Production runs `siteinspect serve` (or uvicorn behind a proxy); this is the launcher the tests that
need a real server process (crash, two schedulers, the browser portal) and the benchmarks share, so
they start the server one way. It lives in the package, not in tests/, because the benchmarks run
as plain scripts and import it from here.

With SITEINSPECT_DEVSERVER_NOW set (ISO 8601 with an offset; the test suite sets it to the instant
it runs at), the server's clock stands still at that instant, so a server process agrees with the
test that started it on the date, whatever the wall clock says.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

from inspection.settings import PROJECT_ROOT, load_settings

HOST = "127.0.0.1"
NOW_VARIABLE = "SITEINSPECT_DEVSERVER_NOW"
DEFAULT_APP = "api.app:app_from_env"
FIXED_TIME_APP = "inspection.tools.devserver:app_at_fixed_time"


def app_at_fixed_time() -> Any:
    """Entry point for `uvicorn --factory inspection.tools.devserver:app_at_fixed_time`: the app as
    `app_from_env` builds it, on a clock stopped at SITEINSPECT_DEVSERVER_NOW."""
    from api.app import create_app
    from inspection.clock import FixedClock

    return create_app(clock=FixedClock(datetime.fromisoformat(os.environ[NOW_VARIABLE])))


def free_port() -> int:
    """A loopback port free now (bound, then released)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class DevServer:
    """`uvicorn --factory api.app:app_from_env` (or another app) in its own process group; with
    `cli=True`, `siteinspect serve` itself, the production entry point.

    `env` is laid over this process's environment, so the server reads its settings from both
    (and its own address from SITEINSPECT_SERVER_HOST and _PORT, which this sets); the keep-alive
    time and the shutdown grace period come from those settings unless given, as `siteinspect
    serve` does. `log` collects the server's stdout and stderr (otherwise they are this
    process's); a server that fails to start reports the end of it. `now` (or
    SITEINSPECT_DEVSERVER_NOW in that environment) stops the default app's clock at that instant;
    an empty SITEINSPECT_DEVSERVER_NOW in `env` runs it on the wall clock.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        port: int | None = None,
        app: str = DEFAULT_APP,
        factory: bool = True,
        app_dir: Path | None = None,
        workers: int = 1,
        log_level: str = "warning",
        access_log: bool = False,
        keep_alive_s: int | None = None,
        log: Path | None = None,
        cli: bool = False,
        now: datetime | None = None,
    ) -> None:
        self.port = port or free_port()
        # the server knows its own address (a webhook pointing back at it is refused)
        here = {"SITEINSPECT_SERVER_HOST": HOST, "SITEINSPECT_SERVER_PORT": str(self.port)}
        if now is not None:
            if now.tzinfo is None:
                raise ValueError("now needs a time zone")
            here[NOW_VARIABLE] = now.isoformat()
        self.env = {**os.environ, **(env or {}), **here}
        if not self.env.get(NOW_VARIABLE):
            self.env.pop(NOW_VARIABLE, None)
        elif app == DEFAULT_APP:
            app = FIXED_TIME_APP
        self.app = app
        self.factory = factory
        self.app_dir = app_dir
        self.workers = workers
        self.log_level = log_level
        self.access_log = access_log
        settings = load_settings(environ=self.env).server
        self.keep_alive_s = keep_alive_s or settings.keep_alive_s
        self.shutdown_grace_s = settings.shutdown_grace_s
        self.log = log
        self.cli = cli
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("the server is not running")
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self) -> list[str]:
        if self.cli:
            return [sys.executable, "-m", "inspection.cli", "serve", "--host", HOST, "--port", str(self.port)]
        cmd = [sys.executable, "-m", "uvicorn", self.app, "--host", HOST, "--port", str(self.port)]
        cmd += ["--log-level", self.log_level, "--timeout-keep-alive", str(self.keep_alive_s)]
        cmd += ["--timeout-graceful-shutdown", str(self.shutdown_grace_s)]
        if self.factory:
            cmd.append("--factory")
        if self.app_dir is not None:
            cmd += ["--app-dir", str(self.app_dir)]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        if not self.access_log:
            cmd.append("--no-access-log")
        return cmd

    def start(self, timeout_s: float = 30, health_path: str = "/health") -> DevServer:
        """Start the process and return once `health_path` answers 200."""
        out: IO[bytes] | None = self.log.open("ab") if self.log is not None else None
        try:
            # its own session, so kill() reaches uvicorn's worker processes too
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                self.command(),
                env=self.env,
                cwd=PROJECT_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT if out is not None else None,
                start_new_session=True,
            )
        finally:
            if out is not None:
                out.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise RuntimeError(f"server on port {self.port} exited with {code} during start-up{self._log_tail()}")
            try:
                if httpx.get(self.url + health_path, timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server on port {self.port} did not answer within {timeout_s:g} s{self._log_tail()}")

    def log_size(self) -> int:
        """Where the log ends now: pass it to `wait_for_log` to look only at what comes after."""
        return self.log.stat().st_size if self.log is not None and self.log.exists() else 0

    def wait_for_log(self, pattern: str, *, after: int = 0, timeout_s: float = 60) -> re.Match[str]:
        """The first match of `pattern` in the server's log from byte `after` on: how a test waits
        for something to happen inside the server (a render starting, a worker killed) without
        guessing how long it takes. Blocking; AssertionError with the log's end when it never comes."""
        if self.log is None:
            raise RuntimeError("start the server with a log file to wait for its lines")
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        while True:
            text = self.log.read_bytes()[after:].decode(errors="replace") if self.log.exists() else ""
            found = regex.search(text)
            if found:
                return found
            if time.monotonic() > deadline or not self.running:
                why = f"within {timeout_s:g} s" if self.running else "before the server exited"
                raise AssertionError(f"no {pattern!r} in the server's log {why}{self._log_tail()}")
            time.sleep(0.05)

    def _log_tail(self) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return ":\n" + self.log.read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        """SIGKILL to the whole process group: no shutdown hooks, no flushing, as on a power loss."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self, timeout_s: float | None = None) -> None:
        """SIGTERM: uvicorn lets the requests in flight finish for the grace period
        (server.shutdown_grace_s) and runs the shutdown hooks; SIGKILL when that takes longer than
        `timeout_s` (default: the grace period and 10 s more)."""
        if timeout_s is None:
            timeout_s = self.shutdown_grace_s + 10
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def __enter__(self) -> DevServer:
        return self.start() if not self.running else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
