"""The instant the suite runs at: fixed, so that a failure that depends on the date replays; the
environment variable SITEINSPECT_TEST_NOW (ISO 8601 with an offset) runs it "as of" another
moment, e.g. SITEINSPECT_TEST_NOW=2027-03-01T00:30:00+08:00 (a Monday, half past midnight in
Beijing). The subprocesses tests start agree with them on the date: the browser tests' seed reads
it, and server processes started through DevServer run on a clock stopped at it. The command line
(`inspection.cli`) runs on the wall clock, as for its users: a test of a command that depends on
the date is marked `wall_clock`."""

from __future__ import annotations

import os
from datetime import UTC, datetime

# A Wednesday mid-morning in Beijing, late in the 2026 programme year: nothing about it is
# special, which is the point of the default. The special moments are run on purpose.
DEFAULT = "2026-12-16T10:30:00+08:00"
VARIABLE = "SITEINSPECT_TEST_NOW"
# inspection.tools.devserver runs its app on a clock stopped at this instant when it is set
SERVER_VARIABLE = "SITEINSPECT_DEVSERVER_NOW"


def _resolve() -> datetime:
    text = os.environ.get(VARIABLE) or DEFAULT
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError(f"{VARIABLE}={text!r} needs a UTC offset, e.g. 2027-03-01T00:30:00+08:00")
    return at.astimezone(UTC).replace(microsecond=0)


TEST_NOW = _resolve()


def local_day(days: int = 0) -> str:
    """The programme's local date `days` days after the suite's instant, as a date field takes it
    (ISO): tests that type a deadline or a filter date stay right whatever the instant."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    return (TEST_NOW.astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=days)).isoformat()
