"""Concrete and mortar lots through the service on both databases: sets per floor and shift, the
lot judged when its last set is in (GB/T 50107 §5, GB 50203 §4.0.12), and the in-place route of a
failed lot, which is in the structure and cannot leave the site."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from inspection.errors import InvalidTransition, ValidationFailed
from inspection.projects.rules import OrgKind
from inspection.rectification.tables import RectificationOrder
from inspection.samples import schemas as s
from inspection.samples.guards import batches_not_accepted
from inspection.samples.rules import BatchStatus, Decision, DispositionKind, InPlaceMethod, Verdict
from tests.factories import World, make_org
from tests.rectification.helpers import actor_of, announce
from tests.samples.helpers import lab, new_batch, row_counts, sample_on, svc


def cubes(*values: str) -> s.ResultsBody:
    """One representative value per set, in set order."""
    return s.ResultsBody(
        results=[
            s.ResultIn(test_item="compressive_28d", value=Decimal(v), set_no=n) for n, v in enumerate(values, start=1)
        ]
    )


async def concrete(world: World, **overrides: object) -> s.BatchDetail:
    body: dict[str, object] = {
        "material": "ready_mixed_concrete",
        "specification": "C30 P6 泵送",
        "quantity": Decimal("230"),
        "unit": "m3",
        "strength_grade": "C30",
        # GB 50204 §7.4.1: 3F over two shifts (80 + 50 m³), 4F in one (100 m³ in 130 mixer batches)
        "portions": [
            s.PortionIn(floor="3F", shift="11-02 白班", volume=Decimal("80")),
            s.PortionIn(floor="3F", shift="11-02 夜班", volume=Decimal("50")),
            s.PortionIn(floor="4F", shift="11-05 白班", volume=Decimal("100"), mixer_batches=130),
        ],
        "arrival_date": date(2026, 11, 2),
    }
    body.update(overrides)
    return await new_batch(world, **body)


async def test_sets_per_floor_and_shift_are_computed(world: World) -> None:
    detail = await concrete(world)
    # 3F day 80 m³ → 1; 3F night 50 m³ → 1 (each shift at least one); 4F 100 m³ but 130 batches → 2
    assert detail.batch.required_sets == 4
    assert [(p.floor, p.shift, p.sets) for p in detail.plan.portions] == [
        ("3F", "11-02 白班", 1),
        ("3F", "11-02 夜班", 1),
        ("4F", "11-05 白班", 2),
    ]
    assert detail.batch.strength_grade == "C30" and detail.plan.lot is None


async def test_a_lot_failing_on_its_mean_goes_to_in_place_testing(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    # GB/T 50107 §5.2, 5 sets of C30 (fewer than 10: non-statistical). Every set is above
    # λ4 × 30 = 28.5, yet the mean (31 + 32 + 33 + 34 + 35) / 5 = 33.0 < λ3 × 30 = 34.5: 不合格
    detail = await concrete(
        world,
        quantity=Decimal("450"),
        portions=[s.PortionIn(floor=f"{n}F", shift=f"11-0{n} 白班", volume=Decimal("90")) for n in range(1, 6)],
    )
    batch_id = detail.batch.id
    assert detail.batch.required_sets == 5
    first = (await sample_on(world, batch_id, sets=3)).sample
    after = await svc(world).record_results(actor_of(world, "contractor_a"), first.id, cubes("31", "32", "33"))
    # each set passes its single-set limit; the lot waits for its last two sets
    assert after.sample.verdict is Verdict.passed and after.batch.status is BatchStatus.sampling
    second = (await sample_on(world, batch_id, sets=2, witness=None)).sample
    done = await svc(world).record_results(actor_of(world, "supervisor"), second.id, cubes("34", "35"))
    b = done.batch
    assert done.sample.verdict is Verdict.passed
    assert b.status is BatchStatus.rejected and b.flagged
    assert "非统计方法" in b.status_reason and "平均值 33.00 < 1.15 fcu,k = 34.50" in b.status_reason
    plan = await svc(world).plan(actor_of(world, "supervisor"), batch_id)
    assert plan.lot is not None and plan.lot.method == "non_statistical" and not plan.lot.passed
    assert (plan.lot.mean, plan.lot.minimum, plan.lot.mean_required) == (33.0, 31.0, 34.5)
    order = await RectificationOrder.select().where(RectificationOrder.id == b.rectification_order_id).first()
    assert "实体检测" in order["description"] and "退场" not in order["description"]

    # it is in the structure: returning or destroying it is refused, naming the kind
    photo = await announce(world, clock, "钻芯.jpg", org="contractor_a", stored=True)
    witness = world.users["supervisor"].id
    before = await row_counts()
    for body, field in [
        (s.DispositionCreate(kind=DispositionKind.returned, witnessed_by_id=witness, evidence=[photo]), "kind"),
        (
            s.DispositionCreate(
                kind=DispositionKind.in_place_testing,
                witnessed_by_id=witness,
                evidence=[photo],
                method=InPlaceMethod.core,
            ),
            "decision",
        ),
        (
            # 钻芯法 estimates 28.6 MPa < 30: acceptance on the test alone is refused (GB 50300 §5.0.6)
            s.DispositionCreate(
                kind=DispositionKind.in_place_testing,
                witnessed_by_id=witness,
                evidence=[photo],
                method=InPlaceMethod.core,
                decision=Decision.accepted,
                estimated_strength=Decimal("28.6"),
                examiner_id=await lab(world),
                report_number="ZX-2026-031",
            ),
            "decision",
        ),
        (
            s.DispositionCreate(
                kind=DispositionKind.in_place_testing,
                witnessed_by_id=witness,
                evidence=[photo],
                method=InPlaceMethod.core,
                decision=Decision.accepted,
                estimated_strength=Decimal("31.4"),
                examiner_id=world.orgs["contractor_b"].id,  # not a lab
                report_number="ZX-2026-031",
            ),
            "examiner_id",
        ),
    ]:
        with pytest.raises(ValidationFailed) as info:
            await svc(world).dispose(actor_of(world, "contractor_a"), batch_id, body)
        assert info.value.field == field
    assert await row_counts() == before

    # 钻芯法 by the lab: 31.4 MPa ≥ 30 → accepted as built, and the lot counts as accepted for
    # quality lots from then on
    treated = await svc(world).dispose(
        actor_of(world, "contractor_a"),
        batch_id,
        s.DispositionCreate(
            kind=DispositionKind.in_place_testing,
            witnessed_by_id=witness,
            evidence=[photo],
            method=InPlaceMethod.core,
            decision=Decision.accepted,
            estimated_strength=Decimal("31.4"),
            examiner_id=await lab(world),
            report_number="ZX-2026-031",
        ),
    )
    assert treated.batch.status is BatchStatus.treated and not treated.batch.flagged
    assert treated.disposition is not None and treated.disposition.decision == "accepted"
    assert treated.disposition.estimated_strength == 31.4 and treated.disposition.report_number == "ZX-2026-031"
    assert treated.filing is not None and treated.filing.status == "disposed"
    assert await batches_not_accepted([batch_id]) == []


async def test_a_design_check_then_strengthening(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    detail = await concrete(world, quantity=Decimal("60"), portions=[], strength_grade="C35")
    sample = (await sample_on(world, detail.batch.id)).sample
    # one set of C35: below λ4 × 35 = 33.25 → the set and the lot fail
    failed = await svc(world).record_results(actor_of(world, "contractor_a"), sample.id, cubes("31.0"))
    assert failed.sample.verdict is Verdict.failed and failed.batch.status is BatchStatus.rejected
    with pytest.raises(InvalidTransition):  # cubes are never retested
        await svc(world).take_retest(
            actor_of(world, "contractor_a"), sample.id, s.RetestCreate(lab_id=await lab(world))
        )
    designer = await make_org(world.services, OrgKind.designer, "市建筑设计研究院有限公司")
    photo = await announce(world, clock, "加固方案.pdf", org="contractor_a", stored=True)
    done = await svc(world).dispose(
        actor_of(world, "contractor_a"),
        detail.batch.id,
        s.DispositionCreate(
            kind=DispositionKind.design_check,
            witnessed_by_id=world.users["supervisor"].id,
            evidence=[photo],
            decision=Decision.strengthened,
            examiner_id=designer.id,
        ),
    )
    assert done.batch.status is BatchStatus.treated and "加固" in done.batch.status_reason


async def test_a_mortar_lot_failing_on_its_mean(world: World) -> None:
    # GB 50203 §4.0.12, M7.5 (f2 = 7.5), 600 m³ of masonry → 3 sets (per 250 m³). Smallest set 7.9 ≥
    # 0.85 × 7.5 = 6.375, but the mean (7.9 + 8.0 + 8.1) / 3 = 8.0 < 1.10 × 7.5 = 8.25: 不合格
    detail = await new_batch(
        world, material="masonry_mortar", quantity=Decimal("600"), unit="m3", strength_grade="M7.5"
    )
    assert detail.batch.required_sets == 3
    sample = (await sample_on(world, detail.batch.id, sets=3)).sample
    done = await svc(world).record_results(actor_of(world, "contractor_a"), sample.id, cubes("7.9", "8.0", "8.1"))
    assert done.sample.verdict is Verdict.passed
    assert done.batch.status is BatchStatus.rejected
    assert "平均值 8.00 < 1.10 f2 = 8.25" in done.batch.status_reason


async def test_twelve_sets_are_judged_by_the_statistical_method(world: World) -> None:
    # GB/T 50107 §5.1.3: 12 sets of C30 (10–14: λ1 = 1.15, λ2 = 0.90); mean 34.542, S = 3.882:
    # 34.542 ≥ 30 + 1.15 × 3.882 = 34.464, min 27.5 ≥ 27.0 → 合格. The set of 27.5 passes its
    # single-set limit because the lot has 12 sets (0.90 × 30), not 0.95 × 30.
    detail = await concrete(world, quantity=Decimal("1150"), portions=[])
    assert detail.batch.required_sets == 12
    sample = (await sample_on(world, detail.batch.id, sets=12)).sample
    values = "30.5 33 36 38.5 31 34.5 37 39.5 32 35 40 27.5".split()
    done = await svc(world).record_results(actor_of(world, "contractor_a"), sample.id, cubes(*values))
    assert done.sample.verdict is Verdict.passed and done.batch.status is BatchStatus.accepted
    plan = await svc(world).plan(actor_of(world, "supervisor"), detail.batch.id)
    assert plan.lot is not None and plan.lot.method == "statistical" and plan.lot.sd == pytest.approx(3.8815, abs=1e-4)
