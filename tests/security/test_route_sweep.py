"""Every route in the OpenAPI document, called by someone who must not see project P1's records:
a member of another project only, and a contractor of another company on the same project. The
routes come from the app itself, so a new route cannot escape the sweep: one with a path parameter
the sweep has no record for fails until a record is named for it here."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from inspection.rectification import schemas as rs
from inspection.rectification.service import RectificationService
from tests.alerts.helpers import app_allowing_loopback
from tests.evidence.conftest import jpeg, sha
from tests.factories import World
from tests.rectification.helpers import actor_of, create_body

# Routes anyone signed in may read, and why.
SHARED = {
    "/api/v1/organisations/{org_id}": "organisations are reference data every tablet holds",
    "/api/v1/checklists/plans/{code}": "supervision plans are reference data",
    "/api/v1/checklists/templates/{template_id}": "checklist templates are reference data every tablet holds",
    "/api/v1/survey/sites/{site_id}": "a site's survey counts and shares, as its public notice page shows them",
}
# Routes about the caller's own account: the id in the path is matched against the caller. Signing
# out is one: swept, it would sign the sweepers out and leave every later route answering 401.
OWN = {
    "/api/v1/auth/devices/{device_id}",
    "/api/v1/auth/logout",
    # the caller's own notification settings: there is no one else's to name
    "/api/v1/notifications/preferences",
}
# Path parameters naming records of contractor A's own, which contractor B of the same project must not reach.
CONTRACTOR_A_RECORDS = {
    "order_id",
    "notice_id",
    "sha256",
    "notification_id",
    "claim_id",
    "item_id",
    "inspection_id",
    "batch_id",
    "sample_id",
    "subscription_id",
}


@pytest.fixture
def app(clock):  # type: ignore[no-untyped-def]
    """The shared `app` fixture, letting the sweep subscribe a webhook on loopback."""
    return app_allowing_loopback(clock)


async def _upload(world: World, who: str, data: bytes) -> str:
    digest = sha(data)
    r = await world.client.put(
        f"/api/v1/evidence/{digest}?project_id={world.id_of('p1')}",
        content=data,
        headers={**world.headers(who), "content-type": "application/octet-stream"},
    )
    assert r.status_code in (200, 201), r.text
    return digest


async def _victims(world: World, app: Any, clock: Any) -> dict[str, Any]:
    """Records of project P1 that belong to contractor A, and the ids to put in each path."""
    svc = RectificationService(world.services.settings, clock)
    inspector, contractor = actor_of(world, "inspector"), actor_of(world, "contractor_a")
    # accepted before any order is open (open orders block acceptance), then claimed against
    from tests.warranty.helpers import accept_site

    accepted = await accept_site(world, (clock.now() - timedelta(days=3)).date())
    roof = next(i for i in accepted.warranty_items if i.contractor_id == world.orgs["contractor_a"].id)
    leak = await _upload(world, "resident", jpeg(seed=3))
    claim = await world.post(
        "resident",
        "/api/v1/warranty/claims",
        {
            "warranty_item_id": str(roof.id),
            "reporter_party": "resident",
            "location": "1号楼 顶层",
            "description": "屋面渗水",
            "photos": [leak],
        },
    )
    assert claim.status_code == 201, claim.text
    from inspection.checklists.catalogue import import_shipped
    from tests.checklists.helpers import draft
    from tests.samples.helpers import new_batch, sample_on

    await import_shipped(clock)
    inspection = (await draft(world, template_code="gb50300-roof-waterproofing"))["inspection"]
    batch = await new_batch(world)
    sample = await sample_on(world, batch.batch.id)
    hook = await world.post("contractor_a", "/api/v1/webhooks/", {"url": "http://127.0.0.1:9/hook"})
    assert hook.status_code == 201, hook.text
    before = await _upload(world, "inspector", jpeg(seed=1))
    after = await _upload(world, "contractor_a", jpeg(seed=2))
    order = (await svc.create_order(inspector, create_body(world, issue=True, photos=[before]))).order
    detail = await svc.respond(contractor, order.id, rs.RespondBody(text="已整改", photos=[after]))
    late = (await svc.create_order(inspector, create_body(world, issue=True))).order
    await svc.escalate(clock.now() + timedelta(days=60))
    owner_feed = await world.get("owner", "/api/v1/notifications")
    notes = owner_feed.json()["items"]
    assert notes, "escalation made no notification to sweep"
    members = (await world.get("owner", f"/api/v1/projects/{world.id_of('p1')}/members")).json()["items"]
    membership = next(m for m in members if m["user_id"] == str(world.users["contractor_a"].id))
    from inspection.complaints.schemas import ComplaintIn

    await world.services.complaints.submit(world.id_of("site1"), ComplaintIn(text="屋面施工垃圾堆在楼道口"))
    complaint = (await world.get("owner", f"/api/v1/complaints/?project_id={world.id_of('p1')}")).json()["items"][0]
    from tests.rectification.helpers import issued_notice

    notice = (await issued_notice(world, clock))["notice"]
    programme = await programme_of_p1(world)
    params = {
        "notice_id": notice["id"],
        "programme_id": programme["programme"],
        "office_id": programme["office"],
        "project_id": world.id_of("p1"),
        "site_id": world.id_of("site1"),
        "building_id": world.id_of("building1"),
        "work_item_id": world.id_of("work_a"),
        "order_id": order.id,
        "sha256": after,
        "membership_id": membership["id"],
        "user_id": world.users["contractor_a"].id,
        "org_id": world.orgs["contractor_a"].id,
        "device_id": "test-device",
        "notification_id": notes[0]["id"],
        "complaint_id": complaint["id"],
        "acceptance_id": accepted.id,
        "claim_id": claim.json()["id"],
        "item_id": roof.id,
        "inspection_id": inspection["id"],
        "batch_id": batch.batch.id,
        "sample_id": sample.sample.id,
        "subscription_id": hook.json()["id"],
        "point_code": "hidden_works",
    }
    # what neither sweeper may ever see in any answer
    secret = {
        str(order.id),
        str(late.id),
        str(detail.responses[0].id),
        after,
        before,
        str(notes[0]["id"]),
        complaint["id"],
        claim.json()["id"],
        inspection["id"],
        str(batch.batch.id),
        str(sample.sample.id),
        hook.json()["id"],
    }
    return {"params": params, "secret": secret}


async def programme_of_p1(world: World) -> dict[str, Any]:
    """A programme holding P1, with an office whose person is none of the sweepers."""
    from inspection.actor import SYSTEM
    from inspection.programme import schemas as pgs
    from inspection.programme.rules import AreaLevel, OfficeRole

    svc = world.services.programme
    district = await svc.create_area(SYSTEM, pgs.AreaCreate(name="长青区", level=AreaLevel.county))
    programme = await svc.create_programme(
        SYSTEM, pgs.ProgrammeCreate(name="长青区2026年度老旧小区改造计划", area_id=district.id, year=2026)
    )
    await svc.place_project(SYSTEM, world.id_of("p1"), pgs.PlacementIn(programme_id=programme.id, area_id=district.id))
    office = await svc.appoint(
        SYSTEM,
        pgs.OfficeCreate(user_id=world.users["viewer"].id, area_id=district.id, role=OfficeRole.programme_office),
    )
    return {"programme": programme.id, "office": office.id}


def _routes(app: Any) -> list[tuple[str, str]]:
    spec = app.openapi_schema.to_schema()
    out = []
    for path, item in spec["paths"].items():
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                out.append((method.upper(), path))
    return out


# Ids of records that do not exist, one of each shape, for the answer a sweeper's call is compared with
MISSING = {"sha256": "0" * 64, "point_code": "hidden_works"}
MISSING_ID = "01a2077f-0000-7000-8000-00000000dead"
VALIDATION = "urn:siteinspect:problem:validation"


def _problem_type(r: Any) -> str | None:
    if r.headers.get("content-type", "").startswith("application/problem+json"):
        return str(r.json()["type"])
    return None


async def test_no_route_shows_or_changes_another_partys_records(world: World, app, clock) -> None:  # type: ignore[no-untyped-def]
    """A route naming P1's records answers the sweepers exactly as it answers for records that do
    not exist (same status, same problem type: nothing to tell them apart), and never 2xx. A route
    naming none answers them 404 for P1 unless it lists the caller's own (then no P1 id appears in
    it); nothing answers 5xx."""
    victims = await _victims(world, app, clock)
    params, secret = victims["params"], victims["secret"]
    checked = 0
    for method, path in _routes(app):
        if path in SHARED or path in OWN or not path.startswith("/api/"):
            continue
        names = re.findall(r"{(\w+)}", path)
        unknown = [n for n in names if n not in params]
        assert not unknown, f"{method} {path}: name a P1 record for {unknown} in this sweep"
        url, missing_url = path, path
        for n in names:
            url = url.replace("{" + n + "}", str(params[n]))
            missing_url = missing_url.replace("{" + n + "}", MISSING.get(n, MISSING_ID))
        for who in ("outsider", "contractor_b"):
            if who == "contractor_b" and not (set(names) & CONTRACTOR_A_RECORDS) and names:
                continue  # P1 context (sites, buildings) is contractor B's to read; its own rules are tested elsewhere
            query = {"project_id": str(params["project_id"])} if method == "GET" else None
            body = {} if method != "GET" else None

            async def call(target: str, who: str = who, query: Any = query, body: Any = body) -> Any:
                return await world.client.request(method, target, headers=world.headers(who), params=query, json=body)

            r = await call(url)
            checked += 1
            where = (who, method, path, r.status_code, r.text[:300])
            assert r.status_code < 500, where
            assert r.status_code != 401, (*where, "the sweeper was signed out")
            if names:
                missing = await call(missing_url)
                assert 400 <= r.status_code < 500, where
                assert (r.status_code, _problem_type(r)) == (missing.status_code, _problem_type(missing)), (
                    *where,
                    "answers differently from a record that does not exist:",
                    missing.status_code,
                    missing.text[:300],
                )
            elif method == "GET" and r.status_code != 200:
                # a list or summary of P1 for someone who may not list it: as if P1 did not exist,
                # or refused for what the request lacks before any record is looked at
                assert r.status_code in (403, 404) or _problem_type(r) == VALIDATION, where
            elif method != "GET":
                assert 400 <= r.status_code < 500, where
            # a problem's `instance` and `detail` echo the ids the caller itself sent
            sent = {str(params[n]) for n in names}
            answer = r.text.replace(url, "")
            leaked = [s for s in secret - sent if s in answer]
            assert not leaked, (who, method, path, leaked)
    assert checked > 30
