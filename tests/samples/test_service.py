"""Sampling workflows through the service on the real database (SQLite and PostgreSQL): batches and
plans, witnesses and labs, results and verdicts, the double retest end to end, rejection (order,
filing, notification), disposition, the witness share, the ledger, and contractor visibility."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from inspection.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from inspection.notifications.outbox_tables import Notification
from inspection.rectification.rules import OrderState, Source
from inspection.rectification.tables import RectificationOrder
from inspection.samples import schemas as s
from inspection.samples.rules import BatchStatus, DispositionKind, Verdict
from inspection.samples.tables import MaterialFiling
from tests.factories import World
from tests.rectification.helpers import actor_of, announce, store
from tests.samples.helpers import REBAR_PASS, batch_body, lab, new_batch, results, row_counts, sample_on, svc


async def test_batch_plan_and_certificates(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    cert = await announce(world, clock, "合格证.pdf", org="contractor_a")
    detail = await new_batch(world, quantity=Decimal("100.01"), certificates=[cert])
    b = detail.batch
    assert b.status is BatchStatus.awaiting_sampling and not b.flagged
    assert b.contractor_id == world.orgs["contractor_a"].id  # from the work item
    # GB 1499.2 §9: 60 t → 2 tensile + 2 bend; 100.01 t adds two more pairs → 4 sets
    assert b.required_sets == 4 and b.quantity == 100.01 and b.material_name == "热轧带肋钢筋"
    assert [(c.sha256, c.pending) for c in b.certificates] == [(cert, True)]
    plan = detail.plan
    assert (plan.required, plan.taken, plan.missing, plan.witnessed) == (4, 0, 4, 0)
    assert plan.witness_required and not plan.plan_unverified
    assert [(x.code, x.count) for x in plan.specimens] == [("tensile", 4), ("bend", 4), ("weight", 5)]

    await sample_on(world, b.id, sets=2)
    plan = await svc(world).plan(actor_of(world, "supervisor"), b.id)
    assert (plan.required, plan.taken, plan.missing, plan.witnessed) == (4, 2, 2, 2)
    assert plan.status is BatchStatus.sampling


async def test_continuous_concrete_pour(world: World) -> None:
    pour = {"material": "ready_mixed_concrete", "quantity": Decimal("1850"), "unit": "m3", "specification": "C30"}
    detail = await new_batch(world, who="supervisor", continuous_pour=True, **pour)
    assert detail.batch.required_sets == 10
    detail = await new_batch(world, material="ready_mixed_concrete", quantity=Decimal("1850"), unit="m3")
    assert detail.batch.required_sets == 19


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"quantity": Decimal("0")}, "quantity", ValidationFailed),
        ({"quantity": Decimal("-5")}, "quantity", ValidationFailed),
        ({"quantity": Decimal("12.0001")}, "quantity", ValidationFailed),
        ({"unit": "kg"}, "unit", ValidationFailed),
        ({"material": "cement", "unit": "t"}, "material", ValidationFailed),
        ({"material": "ready_mixed_concrete", "unit": "t"}, "unit", ValidationFailed),
        ({"continuous_pour": True}, "continuous_pour", ValidationFailed),
        ({"arrival_date": date(2099, 1, 1)}, "arrival_date", ValidationFailed),
        ({"certificates": ["ab" * 32]}, "certificates", ValidationFailed),
        ({"work_item_id": None}, "contractor_id", ValidationFailed),  # supervisor names nobody
    ],
)
async def test_bad_batches_store_nothing(
    world: World, overrides: dict[str, Any], field: str, error: type[DomainError]
) -> None:
    before = await row_counts()
    with pytest.raises(error) as info:
        await svc(world).create_batch(actor_of(world, "supervisor"), batch_body(world, **overrides))
    assert info.value.field == field
    assert await row_counts() == before


async def test_who_may_log_batches(world: World) -> None:
    # contractor B may not log for contractor A's work item, nor name A
    with pytest.raises(Forbidden):
        await new_batch(world, who="contractor_b")
    # a contractor without a work item logs for its own organisation
    own = await new_batch(world, who="contractor_b", work_item_id=None)
    assert own.batch.contractor_id == world.orgs["contractor_b"].id
    for who in ("resident", "viewer", "authority"):
        with pytest.raises(Forbidden):
            await new_batch(world, who=who)
    with pytest.raises(NotFound):
        await new_batch(world, who="outsider")


@pytest.mark.parametrize(
    ("witness", "ok"),
    [
        ("supervisor", True),
        ("owner", True),
        ("inspector", True),  # an inspector of the supervision company
        ("contractor_a", False),  # the contractor itself
        ("contractor_b", False),  # a contractor is never a witness
        ("resident", False),
        ("authority", False),
        ("outsider", False),  # not a member
    ],
)
async def test_who_may_witness(world: World, witness: str, ok: bool) -> None:
    batch = (await new_batch(world)).batch
    before = await row_counts()
    if ok:
        sample = (await sample_on(world, batch.id, witness=witness)).sample
        assert sample.witnessed and sample.witness_id == world.users[witness].id
        return
    with pytest.raises(ValidationFailed) as info:
        await sample_on(world, batch.id, witness=witness)
    assert info.value.field == "witness_id"
    assert await row_counts() == before


async def test_the_lab_must_be_a_lab(world: World) -> None:
    batch = (await new_batch(world)).batch
    with pytest.raises(ValidationFailed) as info:
        await svc(world).take_sample(
            actor_of(world, "contractor_a"), batch.id, s.SampleCreate(lab_id=world.orgs["supervisor"].id)
        )
    assert info.value.field == "lab_id"


async def test_label_codes_are_unique_per_project(world: World) -> None:
    batch = (await new_batch(world)).batch
    first = (await sample_on(world, batch.id, label_code="GJ-001")).sample
    assert first.label_code == "GJ-001"
    with pytest.raises(Conflict) as info:
        await sample_on(world, batch.id, label_code="GJ-001")
    assert info.value.field == "label_code"
    made = (await sample_on(world, batch.id)).sample
    assert made.label_code.startswith("QY-")


async def test_results_give_the_verdict(world: World) -> None:
    batch = (await new_batch(world)).batch
    sample = (await sample_on(world, batch.id, sets=2)).sample
    partial = await svc(world).record_results(
        actor_of(world, "contractor_a"), sample.id, results({"yield_strength": "420", "tensile_strength": "560"})
    )
    assert partial.sample.verdict is Verdict.pending and partial.batch.status is BatchStatus.sampling
    assert [r.passed for r in partial.sample.results] == [True, True]
    # the second set's tensile specimen, both bend specimens and the one weight deviation
    rest = {k: v for k, v in REBAR_PASS.items() if k not in ("yield_strength", "tensile_strength")}
    second = s.ResultsBody(
        results=[
            *results(rest, sets=2).results,
            s.ResultIn(test_item="yield_strength", value=Decimal(425), set_no=2),
            s.ResultIn(test_item="tensile_strength", value=Decimal(570), set_no=2),
        ]
    )
    assert len(second.results) == 2 * 4 + 1
    done = await svc(world).record_results(actor_of(world, "contractor_a"), sample.id, second)
    assert done.sample.verdict is Verdict.passed and done.sample.judged_at is not None
    assert done.batch.status is BatchStatus.accepted and done.batch.decided_at is not None
    # an accepted batch takes no more samples
    with pytest.raises(InvalidTransition):
        await sample_on(world, batch.id)


@pytest.mark.parametrize(
    ("result", "field", "error"),
    [
        (s.ResultIn(test_item="slump", value=Decimal(1)), "results[1].test_item", ValidationFailed),
        (s.ResultIn(test_item="bend", value=Decimal("0.5")), "results[1].value", ValidationFailed),
        (s.ResultIn(test_item="elongation", value=Decimal(20), unit="MPa"), "results[1].unit", ValidationFailed),
        (s.ResultIn(test_item="elongation", value=Decimal(20), set_no=2), "results[1].set_no", ValidationFailed),
        (s.ResultIn(test_item="yield_strength", value=Decimal(410)), "results[1].test_item", Conflict),
    ],
)
async def test_bad_results_store_nothing(
    world: World, result: s.ResultIn, field: str, error: type[DomainError]
) -> None:
    batch = (await new_batch(world)).batch
    sample = (await sample_on(world, batch.id)).sample
    before = await row_counts()
    body = s.ResultsBody(results=[s.ResultIn(test_item="yield_strength", value=Decimal(420)), result])
    with pytest.raises(error) as info:
        await svc(world).record_results(actor_of(world, "contractor_a"), sample.id, body)
    assert info.value.field == field
    assert await row_counts() == before


async def test_weight_deviation_is_one_result_per_sample(world: World) -> None:
    # GB 1499.2 §8.4: the pieces are weighed together; a second weight deviation on set 2 is refused
    batch = (await new_batch(world)).batch
    sample = (await sample_on(world, batch.id, sets=2)).sample
    before = await row_counts()
    body = s.ResultsBody(results=[s.ResultIn(test_item="weight_deviation", value=Decimal("-1.2"), set_no=2)])
    with pytest.raises(ValidationFailed) as info:
        await svc(world).record_results(actor_of(world, "contractor_a"), sample.id, body)
    assert info.value.field == "results[0].set_no" and await row_counts() == before


async def test_a_result_recorded_twice_is_a_conflict(world: World) -> None:
    batch = (await new_batch(world)).batch
    sample = (await sample_on(world, batch.id)).sample
    one = s.ResultsBody(results=[s.ResultIn(test_item="bend", value=Decimal(1))])
    await svc(world).record_results(actor_of(world, "contractor_a"), sample.id, one)
    before = await row_counts()
    with pytest.raises(Conflict):
        await svc(world).record_results(actor_of(world, "supervisor"), sample.id, one)
    assert await row_counts() == before


async def fail_original(world: World, who: str = "contractor_a", **override: str) -> tuple[s.BatchOut, s.SampleOut]:
    """A 58.6 t rebar batch (two sets) sampled one set at a time: the first set fails, the second
    passes; returns the batch and the failed sample."""
    batch = (await new_batch(world)).batch
    sample = (await sample_on(world, batch.id)).sample
    failed = await svc(world).record_results(actor_of(world, who), sample.id, results(REBAR_PASS, **override))
    assert failed.sample.verdict is Verdict.failed
    if failed.batch.status is BatchStatus.rejected:  # a failure that may not be retested decides at once
        return failed.batch, failed.sample
    second = (await sample_on(world, batch.id, witness=None)).sample
    passed = await svc(world).record_results(actor_of(world, who), second.id, results(REBAR_PASS))
    assert passed.sample.verdict is Verdict.passed
    return passed.batch, failed.sample


async def test_fail_then_retest_pass_accepts(world: World) -> None:
    batch, sample = await fail_original(world, tensile_strength="530")
    assert sample.failed_items == ["tensile_strength"]
    assert batch.status is BatchStatus.sampling and "retest" in batch.status_reason
    plan = await svc(world).plan(actor_of(world, "supervisor"), batch.id)
    (need,) = plan.retests
    assert need.allowed and need.items == ["tensile_strength"] and need.sets_required == 2 and need.sets_taken == 0

    retest = await svc(world).take_retest(
        actor_of(world, "contractor_a"),
        sample.id,
        s.RetestCreate(lab_id=await lab(world), witness_id=world.users["supervisor"].id),
    )
    assert retest.sample.is_retest and retest.sample.retest_of == sample.id
    assert retest.sample.sets == 2 and retest.sample.test_items == ["tensile_strength"]
    assert retest.sample.label_code.startswith("FY-")
    # the retest covers only the failed item
    with pytest.raises(ValidationFailed):
        await svc(world).record_results(
            actor_of(world, "contractor_a"), retest.sample.id, results({"yield_strength": "420"})
        )
    one_set = await svc(world).record_results(
        actor_of(world, "contractor_a"), retest.sample.id, results({"tensile_strength": "575"})
    )
    assert one_set.sample.verdict is Verdict.pending  # the second set is still out
    report = "ab" * 32
    before = await row_counts()
    with pytest.raises(ValidationFailed):  # a report that was never announced: the result goes too
        await svc(world).record_results(
            actor_of(world, "contractor_a"),
            retest.sample.id,
            s.ResultsBody(
                results=[s.ResultIn(test_item="tensile_strength", value=Decimal(580), set_no=2)], report=report
            ),
        )
    assert await row_counts() == before
    done = await svc(world).record_results(
        actor_of(world, "contractor_a"),
        retest.sample.id,
        s.ResultsBody(
            results=[s.ResultIn(test_item="tensile_strength", value=Decimal(580), set_no=2)],
            lab_report_number="JC-2026-1187",
        ),
    )
    assert done.sample.verdict is Verdict.passed and done.sample.lab_report_number == "JC-2026-1187"
    assert done.batch.status is BatchStatus.accepted
    p1 = world.id_of("p1")
    assert await RectificationOrder.count().where(RectificationOrder.project == p1) == 0
    assert await MaterialFiling.count().where(MaterialFiling.project == p1) == 0


async def test_fail_then_retest_fail_rejects_opens_order_and_is_disposed(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    _, sample = await fail_original(world, bend="0")
    retest = await svc(world).take_retest(
        actor_of(world, "contractor_a"), sample.id, s.RetestCreate(lab_id=await lab(world))
    )
    # the supervisor records the lab's retest: still one bend specimen cracks
    bends = [s.ResultIn(test_item="bend", value=Decimal(1)), s.ResultIn(test_item="bend", value=Decimal(0), set_no=2)]
    rejected = await svc(world).record_results(
        actor_of(world, "supervisor"), retest.sample.id, s.ResultsBody(results=bends)
    )
    assert rejected.sample.verdict is Verdict.failed
    b = rejected.batch
    assert b.status is BatchStatus.rejected and b.flagged and b.rectification_order_id is not None

    # the order: issued at once (a supervisor may issue), against the batch's contractor
    order = await RectificationOrder.select().where(RectificationOrder.id == b.rectification_order_id).first()
    assert order["status"] == OrderState.issued.value and order["contractor"] == world.orgs["contractor_a"].id
    assert order["source"] == Source.failed_sample.value
    assert (order["source_table"], order["source_id"]) == ("sample", retest.sample.id)
    assert order["work_item"] == world.id_of("work_a") and "弯曲性能" in order["description"]
    # the filing for the quality station, and its notification
    detail = await svc(world).get_batch(actor_of(world, "authority"), b.id)
    assert detail.filing is not None and detail.filing.status == "open"
    assert detail.filing.authority_id == world.orgs["authority"].id and detail.filing.failed_items == ["bend"]
    assert (
        await Notification.count().where(
            (Notification.recipient_organisation == world.orgs["authority"].id)
            & (Notification.kind == "material_rejected")
        )
        == 1
    )
    # the contractor who must take it away hears of it (the supervisor recorded it, and is not told
    # of their own act)
    failed = await Notification.select(Notification.recipient_user, Notification.message).where(
        Notification.kind == "sample_failed"
    )
    assert [n["recipient_user"] for n in failed] == [world.users["contractor_a"].id]
    assert "不合格" in failed[0]["message"] and f"/portal/orders/{order['id']}" in failed[0]["message"]
    assert (await svc(world).summary(actor_of(world, "supervisor"), world.id_of("p1"))).flagged == 1
    # a rejected batch takes no more samples or retests
    with pytest.raises(InvalidTransition):
        await sample_on(world, b.id)
    with pytest.raises(InvalidTransition):
        await svc(world).take_retest(
            actor_of(world, "contractor_a"), retest.sample.id, s.RetestCreate(lab_id=await lab(world))
        )

    # disposition: evidence and a qualified witness
    photo = await announce(world, clock, "退场.jpg", org="contractor_a")
    supervisor_id, contractor_id = world.users["supervisor"].id, world.users["contractor_a"].id
    returned = DispositionKind.returned
    bad = [
        (s.DispositionCreate(kind=returned, witnessed_by_id=contractor_id, evidence=[photo]), "witnessed_by_id"),
        (s.DispositionCreate(kind=returned, witnessed_by_id=supervisor_id, evidence=["cd" * 32]), "evidence"),
        (
            s.DispositionCreate(kind=returned, witnessed_by_id=supervisor_id, evidence=[photo], quantity=Decimal(99)),
            "quantity",
        ),
    ]
    for body, field in bad:
        before = await row_counts()
        with pytest.raises(ValidationFailed) as info:
            await svc(world).dispose(actor_of(world, "contractor_a"), b.id, body)
        assert info.value.field == field and await row_counts() == before
    await store(photo)
    disposed = await svc(world).dispose(
        actor_of(world, "contractor_a"),
        b.id,
        s.DispositionCreate(
            kind=DispositionKind.returned,
            witnessed_by_id=world.users["supervisor"].id,
            evidence=[photo],
            note="退回厂家",
        ),
    )
    assert disposed.batch.status is BatchStatus.disposed and not disposed.batch.flagged
    assert disposed.disposition is not None and disposed.disposition.quantity == 58.6
    assert disposed.disposition.witnessed_by_id == world.users["supervisor"].id
    assert [e.sha256 for e in disposed.disposition.evidence] == [photo]
    assert disposed.filing is not None and disposed.filing.status == "disposed"
    summary = await svc(world).summary(actor_of(world, "supervisor"), world.id_of("p1"))
    assert summary.flagged == 0 and summary.by_status["disposed"] == 1
    assert disposed.filing.disposition_id == disposed.disposition.id
    with pytest.raises(Conflict):
        await svc(world).dispose(
            actor_of(world, "contractor_a"),
            b.id,
            s.DispositionCreate(
                kind=DispositionKind.destroyed, witnessed_by_id=world.users["owner"].id, evidence=[photo]
            ),
        )


async def test_a_contractor_recording_a_failure_opens_a_draft(world: World) -> None:
    # rebar weight deviation is never retested: the failure rejects at once
    batch, sample = await fail_original(world, who="contractor_a", weight_deviation="-6.2")
    assert batch.status is BatchStatus.rejected
    order = await RectificationOrder.select().where(RectificationOrder.id == batch.rectification_order_id).first()
    assert order["status"] == OrderState.draft.value and order["issuer"] is None  # the supervisor issues it
    assert order["source_id"] == sample.id
    with pytest.raises(InvalidTransition):
        await svc(world).take_retest(
            actor_of(world, "contractor_a"), sample.id, s.RetestCreate(lab_id=await lab(world))
        )
    # the supervisor issues the draft like any other
    issued = await world.services.rectification.issue(actor_of(world, "supervisor"), order["id"], _issue_body())
    assert issued.order.status is OrderState.issued


def _issue_body() -> Any:
    from inspection.rectification import schemas as rs

    return rs.IssueBody()


async def test_retest_refusals(world: World) -> None:
    batch = (await new_batch(world)).batch
    passed = (await sample_on(world, batch.id)).sample
    before = await row_counts()
    with pytest.raises(InvalidTransition) as info:  # results not in yet
        await svc(world).take_retest(
            actor_of(world, "contractor_a"), passed.id, s.RetestCreate(lab_id=await lab(world))
        )
    await svc(world).record_results(actor_of(world, "contractor_a"), passed.id, results(REBAR_PASS))
    with pytest.raises(InvalidTransition) as info:  # on a passed sample
        await svc(world).take_retest(
            actor_of(world, "contractor_a"), passed.id, s.RetestCreate(lab_id=await lab(world))
        )
    assert "已合格" in info.value.detail

    _, failed = await fail_original(world, elongation="12")
    with pytest.raises(ValidationFailed) as info:  # fewer than twice the sets
        await svc(world).take_retest(
            actor_of(world, "contractor_a"), failed.id, s.RetestCreate(lab_id=await lab(world), sets=1)
        )
    assert info.value.field == "sets"
    retest = await svc(world).take_retest(
        actor_of(world, "contractor_a"), failed.id, s.RetestCreate(lab_id=await lab(world))
    )
    with pytest.raises(Conflict):  # one retest per failed sample
        await svc(world).take_retest(
            actor_of(world, "contractor_a"), failed.id, s.RetestCreate(lab_id=await lab(world))
        )
    with pytest.raises(InvalidTransition):  # a retest is not retested
        await svc(world).take_retest(
            actor_of(world, "contractor_a"), retest.sample.id, s.RetestCreate(lab_id=await lab(world))
        )
    # fail_original's two samples (the failed set and the passing one) and the retest
    assert (await row_counts())["samples"] == before["samples"] + 3


async def test_contractors_see_only_their_own(world: World) -> None:
    mine = (await new_batch(world)).batch
    other = {"work_item_id": world.id_of("work_b"), "material": "cement_bulk", "quantity": Decimal(30)}
    theirs = (await new_batch(world, who="contractor_b", **other)).batch
    page = await svc(world).list_batches(actor_of(world, "contractor_a"), project_id=world.id_of("p1"))
    assert [b.id for b in page.items] == [mine.id]
    page = await svc(world).list_batches(actor_of(world, "contractor_a"))
    assert [b.id for b in page.items] == [mine.id]
    with pytest.raises(NotFound):
        await svc(world).get_batch(actor_of(world, "contractor_a"), theirs.id)
    sample = (await sample_on(world, theirs.id, who="contractor_b")).sample
    with pytest.raises(NotFound):
        await svc(world).get_sample(actor_of(world, "contractor_a"), sample.id)
    with pytest.raises(NotFound):
        await svc(world).record_results(actor_of(world, "contractor_a"), sample.id, results({"soundness": "1"}))
    # the refusal names the sample asked for, never its batch (found by the fuzzer: a retest did)
    for attempt in (
        svc(world).record_results(actor_of(world, "contractor_a"), sample.id, results({"soundness": "1"})),
        svc(world).take_retest(actor_of(world, "contractor_a"), sample.id, s.RetestCreate(lab_id=await lab(world))),
    ):
        with pytest.raises(NotFound) as refused:
            await attempt
        assert str(theirs.id) not in refused.value.detail_in("en") and str(sample.id) in refused.value.detail_in("en")
    everyone = await svc(world).list_batches(actor_of(world, "supervisor"), project_id=world.id_of("p1"))
    assert {b.id for b in everyone.items} == {mine.id, theirs.id}
    with pytest.raises(NotFound):
        await svc(world).get_batch(actor_of(world, "outsider"), mine.id)


async def test_list_filters(world: World) -> None:
    a = (await new_batch(world, arrival_date=date(2026, 10, 1))).batch
    b = (await new_batch(world, material="cement_bagged", quantity=Decimal(120), arrival_date=date(2026, 10, 20))).batch
    c = (await new_batch(world, material="cement_bagged", quantity=Decimal(80), arrival_date=date(2026, 11, 5))).batch
    await sample_on(world, b.id)
    supervisor = actor_of(world, "supervisor")

    async def ids(**kw: Any) -> list[Any]:
        return [x.id for x in (await svc(world).list_batches(supervisor, project_id=world.id_of("p1"), **kw)).items]

    assert await ids() == [c.id, b.id, a.id]  # newest arrival first
    assert await ids(material="cement_bagged") == [c.id, b.id]
    assert await ids(status=BatchStatus.sampling) == [b.id]
    assert await ids(lab_id=await lab(world)) == [b.id]
    assert await ids(arrived_from=date(2026, 10, 15), arrived_to=date(2026, 10, 31)) == [b.id]
    assert await ids(flagged=True) == []
    with pytest.raises(ValidationFailed):
        await ids(material="gold")
    with pytest.raises(ValidationFailed):
        await ids(arrived_from=date(2026, 11, 1), arrived_to=date(2026, 10, 1))


async def test_witness_ratio(world: World) -> None:
    # rebar: 4 + 2 required (140 t: 2 + 2 sets; 20 t: 2); 1 witnessed of 2 taken →
    # needed ceil(1.8) = 2, shortfall 1
    big = (await new_batch(world, quantity=Decimal("140"))).batch
    small = (await new_batch(world, quantity=Decimal("20"))).batch
    await sample_on(world, big.id, witness="supervisor")
    await sample_on(world, small.id, witness=None)
    # cement: 1 required, 1 witnessed → met
    cement = (await new_batch(world, material="cement_bagged", quantity=Decimal(150))).batch
    await sample_on(world, cement.id, witness="owner")
    # water pipe: witnessing not required → no shortfall even with none
    await new_batch(world, material="water_pipe", quantity=Decimal(500), unit="m")
    view = await svc(world).witness_ratio(actor_of(world, "supervisor"), world.id_of("p1"))
    rows = {r.material: r for r in view.materials}
    assert view.min_share == 0.3 and view.shortfalls == ["rebar"]
    r = rows["rebar"]
    assert (r.batches, r.required, r.taken, r.witnessed, r.needed, r.shortfall, r.met) == (2, 6, 2, 1, 2, 1, False)
    assert r.ratio == 0.1667
    summary = await svc(world).summary(actor_of(world, "owner"), world.id_of("p1"))
    assert (summary.batches, summary.flagged, summary.samples_awaiting_result) == (4, 0, 3)
    assert summary.by_status["sampling"] == 3 and summary.by_status["awaiting_sampling"] == 1
    assert summary.witness_shortfalls == ["rebar"]
    c = rows["cement_bagged"]
    assert (c.required, c.witnessed, c.needed, c.shortfall, c.met) == (1, 1, 1, 0, True)
    p = rows["water_pipe"]
    assert (p.witness_required, p.needed, p.shortfall, p.met) == (False, 0, 0, True)
    # a witnessed retest does not count towards the originals' share
    with pytest.raises(NotFound):
        await svc(world).witness_ratio(actor_of(world, "outsider"), world.id_of("p1"))


async def test_ledger_csv(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    batch, sample = await fail_original(world, tensile_strength="530")
    await svc(world).take_retest(actor_of(world, "contractor_a"), sample.id, s.RetestCreate(lab_id=await lab(world)))
    await new_batch(world, material="cement_bagged", quantity=Decimal(80), arrival_date=date(2026, 9, 1))
    body = await svc(world).ledger_csv(actor_of(world, "supervisor"), world.id_of("p1"))
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["进场日期", "材料名称", "规格型号"]
    # the cement batch without samples, the failed rebar sample, the passing one, and the retest
    assert len(rows) == 1 + 1 + 3
    cement = rows[1]
    original = next(r for r in rows if r[11] == sample.label_code)
    retest = next(r for r in rows if r[18] == "是")
    assert cement[0] == "2026-09-01" and cement[1] == "水泥（袋装）" and cement[11] == ""
    assert original[1] == "热轧带肋钢筋" and original[5] == "58.6" and original[11] == sample.label_code
    assert original[15] == world.users["supervisor"].display_name and original[20] == "不合格"
    assert original[21] == "抗拉强度 Rm"
    assert retest[18] == "是" and retest[19] == sample.label_code and retest[20] == "待出报告"
    only_sept = await svc(world).ledger_csv(
        actor_of(world, "supervisor"), world.id_of("p1"), date(2026, 9, 1), date(2026, 9, 30)
    )
    assert len(list(csv.reader(io.StringIO(only_sept.decode("utf-8-sig"))))) == 2
    mine = await svc(world).ledger_csv(actor_of(world, "contractor_b"), world.id_of("p1"))
    assert len(list(csv.reader(io.StringIO(mine.decode("utf-8-sig"))))) == 1  # nothing of contractor A
    assert batch.id


async def test_future_sampling_time_is_refused(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    batch = (await new_batch(world)).batch
    with pytest.raises(ValidationFailed) as info:
        await sample_on(world, batch.id, taken_at=clock.now() + timedelta(days=1))
    assert info.value.field == "taken_at"


async def test_the_same_result_sent_twice_at_once_is_stored_once(world: World) -> None:
    batch = (await new_batch(world)).batch
    sample = (await sample_on(world, batch.id)).sample
    body = results({"bend": "1", "elongation": "21"})
    outcomes = await asyncio.gather(
        svc(world).record_results(actor_of(world, "contractor_a"), sample.id, body),
        svc(world).record_results(actor_of(world, "supervisor"), sample.id, body),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "SampleDetail"]
    assert (await row_counts())["results"] == 2


async def test_correcting_a_batch(world: World) -> None:
    detail = await new_batch(world, quantity=Decimal("58"))
    b = detail.batch
    fixed = await svc(world).update_batch(
        actor_of(world, "contractor_a"),
        b.id,
        s.BatchUpdate(version=b.version, quantity=Decimal("100.01"), batch_number="L24-0816"),
    )
    assert fixed.batch.required_sets == 4 and fixed.plan.missing == 4 and fixed.batch.batch_number == "L24-0816"
    with pytest.raises(VersionConflict):  # based on a stale read
        await svc(world).update_batch(actor_of(world, "supervisor"), b.id, s.BatchUpdate(version=b.version, note="x"))
    before = await row_counts()
    for body, field in [
        (s.BatchUpdate(version=fixed.batch.version, quantity=Decimal(0)), "quantity"),
        (s.BatchUpdate(version=fixed.batch.version, unit="kg"), "unit"),
        (s.BatchUpdate(version=fixed.batch.version, arrival_date=date(2099, 1, 1)), "arrival_date"),
    ]:
        with pytest.raises(ValidationFailed) as info:
            await svc(world).update_batch(actor_of(world, "contractor_a"), b.id, body)
        assert info.value.field == field
    assert await row_counts() == before
    await sample_on(world, b.id)
    current = (await svc(world).get_batch(actor_of(world, "contractor_a"), b.id)).batch
    with pytest.raises(InvalidTransition) as info:  # the plan is fixed once sampling starts
        await svc(world).update_batch(
            actor_of(world, "contractor_a"), b.id, s.BatchUpdate(version=current.version, quantity=Decimal(20))
        )
    assert info.value.field == "quantity"
    noted = await svc(world).update_batch(
        actor_of(world, "contractor_a"), b.id, s.BatchUpdate(version=current.version, manufacturer="另一家钢厂")
    )
    assert noted.batch.manufacturer == "另一家钢厂"
    with pytest.raises(NotFound):
        await svc(world).update_batch(actor_of(world, "contractor_b"), b.id, s.BatchUpdate(version=noted.batch.version))


async def test_a_refused_retest_or_sample_stores_nothing(world: World) -> None:
    _, failed = await fail_original(world, yield_strength="380")
    before = await row_counts()
    bad_witness = s.RetestCreate(lab_id=await lab(world), witness_id=world.users["contractor_a"].id)
    with pytest.raises(ValidationFailed) as info:
        await svc(world).take_retest(actor_of(world, "contractor_a"), failed.id, bad_witness)
    assert info.value.field == "witness_id"
    with pytest.raises(ValidationFailed) as info:  # a report never announced, checked after the insert
        await svc(world).take_retest(
            actor_of(world, "contractor_a"), failed.id, s.RetestCreate(lab_id=await lab(world), report="ef" * 32)
        )
    assert info.value.field == "report"
    assert await row_counts() == before
