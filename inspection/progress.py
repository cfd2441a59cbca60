"""Progress of long tasks (demo data, template imports, alert jobs) for whoever shows it: the
command line draws bars; the server and the tests show nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

# (task, steps done, steps in all, what is being done now)
Reporter = Callable[[str, int, int, str], None]


def _silent(task: str, done: int, total: int, label: str) -> None:
    return None


_reporter: Reporter = _silent


def report(task: str, done: int, total: int, label: str = "") -> None:
    """Say that `done` of `total` steps of `task` are finished (nothing is shown unless a reporter is
    installed)."""
    _reporter(task, done, total, label)


@contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    """Send progress to `reporter` for the duration of the block."""
    global _reporter
    previous, _reporter = _reporter, reporter
    try:
        yield
    finally:
        _reporter = previous
