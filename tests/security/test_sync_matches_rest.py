"""What a tablet receives is what its user may read (issue 23, finding 5): for every person of the
test World (tests/factories.py PEOPLE) and every synced table (inspection.sync.registry
.synced_tables()), a full pull from a new device returns no row the REST API would refuse that
person, and (for project members) every row the API lets them read.

The tables come from the registry, so a table added later is compared as soon as it syncs: it
needs a way to ask the API about one of its rows (REST_READ) or an entry in NO_REST_READ saying
why it has none, and a row in the data built here; until then this test fails and says so."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from PIL import Image

from inspection.checklists.catalogue import import_shipped
from inspection.clock import FixedClock
from inspection.records import new_id
from inspection.samples import schemas as ss
from inspection.samples.rules import DispositionKind
from inspection.sync.registry import synced_tables
from tests.alerts.helpers import run
from tests.checklists.helpers import ROOF, answers_for
from tests.factories import PEOPLE, World
from tests.rectification.helpers import actor_of, announce
from tests.samples.helpers import REBAR_PASS, new_batch, results, sample_on, svc
from tests.warranty.helpers import accept_site

Row = dict[str, Any]
Probe = Callable[["Api", str, Row], Awaitable[bool]]

# Synced tables the API has no read for, and why. Rows of these reach nobody's tablet either.
NO_REST_READ = {
    "issued_document": "the register of numbered PDFs is written without buckets (reports/register.py): no "
    "tablet receives it, and the public /verify page answers only whether a number and hash were issued",
}
# Where the API shows rows to people whose tablets do not receive them, and why that is right.
# (A tablet holding LESS than its user may read is a gap, never a leak; holding more is what this
# test forbids.) table -> (the people concerned, the reason)
CONTRACTORS = {"contractor_a", "contractor_b"}
REST_READS_MORE: dict[str, tuple[set[str], str]] = {
    "evidence": (
        set(PEOPLE),
        "a filing syncs to its project's members and its own party; whoever reads a record that cites "
        "it (a contractor: another party's photo on its order) fetches it through that record",
    ),
    "evidence_link": (
        CONTRACTORS,
        "links follow their record's buckets at the time they are written: an inspection's answers and "
        "an acceptance's photos are linked while only the office may see them, so they sync with the "
        "project; a contractor reads them through the submitted inspection or the acceptance",
    ),
    "acceptance": (
        CONTRACTORS,
        "joint acceptance records sync to the project's office side; a contractor reads its acceptance "
        "through the API, and the warranty items it owes reach its tablet",
    ),
    "acceptance_participant": (CONTRACTORS, "as for acceptance"),
    "order_event": (
        CONTRACTORS,
        "an order's events follow the order's buckets when written: a draft's creation is recorded while "
        "only the issuing side sees the draft, so it stays with the project; the contractor reads it in "
        "the order's history through the API once the order is issued",
    ),
    "sync_conflict": (
        set(PEOPLE),
        "a conflict syncs to the project and to the contractor it involved, not to everyone who may "
        "read the record it names",
    ),
}
# An administrator belongs to no project: their tablet holds reference data only, while the API
# lets them read everything. Only the no-leak direction applies to them.
NOT_MEMBERS = {"admin"}
DEVICE = "test-device"  # the device the World's people signed in on (tests/factories.py login)


def _jpeg(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (seed * 40 % 256, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


class Api:
    """REST reads as one person, each URL asked once."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.cache: dict[tuple[str, str], httpx.Response] = {}

    async def get(self, who: str, url: str) -> httpx.Response:
        key = (who, url)
        if key not in self.cache:
            r = await self.world.get(who, url)
            assert r.status_code in (200, 403, 404, 409), (who, url, r.status_code, r.text[:300])
            self.cache[key] = r
        return self.cache[key]

    async def ok(self, who: str, url: str) -> bool:
        return (await self.get(who, url)).status_code == 200

    async def listed(self, who: str, url: str, row_id: Any, *path: str) -> bool:
        """`row_id` appears as an `id` in the answer at `url`, under the keys in `path`."""
        r = await self.get(who, url)
        if r.status_code != 200:
            return False
        found: Any = r.json()
        items = found if isinstance(found, list) else [found]
        for key in path:
            nxt: list[Any] = []
            for item in items:
                value = item.get(key) if isinstance(item, dict) else None
                if isinstance(value, list):
                    nxt += value
                elif value is not None:
                    nxt.append(value)
            items = nxt
        return any(isinstance(i, dict) and i.get("id") == str(row_id) for i in items)


