"""Acceptance of the renovation's remaining work types (issue 21): a lift owes two warranties (the
equipment and its shaft's structure), windows two (fittings and leak-proofing); a utility operator
(专业经营单位) holds its own work item, answers its orders and must sign its acceptance; a lift or a
gas line is not handed over before its blocking hold point passed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import msgspec
import pytest

from inspection.actor import SYSTEM
from inspection.checklists.catalogue import import_shipped
from inspection.clock import FixedClock
from inspection.errors import Conflict, ValidationFailed
from inspection.projects import schemas as ps
from inspection.projects.rules import OrgKind, Role, WorkType
from inspection.rectification import schemas as rs
from inspection.rectification.rules import OrderKind, Severity
from inspection.warranty import schemas as s
from tests.checklists.helpers import pass_point, work_item
from tests.factories import World, make_org, make_user, unique
from tests.rectification.helpers import actor_of
from tests.warranty.helpers import acceptance_body

ACCEPTED = date(2026, 6, 15)


@pytest.fixture
async def templates(clock: FixedClock) -> None:
    await import_shipped(clock)


async def utility(world: World) -> None:
    """The city gas company (专业经营单位) with a site manager in project 1 as its responsible party."""
    org = await make_org(world.services, OrgKind.utility, "市燃气集团有限公司")
    user = await make_user(world.services, unique("gasco"), org)
    world.orgs["gasco"], world.users["gasco"] = org, user
    await world.services.projects.add_member(
        SYSTEM, world.id_of("p1"), ps.MembershipCreate(user_id=user.id, role=Role.contractor)
    )


async def accept(world: World, **overrides: object) -> s.AcceptanceOut:
    data = msgspec.convert(acceptance_body(world, ACCEPTED, **overrides), s.AcceptanceCreate)
    return await world.services.warranty.record_acceptance(actor_of(world, "owner"), data)  # type: ignore[no-any-return]


@pytest.mark.usefixtures("templates")
async def test_utility_work_lift_and_windows_at_acceptance(world: World, clock: FixedClock) -> None:
    clock.set(datetime(2026, 6, 16, 2, 0, tzinfo=UTC))
    await utility(world)
    gas = await work_item(world, WorkType.gas, contractor="gasco")
    lift = await work_item(world, WorkType.elevator)
    windows = await work_item(world, WorkType.windows)

    # the gas company answers for its own work item: an order reaches it
    order = await world.services.rectification.create_order(
        actor_of(world, "inspector"),
        rs.OrderCreate(
            project_id=world.id_of("p1"),
            work_item_id=gas,
            kind=OrderKind.quality,
            severity=Severity.general,
            description="燃气立管穿楼板套管未填实",
            issue=True,
        ),
    )
    assert order.order.contractor_id == world.orgs["gasco"].id

    # the utility's work is covered: it must sign (missing from the usual list)
    with pytest.raises(ValidationFailed) as missing:
        await accept(world)
    assert missing.value.extra["missing"] == ["utility"]
    people = acceptance_body(world, ACCEPTED)["participants"] + [
        {"party": "utility", "name": "燃气公司工程部", "organisation_id": str(world.orgs["gasco"].id), "signed": True}
    ]

    # blocked: the lift's supervision inspection and the gas tightness test have not passed
    with pytest.raises(Conflict) as blocked:
        await accept(world, participants=people)
    kinds = [e["kind"] for e in blocked.value.extra["blockers"]]
    assert kinds.count("hold_point_open") == 2
    await world.services.rectification.cancel(
        actor_of(world, "inspector"), order.order.id, rs.CancelBody(reason="已整改,改为现场记录")
    )
    await pass_point(world, clock, gas, "tightness-test", "test-gas-tightness")
    await pass_point(world, clock, lift, "supervision-inspection", "passfail-lift-supervision-inspection")

    out = await accept(
        world,
        participants=people,
        terms=[
            {
                "work_item_id": lift,
                "design_life_years": 40,
                "settlement_amount": "800000.00",
                "retention_amount": "24000.00",
            }
        ],
    )
    items = sorted((str(i.work_item_id), i.period_rule, i.ends_on, i.retention_amount) for i in out.warranty_items)
    by_item: dict[str, list[tuple[str, date, object]]] = {}
    for wid, rule, ends, retention in items:
        by_item.setdefault(wid, []).append((rule, ends, retention))
    # the lift: equipment 2 years (with the retention), its shaft the design's 40 years
    assert sorted(by_item[lift]) == [
        ("equipment", date(2028, 6, 15), Decimal("24000.00")),
        ("lift_shaft", date(2066, 6, 15), Decimal("0.00")),
    ]
    # windows: fittings 2 years, leak-proofing with the wall 5 years
    assert sorted((r, e) for r, e, _ in by_item[windows]) == [
        ("decoration", date(2028, 6, 15)),
        ("window_leak_proofing", date(2031, 6, 15)),
    ]
    gas_items = [i for i in out.warranty_items if str(i.work_item_id) == gas]
    assert [(i.period_rule, i.contractor_id) for i in gas_items] == [("gas_pipework", world.orgs["gasco"].id)]
    # the retention falls due after the default defect liability period of 12 months
    lift_main = next(i for i in out.warranty_items if str(i.work_item_id) == lift and i.period_rule == "equipment")
    assert lift_main.retention_release_on == date(2027, 6, 15)
