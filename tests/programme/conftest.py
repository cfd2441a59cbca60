"""The programme tests' world: the common World, the shipped checklist templates, and the small
programme of helpers.build (a district, two streets, two projects, three sites, two contractors)."""

from __future__ import annotations

import pytest

from inspection.checklists.catalogue import import_shipped
from inspection.clock import FixedClock
from tests.factories import World
from tests.programme.helpers import Programme, bj, build


@pytest.fixture
async def programme(world: World, clock: FixedClock) -> Programme:
    clock.set(bj(1, 15))
    await import_shipped(clock)
    return await build(world, clock)


# real webhook and SMTP servers on loopback, for the daily digest's delivery
from tests.alerts.conftest import mailbox, receiver  # noqa: E402, F401