def _by_id(url: str) -> Probe:
    async def probe(api: Api, who: str, row: Row) -> bool:
        return await api.ok(who, url.format(**row))

    return probe


def _in(url: str, *path: str) -> Probe:
    async def probe(api: Api, who: str, row: Row) -> bool:
        return await api.listed(who, url.format(**row), row["id"], *path)

    return probe


async def _membership(api: Api, who: str, row: Row) -> bool:
    return await api.listed(who, f"/api/v1/projects/{row['project']}/members?limit=500", row["id"], "items")


async def _point_state(api: Api, who: str, row: Row) -> bool:
    r = await api.get(who, f"/api/v1/supervision/work-items/{row['work_item']}")
    return r.status_code == 200 and any(p["code"] == row["point_code"] for p in r.json()["points"])


async def _evidence(api: Api, who: str, row: Row) -> bool:
    return await api.ok(who, f"/api/v1/evidence/{row['sha256']}/meta")


async def _record(api: Api, who: str, table: str, record_id: UUID) -> bool:
    """Whether `who` may read the record `table`/`record_id` names, by the API."""
    from inspection.sync.registry import synced_tables as tables

    model = tables()[table]
    row = await model.select().where(model._meta.primary_key == record_id).first()
    assert row is not None, (table, record_id)
    return await REST_READ[table](api, who, row)


async def _link(api: Api, who: str, row: Row) -> bool:
    return await _record(api, who, row["record_table"], row["record_id"])


async def _conflict(api: Api, who: str, row: Row) -> bool:
    return await _record(api, who, row["table_name"], row["record_id"])


# How to ask the API whether one person may read one row of each synced table.
REST_READ: dict[str, Probe] = {
    "organisation": _by_id("/api/v1/organisations/{id}"),
    "project": _by_id("/api/v1/projects/{id}"),
    "site": _by_id("/api/v1/sites/{id}"),
    "building": _by_id("/api/v1/buildings/{id}"),
    "work_item": _by_id("/api/v1/work-items/{id}"),
    "membership": _membership,
    "checklist_template": _by_id("/api/v1/checklists/templates/{id}"),
    "inspection": _by_id("/api/v1/inspections/{id}"),
    "inspection_answer": _in("/api/v1/inspections/{inspection}", "answers"),
    "supervision_point_state": _point_state,
    "rectification_order": _by_id("/api/v1/rectification/orders/{id}"),
    "rectification_notice": _by_id("/api/v1/rectification/notices/{id}"),
    "order_response": _in("/api/v1/rectification/orders/{order}", "responses"),
    "order_event": _in("/api/v1/rectification/orders/{order}", "history"),
    "work_stop": _in("/api/v1/rectification/stops?project_id={project}", "items"),
    "material_batch": _by_id("/api/v1/samples/batches/{id}"),
    "sample": _by_id("/api/v1/samples/samples/{id}"),
    "sample_result": _in("/api/v1/samples/samples/{sample}", "sample", "results"),
    "material_disposition": _in("/api/v1/samples/batches/{batch}", "disposition"),
    "material_filing": _in("/api/v1/samples/batches/{batch}", "filing"),
    "acceptance": _by_id("/api/v1/warranty/acceptances/{id}"),
    "acceptance_participant": _in("/api/v1/warranty/acceptances/{acceptance}", "participants"),
    "warranty_item": _in("/api/v1/warranty/items?project_id={project}&limit=500&include_expired=true", "items"),
    "warranty_claim": _by_id("/api/v1/warranty/claims/{id}"),
    "inspection_schedule": _in("/api/v1/schedules?project_id={project}"),
    "inspection_occurrence": _in("/api/v1/schedules/occurrences?project_id={project}", "items"),
    "complaint": _by_id("/api/v1/complaints/{id}"),
    "evidence": _evidence,
    "evidence_link": _link,
    "sync_conflict": _conflict,
    "area": _in("/api/v1/areas"),
}


