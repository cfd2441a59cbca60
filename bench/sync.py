# ruff: noqa: E501 - benchmark driver: embedded helper scripts
"""Sync benchmark (issue 6): first sync of a 20,000-row project, a 1,000-mutation push, and 50
tablets syncing at once — against a real server process on 127.0.0.1, on SQLite and PostgreSQL.

    .venv/bin/python bench/sync.py [--seconds 60] [--rows 20000] [--only sqlite|postgres]

The floor for (a) is selecting the same rows and encoding them to JSON in one process; the floor,
the first sync and the push are each the median of three runs, and the server's CPU seconds for
the first sync and the push are given too (less at the mercy of a shared machine than wall time).
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspection.tools.devserver import DevServer  # noqa: E402

PASSWORD = "bench-password-1"
REPEATS = 3


def base_env(db_url: str, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SITEINSPECT_DATABASE_URL": db_url,
        "SITEINSPECT_SECURITY_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijkl",
        "SITEINSPECT_SECURITY_ARGON2_TIME_COST": "1",
        "SITEINSPECT_SECURITY_ARGON2_MEMORY_KIB": "1024",
        "SITEINSPECT_SECURITY_LOGIN_MAX_FAILURES": "1000",
        "SITEINSPECT_STORAGE_DISK_ROOT": str(tmp / "evidence"),
        "SITEINSPECT_LOGGING_LEVEL": "WARNING",
        "SITEINSPECT_DATABASE_POOL_MAX_SIZE": "20",
    }


SEED = r"""
import asyncio, json, sys
from inspection import db
from inspection.actor import SYSTEM
from inspection.clock import SystemClock
from inspection.projects import schemas as s
from inspection.projects.rules import OrgKind, Role
from inspection.projects.service import ProjectsService
from inspection.projects.tables import Building
from inspection.records import context_buckets, new_id, write
from inspection.settings import get_settings
from tests.factories import credit_code

ROWS, TABLETS, PASSWORD = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

async def main():
    settings = get_settings()
    async with db.connection_pool(settings):
        await db.apply_migrations()
        svc = ProjectsService(settings, SystemClock())
        sup_org = await svc.create_organisation(SYSTEM, s.OrganisationCreate(name="监理公司", kind=OrgKind.supervisor, credit_code=credit_code()))
        project = await svc.create_project(SYSTEM, s.ProjectCreate(code="BENCH-1", name="基准项目", year=2026))
        site = await svc.create_site(SYSTEM, project.id, s.SiteCreate(name="基准小区"))
        users = []
        for i in range(TABLETS):
            u = await svc.create_user(SYSTEM, s.UserCreate(username=f"sup{i}", display_name=f"监理{i}", password=PASSWORD, organisation_id=sup_org.id))
            await svc.add_member(SYSTEM, project.id, s.MembershipCreate(user_id=u.id, role=Role.supervisor))
            users.append(u.username)
        # the bulk of the project: buildings, written in large transactions through the write path's index
        made = 0
        while made < ROWS:
            batch = min(2000, ROWS - made)
            async with write(SYSTEM, SystemClock()) as w:
                rows = [Building(id=new_id(), project=project.id, site=site.id, name=f"{made + i + 1}号楼", floors=6,
                                 households=24, version=1, updated_at=w.now) for i in range(batch)]
                await Building.insert(*rows)
                w.bulk_inserted(Building, [r.id for r in rows], context_buckets(project.id), project.id)
            made += batch
        print(json.dumps({"project": str(project.id), "site": str(site.id), "users": users}))

asyncio.run(main())
"""

FLOOR = r"""
import asyncio, json, sys, time
from inspection import db
from inspection.projects.tables import Building
from inspection.settings import get_settings
import msgspec

async def main():
    async with db.connection_pool(get_settings()):
        start = time.perf_counter()
        rows = await Building.select().where(Building.project == sys.argv[1])
        body = msgspec.json.encode(rows)
        print(json.dumps({"floor_s": time.perf_counter() - start, "rows": len(rows), "bytes": len(body)}))

