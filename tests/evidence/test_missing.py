"""`siteinspect evidence missing --days N`: photos that records cite but whose bytes never came."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from inspection.actor import SYSTEM
from inspection.evidence import links
from inspection.evidence.service import missing_uploads
from inspection.evidence.tables import Evidence
from inspection.records import new_id, write
from inspection.settings import PROJECT_ROOT
from tests.evidence.conftest import sha
from tests.factories import World


# the command line runs on the wall clock, as it does for its users: so do this test's records
@pytest.mark.wall_clock
async def test_missing_lists_old_cited_pending_photos(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    p1 = world.id_of("p1")
    now = clock.now()
    old_record, new_record = new_id(), new_id()
    clock.set(now - timedelta(days=10))
    async with write(SYSTEM, clock) as w:
        for name in ("old cited", "old uncited", "old but stored"):
            await links.announce(w, sha(name.encode()), project_id=p1, organisation_id=None)
        await links.attach(
            w, [sha(b"old cited"), sha(b"old but stored")], record_table="order", record_id=old_record, project_id=p1
        )
    await Evidence.update({Evidence.status: "stored"}).where(Evidence.sha256 == sha(b"old but stored"))
    clock.set(now - timedelta(days=1))
    async with write(SYSTEM, clock) as w:
        await links.announce(w, sha(b"recent"), project_id=p1, organisation_id=None)
        await links.attach(w, [sha(b"recent")], record_table="order", record_id=new_record, project_id=p1)

    found = await missing_uploads(now, days=3)
    assert [(m.sha256, m.records) for m in found] == [(sha(b"old cited"), [f"order:{old_record}"])]
    assert [m.sha256 for m in await missing_uploads(now, days=0)] == [sha(b"old cited"), sha(b"recent")]

    # the command itself, in its own process against the same database
    done = subprocess.run(
        [sys.executable, "-m", "inspection.cli", "evidence", "missing", "--days", "3"],
        cwd=PROJECT_ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sha(b"old cited") in done.stdout and sha(b"recent") not in done.stdout
    assert f"引用它的记录：order:{old_record}" in done.stdout
    assert done.stdout.strip().endswith("共 1 张照片被记录引用，但登记 3 天后仍未上传")
