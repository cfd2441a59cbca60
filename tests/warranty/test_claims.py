"""Warranty claims: who may report, what they must give, refusal after expiry, the contractor's
deadline, and the warranty order an unanswered or disputed claim becomes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from inspection.actor import SYSTEM
from inspection.clock import FixedClock
from inspection.errors import Forbidden, NotFound, ValidationFailed
from inspection.notifications.outbox_tables import Notification
from inspection.notifications.recipients import contractor_managers
from inspection.records import write
from inspection.rectification.tables import RectificationOrder
from inspection.warranty import schemas as s
from inspection.warranty.service import escalate_due_claims
from inspection.warranty.tables import WarrantyClaim
from tests.factories import World
from tests.rectification.helpers import actor_of
from tests.warranty.helpers import accept_site, add_property_user, photo

JUNE = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


async def _roof_item(world: World, clock: FixedClock) -> s.WarrantyItemOut:
    clock.set(JUNE)
    out = await accept_site(world, date(2026, 6, 10))
    return next(i for i in out.warranty_items if i.work_type == "roof_waterproofing")


def _claim(item: s.WarrantyItemOut, party: str, pics: list[str], **kw: object) -> dict[str, object]:
    body: dict[str, object] = {
        "warranty_item_id": str(item.id),
        "reporter_party": party,
        "location": "1号楼 3单元 顶层 602 卧室",
        "description": "屋面渗水，顶棚有水渍",
        "photos": pics,
    }
    body.update(kw)
    return body


async def test_resident_reports_contractor_gets_a_deadline(world: World, clock: FixedClock) -> None:
    item = await _roof_item(world, clock)
    pic = await photo(world, clock, "leak.jpg")
    r = await world.post("resident", "/api/v1/warranty/claims", json=_claim(item, "resident", [pic]))
    assert r.status_code == 201, r.text
    claim = r.json()
    assert claim["status"] == "open" and claim["photos"] == [pic]
    assert claim["contractor_id"] == str(world.orgs["contractor_a"].id)
    # reported on 15 June: three days, so the end of 18 June in Shanghai (16:00 UTC)
    assert claim["response_due"].startswith("2026-06-18T16:00:00")
    # the contractor's site managers are told, once each
    notes = await Notification.select().where(Notification.subject_id == claim["id"])
    managers = await contractor_managers(world.id_of("p1"), world.orgs["contractor_a"].id)
    assert managers and sorted(n["recipient_user"] for n in notes) == sorted(managers)
    assert all(n["kind"] == "warranty_claim" for n in notes)
    # the link opens the claim's own page in the portal (where it is answered), not the project's
    assert all(f"/portal/warranty/claims/{claim['id']}" in n["message"] for n in notes)
    # contractor B neither sees nor answers it
    r = await world.get("contractor_b", f"/api/v1/warranty/claims/{claim['id']}")
    assert r.status_code == 404
    r = await world.post(
        "contractor_a", f"/api/v1/warranty/claims/{claim['id']}/answer", json={"accept": True, "text": "明日上门维修"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"
    r = await world.post(
        "contractor_a", f"/api/v1/warranty/claims/{claim['id']}/answer", json={"accept": False, "text": "x"}
    )
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [({"location": ""}, "location"), ({"location": "   "}, "location"), ({"photos": []}, "photos")],
)
async def test_claim_needs_location_and_photos(
    world: World, clock: FixedClock, change: dict[str, object], field: str
) -> None:
    item = await _roof_item(world, clock)
    pic = await photo(world, clock, "crack.jpg")
    r = await world.post("resident", "/api/v1/warranty/claims", json=_claim(item, "resident", [pic], **change))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert await WarrantyClaim.count().where(WarrantyClaim.project == world.id_of("p1")) == 0


async def test_claim_on_an_expired_item_names_the_expiry_date(world: World, clock: FixedClock) -> None:
    item = await _roof_item(world, clock)
    pic = await photo(world, clock, "late.jpg")
    data = msgspec.convert(_claim(item, "owner", [pic]), s.ClaimCreate)
    # the last covered day still counts
    clock.set(datetime(2031, 6, 10, 2, 0, tzinfo=UTC))
    ok = await world.services.warranty.report_claim(actor_of(world, "owner"), data)
    assert ok.status == "open"
    clock.set(datetime(2031, 6, 11, 2, 0, tzinfo=UTC))
    with pytest.raises(ValidationFailed, match="已于 2031-06-10 届满") as refused:
        await world.services.warranty.report_claim(actor_of(world, "owner"), data)
    assert refused.value.extra["expired_on"] == "2031-06-10"


async def test_who_may_report(world: World, clock: FixedClock) -> None:
    item = await _roof_item(world, clock)
    pic = await photo(world, clock, "who.jpg")
    for who, party in [("inspector", "resident"), ("contractor_a", "owner"), ("resident", "property")]:
        with pytest.raises(Forbidden):
            await world.services.warranty.report_claim(
                actor_of(world, who), msgspec.convert(_claim(item, party, [pic]), s.ClaimCreate)
            )
    with pytest.raises(ValidationFailed):
        await world.services.warranty.report_claim(
            actor_of(world, "outsider"), msgspec.convert(_claim(item, "owner", [pic]), s.ClaimCreate)
        )
    who = await add_property_user(world)
    r = await world.post(who, "/api/v1/warranty/claims", json=_claim(item, "property", [pic]))
    assert r.status_code == 201, r.text


async def test_disputed_claim_becomes_a_warranty_order(world: World, clock: FixedClock) -> None:
    item = await _roof_item(world, clock)
    pic = await photo(world, clock, "dispute.jpg")
    claim = await world.services.warranty.report_claim(
        actor_of(world, "resident"), msgspec.convert(_claim(item, "resident", [pic]), s.ClaimCreate)
    )
    out = await world.services.warranty.answer_claim(
        actor_of(world, "contractor_a"), claim.id, s.ClaimAnswer(accept=False, text="系住户自行改造所致")
    )
    assert out.status == "escalated" and out.order_id is not None
    order = await RectificationOrder.select().where(RectificationOrder.id == out.order_id).first()
    assert order is not None
    assert (order["kind"], order["source"], order["source_id"], order["status"]) == (
        "warranty",
        "warranty_claim",
        claim.id,
        "draft",
    )
    assert order["contractor"] == world.orgs["contractor_a"].id and order["work_item"] == world.id_of("work_a")
    # the owner, who issues the order, is alerted
    owners = await Notification.select().where(
        (Notification.rule == "warranty_claim_escalated")
        & (Notification.recipient_organisation == world.orgs["owner"].id)
    )
    assert len(owners) == 1
    assert (
        "系住户自行改造所致" in owners[0]["message"] and f"/portal/warranty/claims/{claim.id}" in owners[0]["message"]
    )
    # the owner can issue it: the order system takes it from there
    from inspection.rectification import schemas as rs

    issued = await world.services.rectification.issue(actor_of(world, "owner"), out.order_id, rs.IssueBody())
    assert issued.order.status == "issued"


async def test_unanswered_claim_becomes_an_order_once(world: World, clock: FixedClock) -> None:
    item = await _roof_item(world, clock)
    pic = await photo(world, clock, "silence.jpg")
    claim = await world.services.warranty.report_claim(
        actor_of(world, "resident"), msgspec.convert(_claim(item, "resident", [pic]), s.ClaimCreate)
    )
    async with write(SYSTEM, clock) as w:
        assert await escalate_due_claims(w, clock.now()) == 0
    clock.set(claim.response_due - timedelta(seconds=1))
    async with write(SYSTEM, clock) as w:
        assert await escalate_due_claims(w, clock.now()) == 0
    clock.set(claim.response_due)
    async with write(SYSTEM, clock) as w:
        assert await escalate_due_claims(w, clock.now()) == 1
    async with write(SYSTEM, clock) as w:
        assert await escalate_due_claims(w, clock.now() + timedelta(days=3)) == 0
    assert await RectificationOrder.count().where(RectificationOrder.source_id == claim.id) == 1
    row = await WarrantyClaim.select().where(WarrantyClaim.id == claim.id).first()
    assert row is not None and row["status"] == "escalated"
    with pytest.raises(NotFound):
        await world.services.warranty.get_claim(actor_of(world, "outsider"), claim.id)