asyncio.run(main())
"""


def cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a process has used so far: on a shared machine, what a step
    cost the server, whatever the load did to its wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_py(code: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"helper failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


async def bench_engine(name: str, db_url: str, rows: int, seconds: float, tablets: int) -> dict[str, Any]:
    import httpx

    from inspection.sync.client import TabletClient

    tmp = Path(tempfile.mkdtemp(prefix=f"si-bench-{name}-"))
    env = base_env(db_url, tmp)
    seeded = run_py(SEED, env, str(rows), str(tablets), PASSWORD)
    # The machine is shared: the floor and the first sync are each the median of three runs.
    floors = [run_py(FLOOR, env, seeded["project"]) for _ in range(REPEATS)]
    floor = {**floors[0], "floor_s": statistics.median(f["floor_s"] for f in floors)}
    server = DevServer(env).start()
    result: dict[str, Any] = {"engine": name, "rows": floor["rows"], "floor_s": round(floor["floor_s"], 3)}
    try:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
            # (a) first sync
            runs, server_cpu, client_cpu = [], [], []
            for n in range(REPEATS):
                first = TabletClient(http, str(tmp / f"first{n}.sqlite3"), f"bench-first{n}", page_limit=1000)
                await first.login(seeded["users"][0], PASSWORD)
                cpu0, own0 = cpu_s(server.pid), time.process_time()
                start = time.perf_counter()
                report = await first.pull()
                runs.append(time.perf_counter() - start)
                server_cpu.append(cpu_s(server.pid) - cpu0)
                client_cpu.append(time.process_time() - own0)
                if n < REPEATS - 1:
                    first.close()
            first_s = statistics.median(runs)
            result.update(
                floor_runs_s=[round(f["floor_s"], 3) for f in floors],
                first_sync_runs_s=[round(r, 3) for r in runs],
                first_sync_s=round(first_s, 3),
                first_sync_pages=report.pulled_pages,
                first_sync_rows=report.upserts,
                ratio_to_floor=round(first_s / floor["floor_s"], 2),
                first_sync_server_cpu_s=round(statistics.median(server_cpu), 3),
                first_sync_client_cpu_s=round(statistics.median(client_cpu), 3),
            )
            # (b) a push of 1,000 mutations, three times (each edit changes the value: 30 + i % 7,
            # then + 100, + 200), the median
            buildings = list(first.rows("building"))[:1000]
            first.push_batch = 500
            pushes, push_cpu = [], []
            for n in range(REPEATS):
                for i, bid in enumerate(buildings):
                    first.edit("building", bid, {"households": 30 + i % 7 + 100 * n}, "building.update@1")
                cpu0 = cpu_s(server.pid)
                start = time.perf_counter()
                await first.push()
                pushes.append(time.perf_counter() - start)
                push_cpu.append(cpu_s(server.pid) - cpu0)
                await first.pull()  # the tablet's copy at the versions it wrote: the next base
            result["push_1000_s"] = round(statistics.median(pushes), 3)
            result["push_1000_runs_s"] = [round(p, 3) for p in pushes]
            result["push_1000_server_cpu_s"] = round(statistics.median(push_cpu), 3)
            statuses = {o["result"]["status"] for o in first.outbox()}
            result["push_statuses"] = sorted(statuses)
            first.close()
            # (c) tablets syncing at once for `seconds`
            clients = []
            for i, user in enumerate(seeded["users"]):
                c = TabletClient(http, str(tmp / f"t{i}.sqlite3"), f"bench-{i}", page_limit=1000, retries=0)
                await c.login(user, PASSWORD)
                clients.append(c)
            await asyncio.gather(*(c.pull() for c in clients))
            latencies: dict[str, list[float]] = {"push": [], "pull": []}
            errors = 0
            error_kinds: dict[str, int] = {}
            deadline = time.perf_counter() + seconds

            async def tablet(c: TabletClient, n: int) -> None:
                nonlocal errors
                rng = random.Random(n)
                while time.perf_counter() < deadline:
                    c.edit("site", seeded["site"], {"households": rng.randint(1, 10_000)}, "site.update@1")
                    for kind, op in (("push", c.push), ("pull", c.pull)):
                        t0 = time.perf_counter()
                        try:
                            await op()
                        except Exception as exc:
                            errors += 1
                            # what failed, for the report: the client's message names the status
                            what = f"{kind}: {type(exc).__name__}: {str(exc)[-160:]}"
                            error_kinds[what] = error_kinds.get(what, 0) + 1
                        latencies[kind].append(time.perf_counter() - t0)
                    await asyncio.sleep(rng.uniform(0.2, 1.0))

            await asyncio.gather(*(tablet(c, i) for i, c in enumerate(clients)))
            everything = latencies["push"] + latencies["pull"]
            q = statistics.quantiles(everything, n=100)
            result.update(
                tablets=len(clients),
                seconds=seconds,
                requests=len(everything),
                errors=errors,
                error_kinds=error_kinds,
                p50_ms=round(q[49] * 1000, 1),
                p95_ms=round(q[94] * 1000, 1),
                push_p95_ms=round(statistics.quantiles(latencies["push"], n=100)[94] * 1000, 1),
                pull_p95_ms=round(statistics.quantiles(latencies["pull"], n=100)[94] * 1000, 1),
            )
            for c in clients:
                c.close()
    finally:
        server.stop(timeout_s=20)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--tablets", type=int, default=50)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--_pg", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    if args._pg:  # re-run of ourselves inside scripts/with-postgres.sh
        r = asyncio.run(
            bench_engine("postgres", os.environ["SITEINSPECT_DATABASE_URL"], args.rows, args.seconds, args.tablets)
        )
        print(json.dumps(r))
        return
    if args.only in (None, "sqlite"):
        tmp = Path(tempfile.mkdtemp(prefix="si-bench-db-"))
        results["sqlite"] = asyncio.run(
            bench_engine("sqlite", f"sqlite:///{tmp / 'bench.sqlite3'}", args.rows, args.seconds, args.tablets)
        )
        print(json.dumps(results["sqlite"]), flush=True)
    if args.only in (None, "postgres"):
        out = subprocess.run(
            [
                str(ROOT / "scripts/with-postgres.sh"),
                sys.executable,
                __file__,
                "--_pg",
                "--rows",
                str(args.rows),
                "--seconds",
                str(args.seconds),
                "--tablets",
                str(args.tablets),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        if out.returncode != 0:
            raise SystemExit(out.stderr[-3000:])
        results["postgres"] = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(results["postgres"]), flush=True)
    summary = {
        f"{engine}_{key}": value
        for engine, r in results.items()
        for key, value in r.items()
        if key
        in {
            "first_sync_s",
            "floor_s",
            "ratio_to_floor",
            "first_sync_server_cpu_s",
            "push_1000_s",
            "push_1000_server_cpu_s",
            "p50_ms",
            "p95_ms",
            "errors",
            "requests",
        }
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
