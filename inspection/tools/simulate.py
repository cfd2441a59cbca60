"""`siteinspect simulate`: many reference tablets going offline and online at random against one
server, then a check that nothing was lost, nothing applied twice and every tablet converged."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from inspection import db
from inspection.actor import SYSTEM
from inspection.clock import Clock
from inspection.messages import Message, t
from inspection.projects import schemas as s
from inspection.projects.rules import CREDIT_CODE_ALPHABET, OrgKind, Role, credit_code_check_char
from inspection.projects.service import ProjectsService
from inspection.settings import Settings
from inspection.sync.client import SyncFailed, TabletClient

PASSWORD = "simulated-tablet-1"  # noqa: S105 - accounts made for the simulation only


class _Switch(httpx.AsyncBaseTransport):
    """A tablet's radio: when off, every request fails as if there were no signal."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.online = True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.online:
            raise httpx.ConnectError("offline")
        return await self.inner.handle_async_request(request)


@dataclass
class Live:
    """What the simulation has done so far, as its live table shows it (the final figures come
    from the check at the end, in SimulationReport)."""

    tablets: int = 0
    online: int = 0
    mutations_made: int = 0
    # per tablet: results the server has given to its pushes so far, by status
    results: dict[int, dict[str, int]] = field(default_factory=dict)
    draining: bool = False

    def count(self, status: str) -> int:
        return sum(r.get(status, 0) for r in self.results.values())

    def tally(self, n: int, tablet: TabletClient) -> None:
        counts: dict[str, int] = {}
        for entry in tablet.outbox():
            status = entry["result"]["status"] if entry["result"] else "pending"
            counts[status] = counts.get(status, 0) + 1
        self.results[n] = counts


@dataclass
class SimulationReport:
    tablets: int
    seconds: float
    mutations_made: int = 0
    applied: int = 0
    noop: int = 0
    conflicts_recorded: int = 0
    rejected: int = 0
    lost: int = 0
    doubled: int = 0
    not_converged: int = 0
    conflict_rows: int = 0
    problems: list[Message] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.doubled or self.not_converged or self.problems)


async def _setup(settings: Settings, clock: Clock, tablets: int, tag: str) -> tuple[UUID, list[UUID], list[str]]:
    svc = ProjectsService(settings, clock)
    rng = random.Random(tag)
    body = "91" + "".join(rng.choice(CREDIT_CODE_ALPHABET) for _ in range(15))
    org = await svc.create_organisation(
        SYSTEM,
        s.OrganisationCreate(
            name=f"模拟监理{tag}", kind=OrgKind.supervisor, credit_code=body + credit_code_check_char(body)
        ),
    )
    project = await svc.create_project(SYSTEM, s.ProjectCreate(code=f"SIM-{tag}", name=f"同步模拟 {tag}", year=2026))
    site = await svc.create_site(SYSTEM, project.id, s.SiteCreate(name="模拟小区"))
    buildings = [
        (await svc.create_building(SYSTEM, site.id, s.BuildingCreate(name=f"{i + 1}号楼"))).id for i in range(10)
    ]
    users = []
    for i in range(tablets):
        user = await svc.create_user(
            SYSTEM,
            s.UserCreate(
                username=f"sim-{tag}-{i}", display_name=f"巡检员{i}", password=PASSWORD, organisation_id=org.id
            ),
        )
        await svc.add_member(SYSTEM, project.id, s.MembershipCreate(user_id=user.id, role=Role.supervisor))
        users.append(user.username)
    return project.id, buildings, users


