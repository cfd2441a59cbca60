"""Joint acceptance: parties, dates, blockers, and the warranty items a passed acceptance makes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from inspection.clock import FixedClock
from inspection.errors import Conflict, Forbidden
from inspection.projects.tables import Site, WorkItem
from inspection.rectification.rules import OrderKind, OrderState, Severity
from inspection.warranty import schemas as s
from inspection.warranty.tables import Acceptance, AcceptanceParticipant, WarrantyItem
from tests.factories import World
from tests.rectification.helpers import actor_of, create_body, order_in
from tests.warranty.helpers import accept_site, acceptance_body, participants


async def test_passed_acceptance_makes_one_warranty_item_per_work_item(world: World, clock: FixedClock) -> None:
    clock.set(datetime(2024, 3, 1, 2, 0, tzinfo=UTC))
    out = await accept_site(
        world,
        date(2024, 2, 29),
        city="harbin",
        terms=[
            {
                "work_item_id": str(world.id_of("work_a")),
                "settlement_amount": "1000000.00",
                "retention_amount": "30000.00",
                "defect_liability_months": 24,
            },
            {"work_item_id": str(world.id_of("work_b")), "contract_period": {"unit": "years", "amount": 3}},
        ],
    )
    assert out.result == "passed" and len(out.participants) == 8
    items = {i.work_item_id: i for i in out.warranty_items}
    roof, drains = items[world.id_of("work_a")], items[world.id_of("work_b")]
    # roof waterproofing, 5 years from a leap day: the last day of February 2029 (民法典 §202)
    assert (roof.period_unit, roof.period_amount, roof.starts_on, roof.ends_on) == (
        "years",
        5,
        date(2024, 2, 29),
        date(2029, 2, 28),
    )
    assert roof.contractor_id == world.orgs["contractor_a"].id
    assert str(roof.retention_amount) == "30000.00" and roof.retention_release_on == date(2026, 2, 28)
    # drainage: 2 years by law, 3 by contract
    assert (drains.by_contract, drains.ends_on) == (True, date(2027, 2, 28))
    assert drains.contractor_id == world.orgs["contractor_b"].id
    statuses = await WorkItem.select(WorkItem.status).where(WorkItem.site == world.id_of("site1"))
    assert {r["status"] for r in statuses} == {"accepted"}


async def test_refused_while_blockers_remain_and_lists_each(world: World, clock: FixedClock) -> None:
    svc = world.services.rectification
    open_id = await order_in(svc, world, clock, OrderState.issued)
    inspector = actor_of(world, "inspector")
    stop = await svc.create_order(
        inspector, create_body(world, kind=OrderKind.stop_work, severity=Severity.major, issue=True)
    )
    today = clock.now().date() - timedelta(days=1)
    r = await world.post("owner", "/api/v1/warranty/acceptances", json=acceptance_body(world, today))
    assert r.status_code == 409, r.text
    body = r.json()
    kinds = sorted((b["kind"], b["record_id"]) for b in body["blockers"])
    assert ("open_order", str(open_id)) in kinds and ("open_order", str(stop.order.id)) in kinds
    assert any(k == "work_stopped" for k, _ in kinds)
    assert len(body["blockers"]) == 3
    # each blocker a Chinese sentence naming the place and the contractor, with its portal link
    site = (await Site.select(Site.name).where(Site.id == world.id_of("site1")).first() or {})["name"]
    contractor = world.orgs["contractor_a"].name
    by_id = {b["record_id"]: b for b in body["blockers"]}
    sentence = by_id[str(open_id)]["message"]
    assert site in sentence and contractor in sentence and "未闭合" in sentence and "待施工单位回复" in sentence
    assert by_id[str(open_id)]["link"].endswith(f"/portal/orders/{open_id}")
    stopped = next(b for b in body["blockers"] if b["kind"] == "work_stopped")["message"]
    assert "停工，尚未复工" in stopped and "+00:00" not in stopped and "stop_work" not in stopped
    assert body["detail"].startswith("验收前尚有 3 项须处理：")
    english = await world.client.post(
        "/api/v1/warranty/acceptances",
        json=acceptance_body(world, today),
        headers={**world.headers("owner"), "Accept-Language": "en"},
    )
    assert "is not closed" in english.json()["blockers"][0]["message"]
    # nothing written
    p1 = world.id_of("p1")
    assert await Acceptance.count().where(Acceptance.project == p1) == 0
    assert await WarrantyItem.count().where(WarrantyItem.project == p1) == 0
    # a failed acceptance is still recorded as it was
    r = await world.post("owner", "/api/v1/warranty/acceptances", json=acceptance_body(world, today, result="failed"))
    assert r.status_code == 201, r.text
    assert r.json()["warranty_items"] == []


async def test_closed_orders_do_not_block(world: World, clock: FixedClock) -> None:
    await order_in(world.services.rectification, world, clock, OrderState.closed)
    await order_in(world.services.rectification, world, clock, OrderState.cancelled)
    out = await accept_site(world, clock.now().date() - timedelta(days=1))
    assert len(out.warranty_items) == 2


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"accepted_on": "2099-01-01"}, "accepted_on", "晚于今天"),
        ("drop-designer", "participants", "设计单位"),
        ("drop-resident", "participants", "业主监督员（到场 1 人，须 2 人）"),
        ("short-period", "terms[0].contract_period", "短于法定最低保修期 5 年"),
        ("big-retention", "terms[0].retention_amount", "超过结算金额的 3%"),
        ("foreign-item", "terms[0].work_item_id", "不在本次验收范围内"),
    ],
)
async def test_bad_input_is_a_clear_4xx(
    world: World, clock: FixedClock, change: object, field: str, words: str
) -> None:
    day = clock.now().date() - timedelta(days=2)
    body = acceptance_body(world, day)
    roof = str(world.id_of("work_a"))
    if change == "drop-designer":
        body["participants"] = participants(world, designer=1)
    elif change == "drop-resident":
        body["participants"] = participants(world, resident_supervisor=1)
    elif change == "short-period":
        body["terms"] = [{"work_item_id": roof, "contract_period": {"unit": "years", "amount": 3}}]
    elif change == "big-retention":
        body["terms"] = [{"work_item_id": roof, "settlement_amount": "100000", "retention_amount": "5000"}]
    elif change == "foreign-item":
        body["terms"] = [{"work_item_id": str(world.id_of("p2"))}]
    else:
        assert isinstance(change, dict)
        body.update(change)
    r = await world.post("owner", "/api/v1/warranty/acceptances", json=body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["field"] == field
    assert words in problem["detail"]
    p1 = world.id_of("p1")
    assert await Acceptance.count().where(Acceptance.project == p1) == 0
    assert await AcceptanceParticipant.count().where(AcceptanceParticipant.project == p1) == 0


async def test_missing_parties_are_each_named(world: World, clock: FixedClock) -> None:
    body = acceptance_body(world, clock.now().date(), participants=participants(world, designer=1, property=1))
    r = await world.post("owner", "/api/v1/warranty/acceptances", json=body)
    assert r.status_code == 422
    assert r.json()["missing"] == ["designer", "property"]


async def test_only_the_owner_records_and_a_site_is_accepted_once(world: World, clock: FixedClock) -> None:
    day = clock.now().date()
    r = await world.post("supervisor", "/api/v1/warranty/acceptances", json=acceptance_body(world, day))
    assert r.status_code == 403
    r = await world.post("outsider", "/api/v1/warranty/acceptances", json=acceptance_body(world, day))
    assert r.status_code == 404
    await accept_site(world, day)
    with pytest.raises(Conflict, match="均已验收"):
        await accept_site(world, day)
    with pytest.raises(Forbidden):
        await world.services.warranty.record_acceptance(
            actor_of(world, "contractor_a"), msgspec.convert(acceptance_body(world, day), s.AcceptanceCreate)
        )


async def test_register_days_left_and_contractor_view(world: World, clock: FixedClock) -> None:
    clock.set(datetime(2026, 6, 15, 2, 0, tzinfo=UTC))
    await accept_site(world, date(2026, 6, 10))
    r = await world.get("owner", "/api/v1/warranty/items", params={"project_id": str(world.id_of("p1"))})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    # soonest to expire first: drainage (2 years) then roof (5 years)
    assert [i["work_type"] for i in items] == ["drainage", "roof_waterproofing"]
    assert items[0]["ends_on"] == "2028-06-10" and items[0]["days_left"] == (date(2028, 6, 10) - date(2026, 6, 15)).days
    r = await world.get("contractor_a", "/api/v1/warranty/items", params={"project_id": str(world.id_of("p1"))})
    assert [i["work_type"] for i in r.json()["items"]] == ["roof_waterproofing"]
    r = await world.get(
        "owner",
        "/api/v1/warranty/items",
        params={"project_id": str(world.id_of("p1")), "expiring_within_days": 800},
    )
    assert [i["work_type"] for i in r.json()["items"]] == ["drainage"]


async def test_structure_takes_the_design_life(world: World, clock: FixedClock) -> None:
    from inspection.actor import SYSTEM
    from inspection.projects import schemas as ps
    from inspection.projects.rules import WorkCategory, WorkType

    beam = await world.services.projects.create_work_item(
        SYSTEM,
        world.id_of("p1"),
        ps.WorkItemCreate(
            site_id=world.id_of("site1"),
            category=WorkCategory.basic,
            work_type=WorkType.structure,
            name="结构加固",
            contractor_id=world.orgs["contractor_a"].id,
        ),
    )
    day = date(2026, 1, 10)
    clock.set(datetime(2026, 6, 15, 2, 0, tzinfo=UTC))
    out = await accept_site(world, day, terms=[{"work_item_id": str(beam.id), "design_life_years": 40}])
    item = next(i for i in out.warranty_items if i.work_item_id == beam.id)
    assert (item.period_unit, item.period_amount, item.ends_on) == ("years", 40, date(2066, 1, 10))


async def test_heating_seasons_use_the_city_window(world: World, clock: FixedClock) -> None:
    from inspection.actor import SYSTEM
    from inspection.projects import schemas as ps
    from inspection.projects.rules import WorkCategory, WorkType

    pipes = await world.services.projects.create_work_item(
        SYSTEM,
        world.id_of("p1"),
        ps.WorkItemCreate(
            site_id=world.id_of("site1"),
            category=WorkCategory.basic,
            work_type=WorkType.heating,
            name="供热管网改造",
            contractor_id=world.orgs["contractor_b"].id,
        ),
    )
    clock.set(datetime(2026, 12, 15, 2, 0, tzinfo=UTC))
    out = await accept_site(world, date(2026, 12, 1), city="harbin")
    item = next(i for i in out.warranty_items if i.work_item_id == pipes.id)
    # mid-winter: the running season is not whole; 2027/28 and 2028/29 count
    assert (item.period_unit, item.period_amount, item.ends_on) == ("seasons", 2, date(2029, 4, 20))
