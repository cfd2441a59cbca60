"""Load benchmark (issue 11, item 5): 100 tablets and 20 browser users against one server process.

    .venv/bin/python bench/load.py [--seconds 60] [--tablets 100] [--browsers 20] [--capacity-seconds 10]
    ./scripts/with-postgres.sh .venv/bin/python bench/load.py        # on PostgreSQL

The database is SITEINSPECT_DATABASE_URL (a fresh temporary SQLite file when unset). It is
migrated and given the demo programme (3 projects, 24 sites, 146 buildings, orders, inspections,
samples, warranties), then one user per simulated person. One uvicorn process serves it on
127.0.0.1, started by the launcher the tests use (inspection/tools/devserver.py).

1. Mixed load for --seconds: every tablet (the reference sync client, `TabletClient`, each a
   supervisor or inspector with its own local database and connection) runs inspections of roof
   waterproofing lots: a draft, its seven answers one to three at a time, corrections, now and
   then a field edit of a building, and a submission signed with a PNG that goes up as evidence;
   after each step it syncs (announce photos, push, upload, pull) and waits 5-15 s (a change
   every 5-15 s is faster than an inspector walking a site works; --tablet-think 2,8 overloads
   the server). All tablets start at once: the morning rush. The browser users (contractors,
   owners and supervisors on the portal; supervisors and the quality station on the JSON API)
   read order lists, order pages, the dashboard, project pages, the alert feed, inspection lists
   and summaries, rarely a weekly PDF, and wait 2-6 s between pages.
2. Capacity, for --capacity-seconds each and with the same number of concurrent clients (one
   per tablet): the tablets push one edit and pull in a loop without waiting; then a bare Litestar
   app (bench/bare_app.py: one trivial JSON endpoint) in its own process with the same uvicorn
   settings is driven the same way. The floor is the bare app's throughput; the ratio is the sync
   endpoints' throughput to it.

Latency is per route template (ids replaced by {id}), from sending the request to having the
whole body. An error is a transport failure or an HTTP status of 400 or more; a mutation the
server refused (`rejected`) is counted apart. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspection.tools.devserver import DevServer  # noqa: E402

PASSWORD = "load-bench-password-1"
ROOF = "gb50300-roof-waterproofing"
GOAL_SYNC_P95_MS = 500
SLICE_S = 10
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SHA_RE = re.compile(r"(?<=/)[0-9a-f]{64}(?=/|$)")
ORDER_LINK_RE = re.compile(r'href="/portal/orders/([0-9a-f-]{36})"')
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
SYNC_ROUTES = ("POST /api/v1/sync/push", "POST /api/v1/sync/pull")


def route_of(method: str, path: str) -> str:
    return f"{method} {SHA_RE.sub('{sha256}', UUID_RE.sub('{id}', path))}"


# Measurement


@dataclass
class Sample:
    route: str
    phase: str
    started: float
    seconds: float
    ok: bool


@dataclass
class Recorder:
    phase: str = "warm-up"
    samples: list[Sample] = field(default_factory=list)
    rejected: int = 0
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, route: str, started: float, ok: bool, what: str = "") -> None:
        self.samples.append(Sample(route, self.phase, started, time.perf_counter() - started, ok))
        if not ok:
            self.failures[f"{route}: {what}"] += 1


class TimedClient(httpx.AsyncClient):
    """A client that records every request it sends, body included, by route template."""

    def __init__(self, recorder: Recorder, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recorder = recorder

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        route = route_of(request.method, request.url.path)
        started = time.perf_counter()
        try:
            response = await super().send(request, **kwargs)
        except httpx.HTTPError as exc:
            self.recorder.add(route, started, False, type(exc).__name__)
            raise
        self.recorder.add(route, started, response.status_code < 400, str(response.status_code))
        return response


def client(recorder: Recorder, base_url: str) -> TimedClient:
    # one connection per device, as separate tablets and browsers have
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    return TimedClient(recorder, base_url=base_url, timeout=30, limits=limits)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[int(q) - 1]


def summarise(samples: list[Sample], seconds: float) -> dict[str, Any]:
    times = sorted(s.seconds for s in samples)
    return {
        "n": len(samples),
        "rps": round(len(samples) / seconds, 1),
        "errors": sum(not s.ok for s in samples),
        "p50_ms": round(percentile(times, 50) * 1000, 1),
        "p95_ms": round(percentile(times, 95) * 1000, 1),
        "p99_ms": round(percentile(times, 99) * 1000, 1),
    }


# Seeding


async def seed(tablets: int, browsers: int, tag: str) -> dict[str, Any]:
    """The demo programme, then the people of this run: tablets (supervisors and quality-station
    inspectors) and browser users (contractors, owners, supervisors, the quality station)."""
    from inspection import db
    from inspection.actor import SYSTEM
    from inspection.clock import SystemClock
    from inspection.demo import load_demo
    from inspection.projects import schemas as s
    from inspection.projects.rules import Role
    from inspection.projects.service import ProjectsService
    from inspection.projects.tables import Organisation, Project, WorkItem
    from inspection.settings import get_settings

    settings = get_settings()
    async with db.connection_pool(settings):
        await db.apply_migrations()
        await load_demo(quiet=True)
        svc = ProjectsService(settings, SystemClock())
        projects = [r["id"] for r in await Project.select(Project.id).where(Project.code.like("DEMO-2026-%"))]
        projects.sort(key=str)
        orgs: dict[str, list[Any]] = defaultdict(list)
        for o in await Organisation.select(Organisation.id, Organisation.kind).order_by(Organisation.name):
            orgs[o["kind"]].append(o["id"])
        # the projects each contractor organisation works in
        works_in: dict[Any, set[Any]] = defaultdict(set)
        for w in await WorkItem.select(WorkItem.contractor, WorkItem.project):
            works_in[w["contractor"]].add(w["project"])

        async def person(name: str, org: Any, role: Role, in_projects: list[Any]) -> str:
            user = await svc.create_user(
                SYSTEM, s.UserCreate(username=name, display_name=name, password=PASSWORD, organisation_id=org)
            )
            for p in in_projects:
                await svc.add_member(SYSTEM, p, s.MembershipCreate(user_id=user.id, role=role))
            return name

        people: dict[str, list[dict[str, Any]]] = {"tablets": [], "browsers": []}
        for i in range(tablets):
            project = projects[i % len(projects)]
            # four in five are the supervision company's engineers (监理); the rest the quality station
            if i % 5 == 4:
                name = await person(f"load{tag}-t{i:03d}", orgs["authority"][0], Role.inspector, [project])
                people["tablets"].append({"username": name, "project": str(project), "edits_buildings": False})
            else:
                name = await person(f"load{tag}-t{i:03d}", orgs["supervisor"][0], Role.supervisor, [project])
                people["tablets"].append({"username": name, "project": str(project), "edits_buildings": True})
        contractors = orgs["contractor"]
        for i in range(browsers):
            kind = ("contractor", "owner", "supervisor-portal", "supervisor-api", "authority-api")[i % 5]
            name = f"load{tag}-b{i:02d}"
            if kind == "contractor":
                org, role = contractors[(i // 5) % len(contractors)], Role.contractor
                member_of = sorted(works_in[org], key=str)
            elif kind == "owner":
                org, role, member_of = orgs["owner"][0], Role.owner, projects
            elif kind.startswith("supervisor"):
                org, role, member_of = orgs["supervisor"][0], Role.supervisor, projects[:2]
            else:
                org, role, member_of = orgs["authority"][0], Role.authority, projects
            await person(name, org, role, member_of)
            people["browsers"].append({"username": name, "kind": kind, "projects": [str(p) for p in member_of]})
        return people


# Tablets


def signature_png(rng: random.Random) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("L", (160, 60), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(rng.randint(0, 159), rng.randint(0, 59)) for _ in range(8)], fill=0, width=2)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def roof_answers(rng: random.Random) -> list[dict[str, Any]]:
    """The seven items of a GB 50300 roof-waterproofing lot; about one lot in five fails N1."""
    passed = 7 if rng.random() < 0.2 else rng.randint(9, 10)
    return [
        {"item_code": "M1", "set": {"value": "pass"}},
        {"item_code": "M2", "set": {"value": "pass"}},
        {"item_code": "M3", "set": {"value": "pass"}},
        {"item_code": "N1", "set": {"checked": 10, "passed": passed, "note": "抽查10处"}},
        {"item_code": "N2", "set": {"measured": [rng.randint(-8, 0) for _ in range(5)], "unit": "mm"}},
        {"item_code": "N3", "set": {"checked": 5, "passed": 5}},
        {"item_code": "N4", "set": {"measured": [round(rng.uniform(0, 0.4), 1) for _ in range(5)], "unit": "%"}},
    ]


@dataclass
class Tablet:
    client: Any  # TabletClient
    http: TimedClient
    project: str
    edits_buildings: bool
    rng: random.Random
    roofs: list[str] = field(default_factory=list)
    buildings: list[str] = field(default_factory=list)
    draft: str | None = None
    unanswered: list[dict[str, Any]] = field(default_factory=list)

    def learn(self) -> None:
        """What this tablet works on, from its local copy after the first pull."""
        items = self.client.rows("work_item").values()
        self.roofs = sorted(
            w["id"] for w in items if w["project"] == self.project and w["work_type"] == "roof_waterproofing"
        )
        self.buildings = sorted(b["id"] for b in self.client.rows("building").values() if b["project"] == self.project)

    def correct(self) -> None:
        """A correction of one answer of the draft, against the values the tablet holds."""
        from inspection.checklists.answers import answer_id

        assert self.draft is not None and not self.unanswered
        code, changes = self.rng.choice(
            [("N1", {"note": f"复查{self.rng.randint(1, 99)}处"}), ("N3", {"passed": self.rng.randint(4, 5)})]
        )
        current = self.client.row("inspection_answer", answer_id(UUID(self.draft), code)) or {}
        self.client.enqueue(
            "answer.set@1",
            self.draft,
            {"item_code": code, "set": changes},
            base_version=current.get("version"),
            base_values={k: current.get(k) for k in changes},
        )

    def step(self) -> None:
        """The next piece of an inspector's work, put in the outbox: a new draft, the next one to
        three answers, then corrections until it is signed and submitted; now and then a building's
        figures as well (supervisors only)."""
        from inspection.records import new_id

        c, rng = self.client, self.rng
        if self.draft is None:
            self.draft = str(new_id())
            args = {"project_id": self.project, "work_item_id": rng.choice(self.roofs), "template_code": ROOF}
            c.enqueue("inspection.create@1", self.draft, {**args, "lot_size": 20})
            self.unanswered = roof_answers(rng)
        elif self.unanswered:
            for _ in range(rng.randint(1, 3)):
                if self.unanswered:
                    c.enqueue("answer.set@1", self.draft, self.unanswered.pop(0))
        elif rng.random() < 0.3:
            sha = c.add_photo(signature_png(rng), self.project, content_type="image/png", name="signature.png")
            c.enqueue("inspection.submit@1", self.draft, {"signature_sha256": sha})
            self.draft = None
        else:
            self.correct()
        if self.edits_buildings and rng.random() < 0.1:
            c.edit("building", rng.choice(self.buildings), {"households": rng.randint(12, 60)}, "building.update@1")


def count_rejected(tablets: list[Tablet]) -> tuple[int, dict[str, int]]:
    reasons: dict[str, int] = defaultdict(int)
    for t in tablets:
        for entry in t.client.rejected():
            reasons[f"{entry['mutation']['name']}: {entry['result'].get('type', '')}"] += 1
    return sum(reasons.values()), dict(reasons)


# Browsers


@dataclass
class Browser:
    http: TimedClient
    kind: str
    projects: list[str]
    rng: random.Random
    orders: list[str] = field(default_factory=list)
    etag: dict[str, str] = field(default_factory=dict)

    async def sign_in(self, username: str) -> None:
        if self.kind.endswith("-api"):
            r = await self.http.post(
                "/api/v1/auth/login", json={"username": username, "password": PASSWORD, "device_id": f"web-{username}"}
            )
            r.raise_for_status()
            self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
            return
        page = await self.http.get("/portal/login")
        found = CSRF_RE.search(page.text)
        assert found, "no CSRF token on the login page"
        form = {"csrf_token": found.group(1), "username": username, "password": PASSWORD, "next": "/portal/"}
        r = await self.http.post("/portal/login", data=form)
        if r.status_code != 303:
            raise RuntimeError(f"portal sign-in of {username}: {r.status_code}")

    async def page(self, path: str) -> None:
        r = await self.http.get(path)
        self.orders = ORDER_LINK_RE.findall(r.text) or self.orders

    async def api(self, path: str) -> None:
        r = await self.http.get(path)
        if r.status_code == 200 and path.startswith("/api/v1/rectification/orders?"):
            self.orders = [o["id"] for o in r.json()["items"]] or self.orders

    async def pdf(self, path: str) -> None:
        headers = {"If-None-Match": self.etag[path]} if path in self.etag else {}
        r = await self.http.get(path, headers=headers)
        if "etag" in r.headers:
            self.etag[path] = r.headers["etag"]

    async def view(self, pdf_share: float) -> None:
        rng, project = self.rng, self.rng.choice(self.projects)
        order = rng.choice(self.orders) if self.orders else None
        if self.kind == "contractor":
            choices = [("/portal/orders/", 4), ("/portal/alerts/", 2)]
            choices += [(f"/portal/orders/{order}", 4)] if order else []
        elif self.kind in ("owner", "supervisor-portal"):
            choices = [("/portal/", 2), (f"/portal/projects/{project}", 2), ("/portal/orders/", 2)]
            choices += [("/portal/alerts/", 1)] + ([(f"/portal/orders/{order}", 3)] if order else [])
        else:
            if rng.random() < pdf_share:
                await self.pdf(f"/api/v1/reports/projects/{project}/weekly.pdf")
                return
            choices = [
                ("/api/v1/projects/", 1),
                (f"/api/v1/rectification/orders?project_id={project}", 3),
                ("/api/v1/alerts/mine", 2),
                (f"/api/v1/inspections/?project_id={project}", 2),
                (f"/api/v1/inspections/summary?project_id={project}", 1),
                (f"/api/v1/rectification/counts?project_id={project}", 1),
            ]
            choices += [(f"/api/v1/rectification/orders/{order}", 3)] if order else []
        path = rng.choices([p for p, _ in choices], weights=[w for _, w in choices])[0]
        await (self.api(path) if path.startswith("/api/") else self.page(path))


# The run


async def drive(server: DevServer, people: dict[str, Any], args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from inspection.sync.client import SyncFailed, TabletClient

    rec = Recorder()
    tablets: list[Tablet] = []
    for i, p in enumerate(people["tablets"]):
        http = client(rec, server.url)
        tc = TabletClient(http, str(work / f"tablet-{i}.sqlite3"), f"load-tablet-{i}", retries=0, page_limit=500)
        tablets.append(Tablet(tc, http, p["project"], p["edits_buildings"], random.Random(args.seed * 1000 + i)))
    browsers: list[Browser] = []
    for i, p in enumerate(people["browsers"]):
        rng = random.Random(args.seed * 2000 + i)
        browsers.append(Browser(client(rec, server.url), p["kind"], p["projects"], rng))

    # warm-up, not measured: sign in, and each tablet's first full sync, ten at a time
    started = time.perf_counter()
    gate = asyncio.Semaphore(10)

    async def first_sync(t: Tablet, username: str) -> None:
        async with gate:
            await t.client.login(username, PASSWORD)
            await t.client.pull()
            t.learn()

    await asyncio.gather(*(first_sync(t, p["username"]) for t, p in zip(tablets, people["tablets"], strict=True)))
    await asyncio.gather(*(b.sign_in(p["username"]) for b, p in zip(browsers, people["browsers"], strict=True)))
    warm_up_s = time.perf_counter() - started

    # 1. mixed load
    rec.phase = "mixed"
    rounds: list[float] = []
    pushed = 0
    sync_failures = 0
    deadline = time.perf_counter() + args.seconds

    async def tablet_life(t: Tablet) -> None:
        nonlocal sync_failures, pushed
        while time.perf_counter() < deadline:
            t.step()
            t0 = time.perf_counter()
            try:
                report = await t.client.sync()
                pushed += report.pushed
            except SyncFailed:
                sync_failures += 1
            rounds.append(time.perf_counter() - t0)
            await pause(t.rng.uniform(*args.tablet_think))

    async def pause(seconds: float) -> None:
        """Think time, cut short at the end of the phase."""
        await asyncio.sleep(max(0.0, min(seconds, deadline - time.perf_counter())))

    async def browser_life(b: Browser) -> None:
        await pause(b.rng.uniform(0, args.browser_think[1]))
        while time.perf_counter() < deadline:
            try:
                await b.view(args.pdf_share)
            except httpx.HTTPError:
                pass  # recorded by the client
            await pause(b.rng.uniform(*args.browser_think))

    cpu0, server_cpu0, t0 = time.process_time(), cpu_seconds(server.pid), time.perf_counter()
    await asyncio.gather(*(tablet_life(t) for t in tablets), *(browser_life(b) for b in browsers))
    mixed_wall = time.perf_counter() - t0
    client_cpu, server_cpu = time.process_time() - cpu0, cpu_seconds(server.pid) - server_cpu0
    # everyone's outbox drained: nothing left pending, refusals counted
    rec.phase = "drain"
    for t in tablets:
        await t.client.push()
    rejected, rejected_why = count_rejected(tablets)

    # 2a. sync capacity: push one edit and pull, without waiting, one loop per tablet
    rec.phase = "sync-capacity"
    deadline = time.perf_counter() + args.capacity_seconds

    async def tablet_flat_out(t: Tablet) -> None:
        nonlocal sync_failures
        while time.perf_counter() < deadline:
            if t.draft is None or t.unanswered:
                t.step()  # a new draft, or its next answers
            else:
                t.correct()
            try:
                await t.client.push()
                await t.client.pull()
            except SyncFailed:
                sync_failures += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(tablet_flat_out(t) for t in tablets))
    capacity_wall = time.perf_counter() - t0
    for t in tablets:
        t.client.close()
        await t.http.aclose()
    for b in browsers:
        await b.http.aclose()
    return {
        "rec": rec,
        "rounds": rounds,
        "pushed": pushed,
        "sync_failures": sync_failures,
        "warm_up_s": warm_up_s,
        "mixed_wall": mixed_wall,
        "mixed_start": t0,
        "capacity_wall": capacity_wall,
        "client_cpu_s": client_cpu,
        "server_cpu_s": server_cpu,
        "rejected": rejected,
        "rejected_why": rejected_why,
    }


async def bare_floor(server: DevServer, clients: int, seconds: float) -> dict[str, Any]:
    """The bare app driven by `clients` loops, each with its own connection, without waiting."""
    rec = Recorder(phase="bare")
    https = [client(rec, server.url) for _ in range(clients)]
    body = {"device_id": "load-bare", "schema_version": 1, "cursor": None, "limit": 500}
    warm = time.perf_counter() + 1
    deadline = warm + seconds

    async def loop(http: TimedClient) -> None:
        while time.perf_counter() < deadline:
            try:
                await http.post("/bare", json=body)
            except httpx.HTTPError:
                pass

    await asyncio.gather(*(loop(h) for h in https))
    for h in https:
        await h.aclose()
    return summarise([s for s in rec.samples if s.started >= warm], seconds)


def report(args: argparse.Namespace, db_label: str, run: dict[str, Any], bare: dict[str, Any]) -> dict[str, Any]:
    rec: Recorder = run["rec"]
    mixed = [s for s in rec.samples if s.phase == "mixed"]
    by_route: dict[str, list[Sample]] = defaultdict(list)
    for s in mixed:
        by_route[s.route].append(s)
    seconds = run["mixed_wall"]
    endpoints = {r: summarise(v, seconds) for r, v in sorted(by_route.items(), key=lambda kv: -len(kv[1]))}
    sync_samples = [s for s in mixed if s.route in SYNC_ROUTES]
    sync = summarise(sync_samples, seconds)
    rounds = sorted(run["rounds"])
    # sync p95 by slice of the run: the opening rush against the steady state after it
    slices: dict[int, list[float]] = defaultdict(list)
    for s in sync_samples:
        slices[int((s.started - run["mixed_start"]) // SLICE_S)].append(s.seconds)
    timeline = [round(percentile(sorted(v), 95) * 1000) for _, v in sorted(slices.items())]
    capacity = [s for s in rec.samples if s.phase == "sync-capacity"]
    cap_sync = summarise([s for s in capacity if s.route in SYNC_ROUTES], run["capacity_wall"])
    errors = sum(not s.ok for s in rec.samples if s.phase in ("mixed", "drain", "sync-capacity"))
    errors += bare["errors"]

    print(f"\nload on {db_label}: {args.tablets} tablets and {args.browsers} browser users for {seconds:.0f} s")
    columns = ("n", "rps", "errors", "p50_ms", "p95_ms", "p99_ms")
    print(f"{'endpoint':<58}" + "".join(f"{c:>9}" for c in columns))
    total = summarise(mixed, seconds)
    for r, e in [*endpoints.items(), ("all", total), ("sync (push and pull)", sync)]:
        print(f"{r:<58}" + "".join(f"{e[c]:>9}" for c in columns))
    print(f"sync p95 ms by {SLICE_S} s slice: {timeline}")
    print(
        f"tablet sync rounds (announce, push, upload, pull): {len(rounds)}, "
        f"p50 {percentile(rounds, 50) * 1000:.0f} ms, p95 {percentile(rounds, 95) * 1000:.0f} ms"
    )
    print(
        f"CPU during the mixed load: server {run['server_cpu_s']:.1f} s, load driver {run['client_cpu_s']:.1f} s "
        f"of {seconds * (os.cpu_count() or 1):.0f} s on {os.cpu_count()} cores"
    )
    print(
        f"mutations pushed: {run['pushed']} ({run['pushed'] / seconds:.1f}/s), refused: {run['rejected']} "
        f"{run['rejected_why'] or ''}; failed syncs: {run['sync_failures']}"
    )
    load = os.getloadavg()[0]
    print(f"machine load average (1 min) at the end: {load:.2f}")
    if rec.failures:
        print("errors:", dict(rec.failures))
    ratio = cap_sync["rps"] / bare["rps"] if bare["rps"] else 0.0
    print(
        f"capacity with {args.tablets} clients: sync {cap_sync['rps']} req/s (p95 {cap_sync['p95_ms']} ms), "
        f"bare Litestar {bare['rps']} req/s (p95 {bare['p95_ms']} ms); ratio {ratio:.3f}"
    )
    ok = errors == 0 and run["rejected"] == 0 and sync["p95_ms"] <= GOAL_SYNC_P95_MS
    return {
        "bench": "load",
        "db": db_label,
        "tablets": args.tablets,
        "browsers": args.browsers,
        "duration_s": round(seconds, 1),
        "requests": total["n"],
        "rps": total["rps"],
        "errors": errors,
        "mutations_per_s": round(run["pushed"] / seconds, 1),
        "rejected_mutations": run["rejected"],
        "p95_ms": total["p95_ms"],
        "sync_p50_ms": sync["p50_ms"],
        "sync_p95_ms": sync["p95_ms"],
        "sync_p99_ms": sync["p99_ms"],
        "sync_p95_ms_by_slice": timeline,
        "sync_round_p95_ms": round(percentile(rounds, 95) * 1000, 1),
        "endpoints": endpoints,
        "server_cpu_s": round(run["server_cpu_s"], 1),
        "client_cpu_s": round(run["client_cpu_s"], 1),
        "capacity_s": args.capacity_seconds,
        "sync_rps": cap_sync["rps"],
        "sync_capacity_p95_ms": cap_sync["p95_ms"],
        "bare_rps": bare["rps"],
        "sync_to_bare_ratio": round(ratio, 3),
        "warm_up_s": round(run["warm_up_s"], 1),
        "cpus": os.cpu_count(),
        "load_avg_1m": round(load, 2),
        "goals": {"errors": 0, "sync_p95_ms_max": GOAL_SYNC_P95_MS},
        "ok": ok,
    }


def pair(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    return float(low), float(high or low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="mixed load (60)")
    parser.add_argument("--capacity-seconds", type=float, default=10, help="each capacity phase (10)")
    parser.add_argument("--tablets", type=int, default=100)
    parser.add_argument("--browsers", type=int, default=20)
    parser.add_argument("--tablet-think", type=pair, default=(5.0, 15.0), help="seconds between syncs (5,15)")
    parser.add_argument("--browser-think", type=pair, default=(2.0, 6.0), help="seconds between pages (2,6)")
    parser.add_argument("--pdf-share", type=float, default=0.01, help="share of API views that print a PDF")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="siteinspect-load-"))
    url = os.environ.get("SITEINSPECT_DATABASE_URL") or f"sqlite:///{work / 'load.sqlite3'}"
    db_label = "postgresql" if url.startswith("postgres") else "sqlite"
    env = {
        "SITEINSPECT_DATABASE_URL": url,
        "SITEINSPECT_SECURITY_SECRET_KEY": "load-bench-secret-key-0123456789-abcdefghij",
        # sign-in happens before the measured load; cheap hashes keep 120 of them short
        "SITEINSPECT_SECURITY_ARGON2_TIME_COST": "1",
        "SITEINSPECT_SECURITY_ARGON2_MEMORY_KIB": "1024",
        "SITEINSPECT_STORAGE_DISK_ROOT": str(work / "evidence"),
    }
    os.environ.update(env)  # the seeding below runs in this process, on the same settings
    tag = f"{int(time.time()) % 1_000_000:06d}"
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the migrations' report
        people = asyncio.run(seed(args.tablets, args.browsers, tag))
    print(
        f"seeded the demo programme and {args.tablets + args.browsers} people in {time.perf_counter() - started:.1f} s"
    )

    (work / "tablets").mkdir()
    server = DevServer(env, log=work / "server.log")
    with server:
        run = asyncio.run(drive(server, people, args, work / "tablets"))
    bare_server = DevServer(env, app="bare_app:app", factory=False, app_dir=ROOT / "bench", log=work / "bare.log")
    with bare_server:
        bare = asyncio.run(bare_floor(bare_server, args.tablets, args.capacity_seconds))
    figures = report(args, db_label, run, bare)
    print(f"server log: {work / 'server.log'}")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