async def run_simulation(
    app: Any,
    settings: Settings,
    tablets: int,
    seconds: float,
    offline_share: float,
    seed: int = 1,
    live: Live | None = None,
    *,
    rounds: int | None = None,
    tag: str | None = None,
) -> SimulationReport:
    """Each tablet edits, goes offline or online and syncs, round after round, for `seconds` of
    wall time, or for exactly `rounds` rounds when given (the test: the same work however busy
    the machine is). `tag` names the simulation's records (default: from the time and seed, so
    runs on one database do not collide). `live`, if given, is kept up to date while the tablets
    run (for a display)."""
    live = live or Live()
    live.tablets = live.online = tablets
    tag = tag or f"{int(time.time())}{seed}"
    # the records are made on the app's own clock, as its requests will be
    project_id, buildings, users = await _setup(settings, app.state.services.clock, tablets, tag)
    tmp = Path(tempfile.mkdtemp(prefix="siteinspect-sim-"))
    rng = random.Random(seed)
    clients: list[tuple[TabletClient, _Switch, httpx.AsyncClient]] = []
    for i, username in enumerate(users):
        switch = _Switch(httpx.ASGITransport(app=app, client=("127.0.0.1", 30000 + i)))
        http = httpx.AsyncClient(transport=switch, base_url="http://simulated")
        tablet = TabletClient(
            http,
            str(tmp / f"tablet-{i}.sqlite3"),
            f"sim-{tag}-{i}",
            retries=1,
            backoff_s=0.01,
            rng=random.Random(f"jitter-{seed}-{i}"),
        )
        await tablet.login(username, PASSWORD)
        clients.append((tablet, switch, http))
    report = SimulationReport(tablets=tablets, seconds=seconds)
    deadline = time.monotonic() + seconds

    async def life(tablet: TabletClient, switch: _Switch, n: int) -> None:
        local = random.Random(seed * 1000 + n)
        try:
            await tablet.pull()
        except SyncFailed:
            pass
        done = 0
        while (done < rounds) if rounds is not None else (time.monotonic() < deadline):
            done += 1
            was = switch.online
            switch.online = local.random() >= offline_share
            live.online += switch.online - was
            for _ in range(local.randint(1, 3)):
                building = str(local.choice(buildings))
                field_name = local.choice(["households", "floors", "units"])
                value = local.randint(1, 30) if field_name != "households" else local.randint(1, 200)
                tablet.edit("building", building, {field_name: value}, "building.update@1")
                report.mutations_made += 1
                live.mutations_made += 1
            if switch.online:
                try:
                    await tablet.sync()
                except SyncFailed:
                    pass
                live.tally(n, tablet)
            await asyncio.sleep(local.uniform(0.01, 0.1))

    await asyncio.gather(*(life(t, sw, i) for i, (t, sw, _) in enumerate(clients)))
    # Everyone comes back online and drains; then one more pull so all see the final state.
    for _tablet, switch, _ in clients:
        switch.online = True
    live.online, live.draining = tablets, True
    for _ in range(3):
        await asyncio.gather(*(t.push() for t, _, _ in clients))
    for n, (tablet, _, _) in enumerate(clients):
        live.tally(n, tablet)
    await asyncio.gather(*(t.pull() for t, _, _ in clients))
    await _verify(report, [t for t, _, _ in clients], project_id)
    for tablet, _, http in clients:
        tablet.close()
        await http.aclose()
    del rng
    return report


async def _verify(report: SimulationReport, tablets: list[TabletClient], project_id: UUID) -> None:
    from inspection.projects.tables import Building

    server = {str(r["id"]): r for r in await Building.select().where(Building.project == project_id)}
    for tablet in tablets:
        outbox = tablet.outbox()
        for entry in outbox:
            result = entry["result"]
            if entry["status"] == "pending" or result is None:
                report.lost += 1
                continue
            status = result["status"]
            report.applied += status == "applied"
            report.noop += status == "noop"
            report.conflicts_recorded += status == "conflict_recorded"
            report.rejected += status == "rejected"
        rows = await db.raw(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT m.seq) AS d FROM sync_mutation m "
            "JOIN sync_device d ON d.id = m.device WHERE d.device_id = {}",
            tablet.device_id,
        )
        stored, distinct = int(rows[0]["n"]), int(rows[0]["d"])
        report.doubled += stored - distinct
        if stored != len(outbox):
            report.problems.append(
                t("cli.simulate_not_stored", device=tablet.device_id, made=len(outbox), stored=stored)
            )
        local = tablet.rows("building")
        for bid, row in server.items():
            mine = local.get(bid)
            if mine is None or mine["version"] != row["version"] or mine["households"] != row["households"]:
                report.not_converged += 1
                break
    rows = await db.raw("SELECT COUNT(*) AS n FROM sync_conflict WHERE project = {}", project_id)
    report.conflict_rows = int(rows[0]["n"])
    if report.conflict_rows < report.conflicts_recorded:
        report.problems.append(
            t("cli.simulate_conflicts_missing", reported=report.conflicts_recorded, recorded=report.conflict_rows)
        )