# The data: a row in every synced table, in both contractors' scopes where a table has them


async def _upload(world: World, who: str, data: bytes, project: str = "p1") -> str:
    from tests.evidence.conftest import sha

    r = await world.client.put(
        f"/api/v1/evidence/{sha(data)}",
        content=data,
        params={"project_id": str(world.id_of(project))},
        headers={**world.headers(who), "content-type": "application/octet-stream"},
    )
    assert r.status_code == 200, r.text
    return sha(data)


async def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


async def _order(world: World, work: str, photos: list[str], kind: str = "quality") -> str:
    body = {
        "project_id": str(world.id_of("p1")),
        "work_item_id": str(world.id_of(work)),
        "kind": kind,
        "severity": "major" if kind == "stop_work" else "general",
        "description": "现场问题",
        "issue": True,
        "photos": photos,
    }
    return (await _ok(await world.post("inspector", "/api/v1/rectification/orders", body), 201))["order"]["id"]  # type: ignore[no-any-return]


async def _inspection(world: World, clock: FixedClock, work: str, photo: str, submit: bool) -> None:
    body = {
        "id": str(new_id()),
        "project_id": str(world.id_of("p1")),
        "work_item_id": str(world.id_of(work)),
        "template_code": ROOF,
    }
    inspection = await _ok(await world.post("inspector", "/api/v1/inspections/", body), 201)
    iid = inspection["inspection"]["id"] if "inspection" in inspection else inspection["id"]
    answers = answers_for(ROOF)
    answers[0] = {**answers[0], "photos": [photo]}
    r = await world.client.put(
        f"/api/v1/inspections/{iid}/answers", json={"answers": answers}, headers=world.headers("inspector")
    )
    await _ok(r)
    if submit:
        signature = await announce(world, clock, f"signature-{iid}", stored=True)
        await _ok(await world.post("inspector", f"/api/v1/inspections/{iid}/submit", {"signature_sha256": signature}))


async def _failed_inspection(world: World, clock: FixedClock, work: str) -> list[str]:
    """A submitted roof inspection with a failed item: the ids of the drafts it opened."""
    body = {
        "id": str(new_id()),
        "project_id": str(world.id_of("p1")),
        "work_item_id": str(world.id_of(work)),
        "template_code": ROOF,
        "lot_size": 40,
    }
    inspection = await _ok(await world.post("inspector", "/api/v1/inspections/", body), 201)
    iid = inspection["inspection"]["id"]
    photo = await _upload(world, "inspector", _jpeg(14))
    answers = answers_for(ROOF, M2={"value": "fail", "note": "檐沟积水", "photos": [photo]})
    r = await world.client.put(
        f"/api/v1/inspections/{iid}/answers", json={"answers": answers}, headers=world.headers("inspector")
    )
    await _ok(r)
    signature = await announce(world, clock, f"signature-{iid}", stored=True)
    submitted = await _ok(
        await world.post("inspector", f"/api/v1/inspections/{iid}/submit", {"signature_sha256": signature})
    )
    return [o["id"] for o in submitted["orders"] if o["status"] == "draft"]


async def _push(world: World, who: str, site: UUID, households: int) -> None:
    mutation = {
        "seq": 1,
        "id": str(new_id()),
        "name": "site.update@1",
        "entity_id": str(site),
        "base_version": 0,
        "base_values": {"households": 320},
        "args": {"set": {"households": households}},
    }
    body = {"device_id": DEVICE, "schema_version": 1, "mutations": [mutation]}
    result = await _ok(await world.post(who, "/api/v1/sync/push", body))
    assert result["results"][0]["status"] in ("applied", "conflict_recorded"), result


