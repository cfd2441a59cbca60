"""Sync with the reference client as the tablet: adversarial cases from the sync issue."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from inspection import db
from inspection.sync.client import SyncFailed
from tests.factories import PASSWORD, World
from tests.sync.conftest import Tablets


async def test_first_sync_brings_the_project(world: World, tablets: Tablets) -> None:
    t = await tablets("inspector")
    report = await t.sync()
    assert str(world.id_of("p1")) in t.rows("project")
    assert str(world.id_of("p2")) not in t.rows("project")
    assert set(t.rows("site")) == {str(world.id_of("site1"))}
    assert set(t.rows("work_item")) == {str(world.id_of("work_a")), str(world.id_of("work_b"))}
    assert len(t.rows("membership")) == 8
    assert "app_user" not in {r[0] for r in t.db.execute("SELECT DISTINCT tbl FROM rows")}
    assert report.pulled_pages == 1
    again = await t.pull()
    assert again.upserts == 0, "a second pull with nothing new sends nothing"


async def test_contractor_gets_only_its_own_records(world: World, tablets: Tablets) -> None:
    a = await tablets("contractor_a")
    await a.sync()
    assert set(a.rows("work_item")) == {str(world.id_of("work_a"))}
    assert set(a.rows("site")) == {str(world.id_of("site1"))}, "context comes along"
    # of the project's eight memberships, only its own: the other contractor's and the office's stay away
    members = list(a.rows("membership").values())
    assert [m["user"] for m in members] == [str(world.users["contractor_a"].id)]


async def test_paging_gives_the_same_result(world: World, tablets: Tablets) -> None:
    for i in range(30):
        await world.post("owner", f"/api/v1/sites/{world.id_of('site1')}/buildings", {"name": f"{i + 2}号楼"})
    whole = await tablets("supervisor")
    await whole.sync()
    paged = await tablets("supervisor", page_limit=4)
    report = await paged.sync()
    assert report.pulled_pages > 5
    for table in ["building", "site", "work_item", "membership", "organisation"]:
        assert paged.rows(table) == whole.rows(table), table


async def test_a_pull_says_how_many_changes_are_to_come(world: World, tablets: Tablets) -> None:
    """The total behind a tablet's "已同步 12,000 / 20,053 条": asked for at the start of a pull, and
    again after an interruption, it counts exactly what the remaining pages then send."""
    for i in range(20):
        await world.post("owner", f"/api/v1/sites/{world.id_of('site1')}/buildings", {"name": f"{i + 2}号楼"})
    t = await tablets("inspector")

    async def page(cursor: str | None, estimate: bool) -> dict:  # type: ignore[type-arg]
        body = {"device_id": t.device_id, "schema_version": 1, "cursor": cursor, "limit": 7, "estimate": estimate}
        r = await world.client.post(
            "/api/v1/sync/pull", json=body, headers={"Authorization": f"Bearer {t._meta(t.user, 'access_token')}"}
        )
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def sent(p: dict) -> int:  # type: ignore[type-arg]
        return sum(len(c["upsert"]) + len(c["delete"]) for c in p["changes"].values())

    first = await page(None, True)
    pages, cursor, resumed_at = [first], first["cursor"], None
    while pages[-1]["has_more"]:
        if len(pages) == 3:  # the tablet lost its connection and asks again from where it was
            resumed_at = await page(cursor, True)
            pages.append(resumed_at)
        else:
            pages.append(await page(cursor, False))
        cursor = pages[-1]["cursor"]
    assert len(pages) > 4 and resumed_at is not None
    assert first["estimate"] == sum(sent(p) for p in pages)
    assert resumed_at["estimate"] == sum(sent(p) for p in pages[3:])
    assert all(p["estimate"] is None for i, p in enumerate(pages) if i not in (0, 3))
    # up to date: nothing to come
    assert (await page(cursor, True))["estimate"] == 0


async def test_interrupted_pull_resumes(world: World, tablets: Tablets) -> None:
    for i in range(12):
        await world.post("owner", f"/api/v1/sites/{world.id_of('site1')}/buildings", {"name": f"{i + 2}号楼"})
    t = await tablets("inspector", page_limit=3, retries=0)
    t.transport.fail_after_requests = t.transport.requests + 8  # type: ignore[attr-defined]
    with pytest.raises(SyncFailed):
        await t.pull()
    partial = len(t.rows("building"))
    assert 0 < partial < 13
    t.transport.fail_after_requests = None  # type: ignore[attr-defined]
    await t.pull()
    assert len(t.rows("building")) == 13


async def test_edit_reaches_other_tablets(world: World, tablets: Tablets) -> None:
    sup = await tablets("supervisor")
    owner = await tablets("owner")
    await sup.sync()
    await owner.sync()
    site = str(world.id_of("site1"))
    sup.edit("site", site, {"households": 412}, "site.update@1")
    await sup.sync()
    assert sup.outbox()[0]["result"]["status"] == "applied"
    await owner.pull()
    assert owner.row("site", site)["households"] == 412


async def test_duplicate_push_after_a_lost_answer_applies_once(world: World, tablets: Tablets) -> None:
    t = await tablets("supervisor", retries=3)
    await t.sync()
    site = str(world.id_of("site1"))
    t.edit("site", site, {"households": 500}, "site.update@1")
    before = await db.raw("SELECT COUNT(*) AS n FROM audit_entry WHERE record_id = {}", site)
    t.transport.lose_answers = 1  # type: ignore[attr-defined]
    await t.push()  # the first answer is lost; the client retries and gets the stored outcome
    after = await db.raw("SELECT COUNT(*) AS n FROM audit_entry WHERE record_id = {}", site)
    assert after[0]["n"] == before[0]["n"] + 1
    assert t.outbox()[0]["result"]["status"] == "applied"


async def test_same_field_on_two_tablets_records_the_loser(world: World, tablets: Tablets) -> None:
    one = await tablets("supervisor")
    two = await tablets("owner")
    await one.sync()
    await two.sync()
    site = str(world.id_of("site1"))
    one.edit("site", site, {"households": 111}, "site.update@1")
    two.edit("site", site, {"households": 222}, "site.update@1")
    await one.sync()
    await two.sync()
    assert two.outbox()[0]["result"]["status"] == "conflict_recorded"
    await one.pull()
    assert one.row("site", site)["households"] == 222, "the later arrival wins"
    for t in (one, two):
        conflicts = t.conflicts()
        assert len(conflicts) == 1
        c = conflicts[0]
        assert (c["field"], c["reason"], c["lost_value"], c["kept_value"]) == (
            "households",
            "overwritten",
            "111",
            "222",
        )


async def test_different_fields_both_apply(world: World, tablets: Tablets) -> None:
    one = await tablets("supervisor")
    two = await tablets("owner")
    await one.sync()
    await two.sync()
    site = str(world.id_of("site1"))
    one.edit("site", site, {"households": 333}, "site.update@1")
    two.edit("site", site, {"address": "幸福路 8 号"}, "site.update@1")
    await one.sync()
    await two.sync()
    await one.pull()
    row = one.row("site", site)
    assert (row["households"], row["address"]) == (333, "幸福路 8 号")
    assert one.conflicts() == []


async def test_update_to_a_deleted_record_is_recorded(world: World, tablets: Tablets) -> None:
    t = await tablets("supervisor")
    await t.sync()
    site = str(world.id_of("site1"))
    await db.raw("UPDATE site SET deleted = {} WHERE id = {}", True, world.id_of("site1"))
    t.edit("site", site, {"households": 9}, "site.update@1")
    await t.push()
    result = t.outbox()[0]["result"]
    assert (result["status"], result["code"]) == ("conflict_recorded", "entity_deleted")
    rows = await db.raw("SELECT reason FROM sync_conflict WHERE record_id = {}", world.id_of("site1"))
    assert [r["reason"] for r in rows] == ["entity_deleted"]


async def test_wrong_clock_is_kept_as_evidence_not_order(world: World, tablets: Tablets) -> None:
    t = await tablets("supervisor", clock_offset=timedelta(hours=-7))
    await t.sync()
    t.edit("site", str(world.id_of("site1")), {"households": 77}, "site.update@1")
    await t.sync()
    assert t.outbox()[0]["result"]["status"] == "applied"
    rows = await db.raw("SELECT clock_skew_ms FROM sync_device WHERE device_id = {}", t.device_id)
    assert abs(rows[0]["clock_skew_ms"] - 7 * 3600 * 1000) < 120_000


async def test_device_time_without_an_offset_is_refused(world: World) -> None:
    # found by the fuzzer: a naive device_now was subtracted from the server's aware clock (a 500)
    for route, extra in (("pull", {}), ("push", {"mutations": []})):
        body = {"device_id": "test-device", "schema_version": 1, "device_now": "2026-11-23T09:30:00", **extra}
        r = await world.post("supervisor", f"/api/v1/sync/{route}", body)
        assert r.status_code == 422 and r.json()["field"] == "device_now", r.text
        body["device_now"] = "2026-11-23T09:30:00+08:00"
        assert (await world.post("supervisor", f"/api/v1/sync/{route}", body)).status_code == 200


async def test_access_revoked_while_offline(world: World, tablets: Tablets) -> None:
    t = await tablets("viewer")
    await t.sync()
    assert t.rows("site")
    t.transport.offline = True  # type: ignore[attr-defined]
    t.edit("site", str(world.id_of("site1")), {"households": 1}, "site.update@1")
    memberships = (await world.get("owner", f"/api/v1/projects/{world.id_of('p1')}/members")).json()["items"]
    mine = next(m for m in memberships if m["user_id"] == str(world.users["viewer"].id))
    r = await world.delete("owner", f"/api/v1/projects/{world.id_of('p1')}/members/{mine['id']}")
    assert r.status_code == 204
    t.transport.offline = False  # type: ignore[attr-defined]
    report = await t.sync()
    assert [o["result"]["status"] for o in t.outbox()] == ["rejected"]
    assert report.purged > 0
    assert t.rows("site") == {} and t.rows("project") == {}


async def test_stale_tablet_cannot_change_what_it_may_not(world: World, tablets: Tablets) -> None:
    t = await tablets("contractor_a")
    await t.sync()
    t.edit("work_item", str(world.id_of("work_a")), {"status": "accepted"}, "work_item.update@1")
    t.edit("work_item", str(world.id_of("work_b")), {"status": "accepted"}, "work_item.update@1")
    t.enqueue("nonsense.do@1", None, {})
    t.edit("site", str(world.id_of("site1")), {"households": 5}, "site.update@1")
    await t.push()
    results = [o["result"] for o in t.outbox()]
    assert [r["status"] for r in results] == ["rejected"] * 4
    assert [r["code"] for r in results] == ["forbidden", "not-found", "validation", "forbidden"]
    assert all(o["status"] == "rejected" for o in t.outbox()), "refusals never block the queue"


async def test_old_client_version(world: World, tablets: Tablets, monkeypatch: pytest.MonkeyPatch) -> None:
    from inspection.sync import rules

    t = await tablets("supervisor")
    await t.pull()
    t.edit("site", str(world.id_of("site1")), {"households": 64}, "site.update@1")
    monkeypatch.setattr(rules, "PULL_MIN", 2)
    await t.push()
    assert t.outbox()[0]["result"]["status"] == "applied", "an old app can still drain its outbox"
    with pytest.raises(SyncFailed) as info:
        await t.pull()
    assert "426" in str(info.value)


async def test_gaps_and_reused_device_ids_are_refused(world: World, tablets: Tablets) -> None:
    t = await tablets("supervisor")
    headers = {"Authorization": f"Bearer {t._meta(t.user, 'access_token')}"}
    base = {"device_id": t.device_id, "schema_version": 1}
    m = {
        "seq": 1,
        "id": "0190a000-0000-7000-8000-000000000001",
        "name": "site.update@1",
        "entity_id": str(world.id_of("site1")),
        "args": {"set": {"households": 8}},
    }
    r = await t.http.post("/api/v1/sync/push", json={**base, "mutations": [{**m, "seq": 3}]}, headers=headers)
    assert r.status_code == 409 and r.json()["expected_seq"] == 1
    r = await t.http.post("/api/v1/sync/push", json={**base, "mutations": [m]}, headers=headers)
    assert r.status_code == 200
    r = await t.http.post("/api/v1/sync/push", json={**base, "mutations": [m]}, headers=headers)
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", "a replay answers the same"
    other = {**m, "args": {"set": {"households": 9}}}
    r = await t.http.post("/api/v1/sync/push", json={**base, "mutations": [other]}, headers=headers)
    assert r.status_code == 409 and r.json()["reason"] == "device_reuse"
    r = await t.http.post(
        "/api/v1/sync/push", json={**base, "device_id": "someone-else", "mutations": []}, headers=headers
    )
    assert r.status_code == 422 and r.json()["field"] == "device_id"


async def test_forged_and_foreign_cursors(world: World, tablets: Tablets) -> None:
    a = await tablets("supervisor")
    await a.pull()
    cursor = a._meta(a.user, "cursor")
    b = await tablets("owner")
    headers = {"Authorization": f"Bearer {b._meta(b.user, 'access_token')}"}
    r = await b.http.post(
        "/api/v1/sync/pull", json={"device_id": b.device_id, "schema_version": 1, "cursor": cursor}, headers=headers
    )
    assert r.status_code == 422 and r.json()["field"] == "cursor"
    forged = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    r = await b.http.post(
        "/api/v1/sync/pull", json={"device_id": b.device_id, "schema_version": 1, "cursor": forged}, headers=headers
    )
    assert r.status_code == 422


async def test_logout_keeps_each_users_outbox(world: World, tablets: Tablets) -> None:
    t = await tablets("supervisor", device="shared-tablet")
    await t.sync()
    t.transport.offline = True  # type: ignore[attr-defined]
    t.edit("site", str(world.id_of("site1")), {"households": 42}, "site.update@1")
    await t.logout()
    t.transport.offline = False  # type: ignore[attr-defined]
    await t.login(world.users["owner"].username, PASSWORD)
    assert t.outbox() == []
    await t.sync()
    await t.logout()
    await t.login(world.users["supervisor"].username, PASSWORD)
    assert len(t.outbox("pending")) == 1
    await t.sync()
    assert t.outbox()[0]["result"]["status"] == "applied"


async def test_tombstone_horizon_forces_a_replacement_sync(world: World, tablets: Tablets, app, clock) -> None:  # type: ignore[no-untyped-def]
    t = await tablets("supervisor")
    await t.sync()
    t.transport.offline = True  # type: ignore[attr-defined]
    t.edit("site", str(world.id_of("site1")), {"households": 13}, "site.update@1")
    r = await world.post("owner", f"/api/v1/sites/{world.id_of('site1')}/buildings", {"name": "临时楼"})
    building = r.json()
    await db.raw("UPDATE building SET deleted = {} WHERE id = {}", True, building["id"])
    await db.raw("UPDATE sync_change SET deleted = {} WHERE row_id = {}", True, building["id"])
    purged = await app.state.services.sync.purge_tombstones(clock.now() + timedelta(days=400))
    assert purged >= 1
    t.transport.offline = False  # type: ignore[attr-defined]
    report = await t.sync()
    assert report.reset
    assert t.outbox()[0]["result"]["status"] == "applied", "the outbox survives a reset"
    assert building["id"] not in t.rows("building")
    assert t.row("site", str(world.id_of("site1")))["households"] == 13


async def test_fifty_tablets_at_once(world: World, tablets: Tablets) -> None:
    clients = [await tablets(who) for who in ["supervisor", "owner"] * 25]
    await asyncio.gather(*(c.sync() for c in clients))
    for i, c in enumerate(clients):
        c.edit("site", str(world.id_of("site1")), {"households": 1000 + i}, "site.update@1")
    await asyncio.gather(*(c.sync() for c in clients))
    await asyncio.gather(*(c.pull() for c in clients))
    statuses = [c.outbox()[0]["result"]["status"] for c in clients]
    assert all(s in ("applied", "conflict_recorded") for s in statuses), [
        c.outbox()[0]["result"]
        for c in clients
        if c.outbox()[0]["result"]["status"] not in ("applied", "conflict_recorded")
    ]
    final = (await world.get("owner", f"/api/v1/sites/{world.id_of('site1')}")).json()
    assert all(c.row("site", str(world.id_of("site1")))["version"] == final["version"] for c in clients)
    devices = [c.device_id for c in clients]
    rows = await db.raw(
        "SELECT COUNT(*) AS n FROM sync_mutation m JOIN sync_device d ON d.id = m.device"
        f" WHERE d.device_id IN ({', '.join('{}' for _ in devices)})",
        *devices,
    )
    assert rows[0]["n"] == 50, "each mutation stored exactly once"
    conflicts = await db.raw("SELECT COUNT(*) AS n FROM sync_conflict WHERE project = {}", world.id_of("p1"))
    assert conflicts[0]["n"] == statuses.count("conflict_recorded")


@pytest.mark.postgres_only  # SQLite serialises every writer; the race this guards against needs concurrent commits
async def test_concurrent_long_writers_never_skip_a_change(world: World, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Writers hold their transactions open while pullers read; every committed change must
    reach a puller that keeps pulling, whatever order the commits land in."""
    import contextlib

    from inspection import records
    from inspection.actor import SYSTEM
    from inspection.projects.tables import Building
    from inspection.records import context_buckets, write
    from inspection.sync.service import SyncService

    # as writers in separate processes would: they meet at the counter row's lock in the
    # database, not in this process's queue in front of it
    monkeypatch.setattr(records, "_write_gate", contextlib.nullcontext)

    service = SyncService(b"k" * 32, clock, world.services.sync.services)
    p1, site = world.id_of("p1"), world.id_of("site1")
    written: list[str] = []

    async def writer(n: int) -> None:
        for i in range(6):
            async with write(SYSTEM, clock) as w:
                row = await w.insert(Building, {"project": p1, "site": site, "name": f"w{n}-{i}"}, context_buckets(p1))
                await asyncio.sleep(0.02 * ((n + i) % 3))
            written.append(str(row["id"]))

    from inspection.actor import Actor

    sup = world.users["supervisor"]
    actor = Actor(user_id=sup.id, username=sup.username, organisation_id=sup.organisation_id, device_id="race")
    seen: set[str] = set()
    cursor: str | None = None

    async def puller(stop: asyncio.Event) -> None:
        nonlocal cursor
        while True:
            result = await service.pull(actor, "race", cursor, 1, limit=7)
            seen.update(str(r["id"]) for r in result.upserts("building"))
            cursor = result.cursor
            if stop.is_set() and not result.has_more:
                return
            await asyncio.sleep(0.005)

    stop = asyncio.Event()
    pull_task = asyncio.create_task(puller(stop))
    await asyncio.gather(*(writer(n) for n in range(4)))
    stop.set()
    await pull_task
    result = await service.pull(actor, "race", cursor, 1, limit=1000)
    seen.update(str(r["id"]) for r in result.upserts("building"))
    assert set(written) <= seen, f"skipped {len(set(written) - seen)} of {len(written)}"


async def test_simulation_converges(app, seeded: int) -> None:  # type: ignore[no-untyped-def]
    from inspection.settings import get_settings
    from inspection.tools.simulate import run_simulation

    # a number of rounds, not of seconds: the same work however busy the machine is
    report = await run_simulation(
        app, get_settings(), tablets=8, seconds=0, offline_share=0.4, rounds=6, tag="test", seed=seeded
    )
    assert report.mutations_made >= 8 * 6
    assert report.applied + report.noop + report.conflicts_recorded + report.rejected == report.mutations_made
    assert (report.lost, report.doubled, report.not_converged, report.problems) == (0, 0, 0, [])
