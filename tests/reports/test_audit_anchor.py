"""The weekly report prints the audit log's latest signed checkpoint: a paper copy anchors the log
outside the database."""

from __future__ import annotations

from inspection.audit.service import checkpoint
from inspection.settings import get_settings, secret_key
from tests.factories import World
from tests.reports.helpers import pdf_text, squeeze

KEY = secret_key(get_settings())


async def test_the_weekly_report_prints_the_latest_checkpoint(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    made = await checkpoint(KEY, clock)
    r = await world.get("supervisor", f"/api/v1/reports/projects/{world.id_of('p1')}/weekly.pdf")
    assert r.status_code == 200, r.text
    text = squeeze(pdf_text(r.content))
    assert f"第{made.id}号审计检查点" in text
    assert made.root in text