async def build(world: World, app: Any, clock: FixedClock) -> None:
    await import_shipped(clock)
    p1 = str(world.id_of("p1"))
    # acceptance first: open orders and rejected batches would block it
    accepted = await accept_site(
        world, (clock.now() - timedelta(days=3)).date(), photos=[await _upload(world, "owner", _jpeg(1))]
    )
    item_a = next(i for i in accepted.warranty_items if i.contractor_id == world.orgs["contractor_a"].id)
    item_b = next(i for i in accepted.warranty_items if i.contractor_id == world.orgs["contractor_b"].id)
    leak = await _upload(world, "resident", _jpeg(2))
    claim = {"reporter_party": "resident", "location": "1号楼", "description": "屋面渗水", "photos": [leak]}
    await _ok(
        await world.post("resident", "/api/v1/warranty/claims", {**claim, "warranty_item_id": str(item_a.id)}), 201
    )
    crack = await _upload(world, "owner", _jpeg(13))
    claim_b = {**claim, "photos": [crack], "warranty_item_id": str(item_b.id), "reporter_party": "owner"}
    await _ok(await world.post("owner", "/api/v1/warranty/claims", claim_b), 201)

    # orders to each contractor, with the inspector's photo, answered with each contractor's own
    seen = await _upload(world, "inspector", _jpeg(3))
    for who, work, seed in (("contractor_a", "work_a", 4), ("contractor_b", "work_b", 5)):
        order = await _order(world, work, [seen])
        answer = await _upload(world, who, _jpeg(seed))
        url = f"/api/v1/rectification/orders/{order}/respond"
        await _ok(await world.post(who, url, {"text": "已整改", "photos": [answer]}))
    await _order(world, "work_b", [], kind="stop_work")

    # inspections: submitted on each contractor's work, and a draft
    await _inspection(world, clock, "work_a", await _upload(world, "inspector", _jpeg(6)), submit=True)
    await _inspection(world, clock, "work_b", await _upload(world, "inspector", _jpeg(7)), submit=True)
    await _inspection(world, clock, "work_a", await _upload(world, "inspector", _jpeg(8)), submit=False)
    # a failed inspection's drafts issued as one 整改通知单 to contractor A
    failed = await _failed_inspection(world, clock, "work_a")
    notice = {"order_ids": failed, "deadline": (clock.now() + timedelta(days=5)).date().isoformat()}
    await _ok(await world.post("supervisor", "/api/v1/rectification/notices", notice), 201)
    start = f"/api/v1/supervision/work-items/{world.id_of('work_a')}/points/membrane-sampling/start"
    await _ok(await world.post("inspector", start, {}))

    # samples: contractor A's batch fails on weight and is rejected (filing, order) and destroyed
    batch_a = (await new_batch(world)).batch
    sample_a = (await sample_on(world, batch_a.id)).sample
    await svc(world).record_results(
        actor_of(world, "supervisor"), sample_a.id, results(REBAR_PASS, weight_deviation="7.5")
    )
    proof = await _upload(world, "contractor_a", _jpeg(9))
    disposal = ss.DispositionCreate(
        kind=DispositionKind.destroyed, witnessed_by_id=world.users["owner"].id, evidence=[proof]
    )
    await svc(world).dispose(actor_of(world, "contractor_a"), batch_a.id, disposal)
    batch_b = (await new_batch(world, "contractor_b", work_item_id=world.id_of("work_b"))).batch
    sample_b = (await sample_on(world, batch_b.id, "contractor_b")).sample
    await svc(world).record_results(actor_of(world, "supervisor"), sample_b.id, results(REBAR_PASS))

    # an inspection schedule and its occurrences
    schedule = {
        "project_id": p1,
        "title": "每日巡查",
        "site_id": str(world.id_of("site1")),  # named: the site's acceptance ended its open-ended rounds
        "kind": "safety",
        "frequency": "daily",
        "starts_on": (clock.now() - timedelta(days=2)).date().isoformat(),
        "inspector_id": str(world.users["inspector"].id),
    }
    await _ok(await world.post("supervisor", "/api/v1/schedules", schedule), 201)
    await run("inspection_occurrences", world.services.settings, clock)

    # a resident's complaint with a photo, from the public notice page
    site = world.id_of("site1")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as resident:
        r = await resident.post(
            f"/portal/notice/{site}/complaints",
            data={"topic": "quality", "text": "屋面漏水，楼道积水", "contact": "13800000000"},
            files=[("photos", ("leak.jpg", _jpeg(10), "image/jpeg"))],
        )
        assert r.status_code == 200, r.text

    # two tablets change the same field: a conflict
    await _push(world, "supervisor", site, 400)
    await _push(world, "owner", site, 500)

    # a numbered report
    order_a = (await _ok(await world.get("contractor_a", "/api/v1/rectification/orders?limit=1")))["items"][0]["id"]
    r = await world.get("inspector", f"/api/v1/reports/rectification/{order_a}.pdf")
    assert r.status_code == 200, r.text[:300]

    # project P2, the outsider's: a site and a photo of its own
    p2_site = {"name": "二号小区", "households": 100, "floor_area_m2": 8000.0}
    await _ok(await world.post("outsider", f"/api/v1/projects/{world.id_of('p2')}/sites", p2_site), 201)
    await _upload(world, "outsider", _jpeg(11), project="p2")

    # an administrative area (reference data: every tablet, every signed-in reader)
    await _ok(await world.post("admin", "/api/v1/areas", {"name": "示范市", "level": "city"}), 201)


