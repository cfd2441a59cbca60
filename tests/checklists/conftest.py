"""Every checklist test starts with the shipped templates imported."""

from __future__ import annotations

import pytest

from inspection.checklists.catalogue import import_shipped
from inspection.clock import FixedClock


@pytest.fixture
async def templates(clock: FixedClock) -> None:
    await import_shipped(clock)


# the reference tablet clients of the sync tests
from tests.sync.conftest import tablets  # noqa: E402, F401
