"""Scopes benchmark (issue 17): write throughput with every writer in one project, then with the
same writers spread over four, each transaction pausing 20 ms while it holds its scope's lock
(standing in for the round trips to a remote database between taking the lock and committing).

    ./scripts/with-postgres.sh .venv/bin/python bench/scopes.py      # PostgreSQL
    .venv/bin/python bench/scopes.py                                 # SQLite (one writer at a time: ~1×)
    .venv/bin/python bench/scopes.py --writers 16 --seconds 10 --pause-ms 20

In one process, through the write path itself (`records.write`: one building inserted per
transaction, its change indexed and audited). A scope's lock is held from the numbering to the
commit, so writers of one project queue there, and writers of different projects do not. The last
line printed is one JSON object with `speedup` (four projects over one; the goal: ≥ 3).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if not os.environ.get("SITEINSPECT_DATABASE_URL"):
    os.environ["SITEINSPECT_DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp(prefix='si-scopes-')) / 'b.sqlite3'}"
os.environ.setdefault("SITEINSPECT_SECURITY_SECRET_KEY", "bench-secret-key-0123456789-abcdefghijkl")
os.environ.setdefault("SITEINSPECT_DATABASE_POOL_MAX_SIZE", "40")
os.environ.setdefault("SITEINSPECT_LOGGING_LEVEL", "WARNING")

from inspection import db  # noqa: E402
from inspection.actor import SYSTEM  # noqa: E402
from inspection.changefeed import pending  # noqa: E402
from inspection.clock import SystemClock  # noqa: E402
from inspection.projects import schemas as s  # noqa: E402
from inspection.projects.service import ProjectsService  # noqa: E402
from inspection.projects.tables import Building  # noqa: E402
from inspection.records import context_buckets, write  # noqa: E402
from inspection.settings import get_settings  # noqa: E402


async def seed(projects: int) -> list[tuple[UUID, UUID]]:
    svc = ProjectsService(get_settings(), SystemClock())
    made = []
    tag = str(int(time.time()))[-6:]
    for n in range(projects):
        project = await svc.create_project(
            SYSTEM, s.ProjectCreate(code=f"SCOPES-{tag}-{n}", name=f"项目{n}", year=2026)
        )
        site = await svc.create_site(SYSTEM, project.id, s.SiteCreate(name=f"小区{n}"))
        made.append((project.id, site.id))
    return made


def hold_the_lock(pause_s: float) -> None:
    """Each committing transaction waits `pause_s` after locking its scopes, before it commits."""
    locked = pending.lock_scopes

    async def lock_scopes(scopes: list[UUID]) -> Any:
        heads = await locked(scopes)
        await asyncio.sleep(pause_s)
        return heads

    pending.lock_scopes = lock_scopes  # type: ignore[assignment]


async def run(where: list[tuple[UUID, UUID]], writers: int, seconds: float) -> dict[str, Any]:
    clock = SystemClock()
    commits = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def writer(n: int) -> None:
        nonlocal commits
        project, site = where[n % len(where)]
        i = 0
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            async with write(SYSTEM, clock) as w:
                await w.insert(
                    Building, {"project": project, "site": site, "name": f"w{n}-{i}"}, context_buckets(project)
                )
            latencies.append(time.perf_counter() - t0)
            commits += 1
            i += 1

    start = time.perf_counter()
    await asyncio.gather(*(writer(n) for n in range(writers)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "projects": len(where),
        "commits": commits,
        "per_s": round(commits / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--pause-ms", type=float, default=20)
    args = parser.parse_args()
    settings = get_settings()
    engine = "sqlite" if settings.database.url.startswith("sqlite") else "postgres"
    async with db.connection_pool(settings):
        await db.apply_migrations()
        places = await seed(4)
        hold_the_lock(args.pause_ms / 1000)
        await run(places[:1], 2, 1)  # warm up: connections, prepared statements
        one = await run(places[:1], args.writers, args.seconds)
        print(json.dumps({"engine": engine, **one}), flush=True)
        four = await run(places, args.writers, args.seconds)
        print(json.dumps({"engine": engine, **four}), flush=True)
    print(
        json.dumps(
            {
                "engine": engine,
                "writers": args.writers,
                "seconds": args.seconds,
                "pause_ms": args.pause_ms,
                "one_project_per_s": one["per_s"],
                "four_projects_per_s": four["per_s"],
                "speedup": round(four["per_s"] / one["per_s"], 2),
                "goal": 3,
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