async def full_pull(world: World, who: str) -> dict[str, set[str]]:
    """Everything a new device of `who` receives, page after page, as {table: {id}}."""
    got: dict[str, set[str]] = {}
    cursor = None
    for _ in range(200):
        body = {"device_id": DEVICE, "schema_version": 1, "cursor": cursor, "limit": 500}
        page = await _ok(await world.post(who, "/api/v1/sync/pull", body))
        for table, change in page["changes"].items():
            got.setdefault(table, set()).update(str(r["id"]) for r in change["upsert"])
        cursor = page["cursor"]
        if not page["has_more"]:
            return got
    raise AssertionError("the pull never ended")


async def test_every_synced_table_is_covered() -> None:
    tables = set(synced_tables())
    unknown = tables - set(REST_READ) - set(NO_REST_READ)
    assert not unknown, f"say how the API reads these synced tables (REST_READ), or why it does not: {unknown}"
    assert not set(REST_READ) & set(NO_REST_READ)
    assert set(REST_READS_MORE) <= set(REST_READ)
    assert all(people <= set(PEOPLE) and reason for people, reason in REST_READS_MORE.values())
    assert set(NOT_MEMBERS) <= set(PEOPLE)


async def test_a_pull_returns_exactly_what_the_api_lets_each_person_read(
    world: World, app: Any, clock: FixedClock
) -> None:
    await build(world, app, clock)
    tables = synced_tables()
    rows: dict[str, list[Row]] = {}
    for name, model in tables.items():
        rows[name] = await model.select().where(model.deleted.eq(False))
        assert rows[name], f"the data built here has no {name} row: add one so that it is compared"
    api = Api(world)
    problems: list[str] = []
    for who in PEOPLE:
        pulled = await full_pull(world, who)
        for name in sorted(tables):
            got = pulled.get(name, set())
            if name in NO_REST_READ:
                if got:
                    problems.append(f"{who} pulled {len(got)} {name} rows, which nobody may read")
                continue
            may = {str(r["id"]) for r in rows[name] if await REST_READ[name](api, who, r)}
            if name == "evidence":
                # the API reads evidence by hash: compare hashes, not filings
                sha_of = {str(r["id"]): r["sha256"] for r in rows[name]}
                got, may = {sha_of[i] for i in got}, {r["sha256"] for r in rows[name] if str(r["id"]) in may}
            leaked = got - may
            if leaked:
                problems.append(f"{who} pulled {len(leaked)} {name} rows the API refuses them")
            missing = may - got
            if missing and who not in NOT_MEMBERS and who not in REST_READS_MORE.get(name, (set(), ""))[0]:
                problems.append(f"{who} may read {len(missing)} {name} rows the pull did not send")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("who", ["resident", "viewer", "contractor_a"])
async def test_complaints_reach_no_tablet_outside_the_office(world: World, app: Any, who: str) -> None:
    site = world.id_of("site1")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as resident:
        r = await resident.post(
            f"/portal/notice/{site}/complaints",
            data={"topic": "quality", "text": "屋面漏水，楼道积水", "contact": "13800000000"},
            files=[("photos", ("leak.jpg", _jpeg(12), "image/jpeg"))],
        )
        assert r.status_code == 200, r.text
    pulled = await full_pull(world, who)
    assert not pulled.get("complaint") and not pulled.get("evidence")
    office = await full_pull(world, "supervisor")
    assert len(office["complaint"]) == 1 and len(office["evidence"]) == 1
