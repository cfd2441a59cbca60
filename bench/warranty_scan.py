# ruff: noqa: E501 - benchmark driver
"""Warranty expiry scan benchmark (issue 8): the daily `warranty_expiring` job over 1,000,000
warranty items, its time and peak Python memory, against the floor — the one indexed query that
finds the due items (ends_on within the longest lead time), fetched in full — on SQLite and on
PostgreSQL (a throw-away server started by scripts/with-postgres.sh).

    .venv/bin/python bench/warranty_scan.py [--items 1000000] [--only sqlite|postgres]

Rows are bulk-loaded with plain SQL (sqlite3 executemany, PostgreSQL COPY), not the one-by-one
write path. The warranty ends are spread evenly over twelve years, so about 2 % of the items are
inside the 90-day window and about 230 reach each lead time on a given day.

Figures per engine:
- floor_s / floor_peak_kib: the indexed range query alone, every due row fetched;
- catch_up_s: the first scan, which makes every alert in the window at once (after downtime);
- daily_s / daily_peak_kib: the next day's scan, which pages through the window with the
  anti-join on existing alerts and makes the day's new alerts (with their notifications);
- daily_peak_kib_small: the same at a tenth of the table (a tenth as many alerts a day, so smaller);
- quiet_peak_kib / quiet_peak_kib_small: a rescan that finds nothing new, at both sizes: the scan's
  own memory, which pages through the window (2,000 rows a page) and does not grow with the table.
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = date(2027, 3, 1)
SPREAD_DAYS = 12 * 365
START = TODAY - timedelta(days=2 * 365)


def _uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


async def _world() -> dict[str, Any]:
    """An owner, a contractor, a project, a site and one acceptance, through the services."""
    from inspection.actor import SYSTEM
    from inspection.clock import FixedClock
    from inspection.projects import schemas as s
    from inspection.projects.rules import OrgKind
    from inspection.projects.service import ProjectsService
    from inspection.records import project_bucket, write
    from inspection.settings import get_settings
    from inspection.warranty.tables import Acceptance
    from tests.factories import credit_code

    clock = FixedClock(datetime.combine(TODAY, datetime.min.time(), UTC))
    svc = ProjectsService(get_settings(), clock)
    owner = await svc.create_organisation(
        SYSTEM, s.OrganisationCreate(name="建设单位", kind=OrgKind.owner, credit_code=credit_code())
    )
    contractor = await svc.create_organisation(
        SYSTEM, s.OrganisationCreate(name="施工单位", kind=OrgKind.contractor, credit_code=credit_code())
    )
    project = await svc.create_project(
        SYSTEM, s.ProjectCreate(code="BENCH-W", name="保修基准", year=2026, owner_organisation_id=owner.id)
    )
    site = await svc.create_site(SYSTEM, project.id, s.SiteCreate(name="基准小区"))
    async with write(SYSTEM, clock) as w:
        acceptance = await w.insert(
            Acceptance,
            {"project": project.id, "site": site.id, "accepted_on": START, "result": "passed"},
            [project_bucket(project.id)],
        )
    return {"project": project.id, "site": site.id, "contractor": contractor.id, "acceptance": acceptance["id"]}


WORK_ITEM_COLS = [
    "id",
    "project",
    "site",
    "category",
    "work_type",
    "name",
    "contractor",
    "status",
    "version",
    "updated_at",
    "deleted",
    "device_id",
]
ITEM_COLS = [
    "id",
    "project",
    "site",
    "work_item",
    "acceptance",
    "contractor",
    "work_type",
    "period_rule",
    "period_unit",
    "period_amount",
    "by_contract",
    "starts_on",
    "ends_on",
    "settlement_cents",
    "retention_cents",
    "version",
    "updated_at",
    "deleted",
    "device_id",
]


def _rows(world: dict[str, Any], start: int, count: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(start + 1)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    work, items = [], []
    for i in range(start, start + count):
        wid = _uuid(rng)
        work.append(
            (
                wid,
                world["project"],
                world["site"],
                "basic",
                "road_paving",
                f"道路{i}",
                world["contractor"],
                "accepted",
                1,
                now,
                False,
                "bench",
            )
        )
        ends = START + timedelta(days=rng.randrange(SPREAD_DAYS))
        items.append(
            (
                _uuid(rng),
                world["project"],
                world["site"],
                wid,
                world["acceptance"],
                world["contractor"],
                "road_paving",
                "paving",
                "years",
                5,
                False,
                START,
                ends,
                0,
                0,
                1,
                now,
                False,
                "bench",
            )
        )
    return work, items


async def _load(world: dict[str, Any], start: int, count: int, db_url: str) -> float:
    """Bulk-load `count` work items and warranty items; seconds taken."""
    t0 = time.perf_counter()
    batch = 100_000
    if db_url.startswith("sqlite"):
        import sqlite3

        from inspection.settings import parse_database_url

        conn = sqlite3.connect(parse_database_url(db_url).path)
        conn.execute("PRAGMA synchronous = OFF")
        with conn:
            for at in range(start, start + count, batch):
                work, items = _rows(world, at, min(batch, start + count - at))
                conn.executemany(
                    f"INSERT INTO work_item ({', '.join(WORK_ITEM_COLS)}) VALUES ({', '.join('?' * len(WORK_ITEM_COLS))})",
                    work,
                )
                conn.executemany(
                    f"INSERT INTO warranty_item ({', '.join(ITEM_COLS)}) VALUES ({', '.join('?' * len(ITEM_COLS))})",
                    items,
                )
        conn.execute("ANALYZE")
        conn.close()
    else:
        import asyncpg

        from inspection.settings import parse_database_url

        u = parse_database_url(db_url)
        conn = await asyncpg.connect(
            host=u.host, port=u.port, user=u.user, password=u.password or None, database=u.database
        )
        try:
            for at in range(start, start + count, batch):
                work, items = _rows(world, at, min(batch, start + count - at))
                await conn.copy_records_to_table("work_item", records=work, columns=WORK_ITEM_COLS)
                await conn.copy_records_to_table("warranty_item", records=items, columns=ITEM_COLS)
            await conn.execute("ANALYZE work_item; ANALYZE warranty_item; ANALYZE alert")
        finally:
            await conn.close()
    return time.perf_counter() - t0


async def _floor(day: date, leads: list[int]) -> int:
    from inspection import db

    rows = await db.fetch_tuples(
        "SELECT id, ends_on FROM warranty_item WHERE ends_on >= {} AND ends_on <= {} AND deleted = {}",
        day,
        day + timedelta(days=max(leads)),
        False,
    )
    return len(rows)


async def _scan(day: date) -> tuple[float, int]:
    from inspection.alerts.jobs import job_named
    from inspection.alerts.runner import run_job
    from inspection.clock import FixedClock
    from inspection.settings import get_settings
    from inspection.warranty.service import end_of_local_day

    settings = get_settings()
    clock = FixedClock(end_of_local_day(settings, day - timedelta(days=1)) + timedelta(hours=2))
    result = await run_job(job_named("warranty_expiring"), settings, clock)
    if result.status != "ok":
        raise SystemExit(f"scan failed: {result}")
    return result.seconds, result.created


async def _peak(coro_fn: Any) -> tuple[Any, int]:
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        out = await coro_fn()
        return out, tracemalloc.get_traced_memory()[1] // 1024
    finally:
        tracemalloc.stop()


async def child(items: int) -> dict[str, Any]:
    from inspection import db
    from inspection.settings import get_settings

    settings = get_settings()
    leads = settings.alerts.warranty_lead_days
    db_url = settings.database.url
    out: dict[str, Any] = {"items": items}
    async with db.connection_pool(settings):
        await db.apply_migrations()
        world = await _world()
        small = max(1, items // 10)
        out["load_s_small"] = round(await _load(world, 0, small, db_url), 2)
        # at a tenth of the table: catch up, then the daily scan's memory
        await _scan(TODAY)
        _, out["daily_peak_kib_small"] = await _peak(lambda: _scan(TODAY + timedelta(days=1)))
        _, out["quiet_peak_kib_small"] = await _peak(lambda: _scan(TODAY + timedelta(days=1)))
        out["load_s"] = round(out["load_s_small"] + await _load(world, small, items - small, db_url), 2)
        # the full table: the floor, the catch-up scan, the daily scan (time, then memory on the next day)
        base = TODAY + timedelta(days=10)
        t0 = time.perf_counter()
        due = await _floor(base, leads)
        out["floor_s"] = round(time.perf_counter() - t0, 4)
        out["due_in_window"] = due
        _, out["floor_peak_kib"] = await _peak(lambda: _floor(base, leads))
        out["catch_up_s"], out["catch_up_alerts"] = await _scan(base)
        out["catch_up_s"] = round(out["catch_up_s"], 3)
        daily_s, out["daily_alerts"] = await _scan(base + timedelta(days=1))
        out["daily_s"] = round(daily_s, 4)
        (_, out["next_day_alerts"]), out["daily_peak_kib"] = await _peak(lambda: _scan(base + timedelta(days=2)))
        quiet_s, _ = await _scan(base + timedelta(days=2))  # nothing new: the scan alone
        out["quiet_rescan_s"] = round(quiet_s, 4)
        _, out["quiet_peak_kib"] = await _peak(lambda: _scan(base + timedelta(days=2)))
        out["daily_ratio_to_floor"] = round(daily_s / out["floor_s"], 2) if out["floor_s"] else None
        out["memory_ratio_to_floor"] = round(out["daily_peak_kib"] / max(1, out["floor_peak_kib"]), 3)
        # the day's new alerts grow with the table (ten times the items, ten times as many due each
        # day), up to one page; the scan itself pages through the window in constant memory
        out["memory_growth_10x_table"] = round(out["daily_peak_kib"] / max(1, out["daily_peak_kib_small"]), 2)
        out["scan_memory_growth_10x_table"] = round(out["quiet_peak_kib"] / max(1, out["quiet_peak_kib_small"]), 2)
        out["goal_met"] = daily_s <= 2.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--_child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._child:
        print(json.dumps(asyncio.run(child(args.items))))
        return
    env = {
        **os.environ,
        "SITEINSPECT_SECURITY_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijkl",
        "SITEINSPECT_LOGGING_LEVEL": "WARNING",
        "SITEINSPECT_SCHEDULER_ENABLED": "false",
    }
    results: dict[str, Any] = {}
    runs = []
    if args.only in (None, "sqlite"):
        tmp = Path(tempfile.mkdtemp(prefix="si-bench-warranty-"))
        runs.append(
            (
                "sqlite",
                [],
                {
                    **env,
                    "SITEINSPECT_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
                    "SITEINSPECT_STORAGE_DISK_ROOT": str(tmp / "ev"),
                },
                tmp,
            )
        )
    if args.only in (None, "postgres"):
        tmp = Path(tempfile.mkdtemp(prefix="si-bench-warranty-"))
        runs.append(
            (
                "postgres",
                [str(ROOT / "scripts/with-postgres.sh")],
                {**env, "SITEINSPECT_STORAGE_DISK_ROOT": str(tmp / "ev")},
                tmp,
            )
        )
    for name, prefix, run_env, tmp in runs:
        try:
            out = subprocess.run(
                [*prefix, sys.executable, __file__, "--_child", "--items", str(args.items)],
                capture_output=True,
                text=True,
                cwd=ROOT,
                env=run_env,
                check=False,
            )
        finally:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        if out.returncode != 0:
            raise SystemExit(f"{name}: {out.stderr[-3000:]}")
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps({name: results[name]}), flush=True)
    print(json.dumps({f"{engine}_{k}": v for engine, r in results.items() for k, v in r.items()}))


if __name__ == "__main__":
    main()
