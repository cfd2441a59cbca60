"""The instant the suite runs at: fixed, so that a failure that depends on the date replays; the
environment variable SITEINSPECT_TEST_NOW (ISO 8601 with an offset) runs it "as of" another
moment, e.g. SITEINSPECT_TEST_NOW=2027-03-01T00:30:00+08:00 (a Monday, half past midnight in
Beijing). Subprocesses the tests start (the seed of the browser tests, `inspection.cli`, server
processes through DevServer) read the same variable, so they agree with the test on the date."""

from __future__ import annotations

import os
from datetime import UTC, datetime

# A Wednesday mid-morning in Beijing, late in the 2026 programme year: nothing about it is
# special, which is the point of the default. The special moments are run on purpose.
DEFAULT = "2026-12-16T10:30:00+08:00"
VARIABLE = "SITEINSPECT_TEST_NOW"
# inspection.devserver runs its app on a clock stopped at this instant when it is set
SERVER_VARIABLE = "SITEINSPECT_DEVSERVER_NOW"


def _resolve() -> datetime:
    text = os.environ.get(VARIABLE) or DEFAULT
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError(f"{VARIABLE}={text!r} needs a UTC offset, e.g. 2027-03-01T00:30:00+08:00")
    return at.astimezone(UTC).replace(microsecond=0)


TEST_NOW = _resolve()
