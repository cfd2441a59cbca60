"""The alert tests' real SMTP server on loopback and the app allowing loopback receivers; the
shipped checklist templates."""

import pytest

from inspection.checklists.catalogue import import_shipped
from inspection.clock import FixedClock
from tests.alerts.conftest import app, mailbox  # noqa: F401


@pytest.fixture
async def templates(clock: FixedClock) -> None:
    await import_shipped(clock)
