"""The pure sampling rules, table-driven with hand-worked cases: sets and specimens per batch for every
material (rounding at the batch boundaries), concrete sampled per floor and shift, verdicts against
the limits, concrete and mortar lots judged as their standards do, retest needs, batch outcomes,
in-structure dispositions, the witness share and the rules file's own checks. No database."""

from __future__ import annotations

import copy
import tomllib
import uuid
from decimal import Decimal as D

import pytest

from inspection.samples.rulebook import RULES_FILE, load_rulebook, parse_rulebook
from inspection.samples.rules import (
    BatchStatus,
    Decision,
    DispositionKind,
    InPlaceMethod,
    PlanMethod,
    Portion,
    ResultFact,
    SampleFacts,
    Verdict,
    batch_outcome,
    batch_problem,
    disposition_problem,
    evaluate_lot,
    failed_items,
    plan_summary,
    required_sets,
    retest_need,
    sample_verdict,
    set_minimum,
    specimen_counts,
    witness_check,
)

BOOK = load_rulebook()
RAW = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))

ISSUE_MATERIALS = {
    "rebar",
    "cement_bagged",
    "cement_bulk",
    "ready_mixed_concrete",
    "masonry_mortar",
    "wall_insulation_board",
    "roof_membrane",
    "waterproof_coating",
    "water_pipe",
    "drainage_pipe",
    "permeable_brick",
    "windows",
    # issue 21: what the pipe, heating, gas, electrical, lift and accessibility work samples
    "valve",
    "radiator",
    "gas_pipe_pe",
    "cable",
    "structural_steel",
    "hs_bolt_assembly",
    "tactile_paving",
}


def test_every_material_the_issue_names_is_in_the_file() -> None:
    assert set(BOOK.materials) >= ISSUE_MATERIALS
    assert BOOK.witness_min_share == D("0.30")


# (material, quantity, continuous pour, expected sets, the clause it exercises)
PLAN_CASES = [
    # rebar (GB 1499.2 §9): a set is one tensile and one bend specimen; ≤ 60 t takes two sets,
    # each further 40 t or part one more
    ("rebar", "0.5", False, 2, "a small delivery is still one batch: 2 tensile + 2 bend"),
    ("rebar", "60", False, 2, "exactly the batch size"),
    ("rebar", "60.01", False, 3, "any part above 60 t adds one tensile and one bend specimen"),
    ("rebar", "100", False, 3, "60 + 40: 3 + 3 specimens, not 8"),
    ("rebar", "100.01", False, 4, "any part above 100 t adds another pair"),
    ("rebar", "140", False, 4, "60 + 2 × 40"),
    # cement: bagged ≤ 200 t, bulk ≤ 500 t per sample (GB 50204 7.2.1)
    ("cement_bagged", "200", False, 1, "bagged boundary"),
    ("cement_bagged", "200.001", False, 2, "bagged, just over"),
    ("cement_bagged", "450", False, 3, "bagged, 450/200 rounds up"),
    ("cement_bulk", "500", False, 1, "bulk boundary"),
    ("cement_bulk", "500.5", False, 2, "bulk, just over"),
    # concrete: ≤ 100 m³ per sample (GB 50204 7.4.1); continuous > 1000 m³: per 200 m³ over the whole
    ("ready_mixed_concrete", "100", False, 1, "one sample per 100 m³"),
    ("ready_mixed_concrete", "100.5", False, 2, "part of 100 m³ counts"),
    ("ready_mixed_concrete", "1000", True, 10, "a continuous pour of exactly 1000 m³ keeps the 100 m³ rule"),
    ("ready_mixed_concrete", "1050", True, 6, "GB/T 50107 example: 1050 m³ → 6"),
    ("ready_mixed_concrete", "1850", True, 10, "GB/T 50107 example: 1850 m³ → 10"),
    ("ready_mixed_concrete", "1850", False, 19, "the same volume not poured continuously"),
    ("ready_mixed_concrete", "2000.1", True, 11, "part of 200 m³ counts"),
    # mortar ≤ 250 m³ of masonry (M)
    ("masonry_mortar", "250", False, 1, "mortar boundary"),
    ("masonry_mortar", "251", False, 2, "mortar over"),
    # insulation: one per 5000 m² (M)
    ("wall_insulation_board", "5000", False, 1, "insulation boundary"),
    ("wall_insulation_board", "5000.5", False, 2, "insulation over"),
    ("wall_insulation_board", "12000", False, 3, "12000/5000 rounds up"),
    # membrane: product lot 10 000 m² (GB 18242)
    ("roof_membrane", "10000", False, 1, "membrane lot"),
    ("roof_membrane", "10001", False, 2, "membrane over"),
    # coating: 10 t (M)
    ("waterproof_coating", "0.8", False, 1, "small coating delivery"),
    ("waterproof_coating", "10.2", False, 2, "coating over 10 t"),
    ("water_pipe", "3000", False, 1, "pipe boundary (M)"),
    ("water_pipe", "3000.5", False, 2, "pipe over (M)"),
    ("drainage_pipe", "7200", False, 3, "drainage pipe"),
    ("permeable_brick", "3001", False, 2, "bricks (unverified)"),
    # windows: lots of 100, each ≥ 5 % and ≥ 3 units, never more than the lot (GB 50210)
    ("windows", "2", False, 2, "a lot smaller than 3 is checked whole"),
    ("windows", "40", False, 3, "5 % of 40 is 2, at least 3"),
    ("windows", "100", False, 5, "5 % of 100"),
    ("windows", "101", False, 6, "a second lot of one unit: 5 + 1"),
    ("windows", "250", False, 13, "100 + 100 + 50: 5 + 5 + 3"),
    ("windows_high_rise", "40", False, 6, "high-rise: ≥ 10 % and ≥ 6"),
    ("windows_high_rise", "100", False, 10, "10 % of 100"),
    ("windows_high_rise", "170", False, 17, "10 + max(6, 7)"),
    # valves (GB 50242 §3.2.4): 10 % of the delivery of one brand, model and size, at least one
    ("valve", "8", False, 1, "10 % of 8 is 0.8: at least one"),
    ("valve", "35", False, 4, "10 % of 35 rounds up to 4"),
    ("valve", "250", False, 25, "the whole delivery is one lot"),
    # radiators (GB 50411-2019 §9.2.2): ≤ 500 → 2; each further 1000 or part → 1 more
    ("radiator", "500", False, 2, "radiators up to 500"),
    ("radiator", "501", False, 3, "one more above 500"),
    ("radiator", "1501", False, 4, "500 + 1000 + 1"),
    ("gas_pipe_pe", "5001", False, 2, "gas pipe (unverified)"),
    # cables (GB 50411-2019 §12.2.2): 10 % of the specifications, at least 2
    ("cable", "6", False, 2, "6 sizes: at least 2"),
    ("cable", "25", False, 3, "10 % of 25 rounds up to 3"),
    ("structural_steel", "60.5", False, 2, "steel over 60 t (M)"),
    ("hs_bolt_assembly", "3000", False, 1, "bolt assemblies: one lot of ≤ 3000"),
    ("tactile_paving", "1200", False, 2, "tactile paving (unverified)"),
]


@pytest.mark.parametrize(("material", "quantity", "continuous", "expected", "why"), PLAN_CASES)
def test_required_sets(material: str, quantity: str, continuous: bool, expected: int, why: str) -> None:
    rule = BOOK.materials[material]
    assert required_sets(rule, D(quantity), continuous) == expected, why


def test_every_material_has_a_plan_case() -> None:
    assert {c[0] for c in PLAN_CASES} == set(BOOK.materials)


# GB 1499.2 §9: specimens per test item, not whole sets of four. (quantity t, tensile, bend, total
# tensile + bend); weight deviation is one bundle of ≥ 5 pieces whatever the tonnage.
REBAR_SPECIMENS = [
    ("60", 2, 2, 4),  # the batch size: 2 tensile + 2 bend
    ("60.01", 3, 3, 6),  # any part of a further 40 t: one more of each
    ("100", 3, 3, 6),  # 60 + 40: 6, where whole sets of four asked for 8
    ("100.01", 4, 4, 8),  # into the next 40 t
]


@pytest.mark.parametrize(("quantity", "tensile", "bend", "total"), REBAR_SPECIMENS)
def test_rebar_specimens_per_test_item(quantity: str, tensile: int, bend: int, total: int) -> None:
    rebar = BOOK.materials["rebar"]
    counts = {c.code: c.count for c in specimen_counts(rebar, required_sets(rebar, D(quantity)))}
    assert counts == {"tensile": tensile, "bend": bend, "weight": 5}
    assert counts["tensile"] + counts["bend"] == total


def test_rebar_witness_and_retest_follow_the_specimen_count() -> None:
    rebar = BOOK.materials["rebar"]
    sets = required_sets(rebar, D("100"))  # 3
    # 30 % of 3 sets is 0.9: one witnessed set, not the 3 that 8 inflated specimens asked for
    assert witness_check(sets, 0, BOOK.witness_min_share).needed == 1
    # a failed tensile item retests on double the tensile specimens only: 2 × 3 = 6 (GB/T 17505)
    need = retest_need(rebar, ["yield_strength"], sets)
    assert need.sets == 6 and need.items == ("yield_strength",)


# GB 50204-2015 §7.4.1 per floor and work shift: each at least one set, one per 100 m³ and per
# 100 mixer batches; a continuous pour above 1000 m³ one per 200 m³ (GB/T 50107 over the whole).
P = Portion
PORTION_CASES = [
    ("one floor, one shift, 80 m³", "80", False, [P("3F", "d1", D("80"))], 1),
    (
        "two floors in one shift: one each although 80 m³ together",
        "80",
        False,
        [P("3F", "d1", D("40")), P("4F", "d1", D("40"))],
        2,
    ),
    (
        "one floor over two shifts: one each",
        "90",
        False,
        [P("3F", "day", D("60")), P("3F", "night", D("30"))],
        2,
    ),
    ("150 m³ on one floor: two (per 100 m³)", "150", False, [P("1F", "d1", D("150"))], 2),
    ("80 m³ in 130 small mixer batches: two (per 100 batches)", "80", False, [P("1F", "d1", D("80"), 130)], 2),
    (
        "each portion rounds on its own: 150 + 150 → 2 + 2, not ⌈300/100⌉ = 3",
        "300",
        False,
        [P("1F", "d1", D("150")), P("2F", "d2", D("150"))],
        4,
    ),
    (
        "a continuous 1850 m³ raft over two shifts: per 200 m³ (925 → 5 each), 10 as GB/T 50107's example",
        "1850",
        True,
        [P("B1", "day", D("925")), P("B1", "night", D("925"))],
        10,
    ),
]


@pytest.mark.parametrize(("why", "quantity", "continuous", "portions", "expected"), PORTION_CASES)
def test_concrete_sets_per_floor_and_shift(
    why: str, quantity: str, continuous: bool, portions: list[Portion], expected: int
) -> None:
    concrete = BOOK.materials["ready_mixed_concrete"]
    assert batch_problem(concrete, D(quantity), "m3", continuous, portions, "C30") is None, why
    assert required_sets(concrete, D(quantity), continuous, portions) == expected, why


@pytest.mark.parametrize(
    ("quantity", "portions", "field"),
    [
        ("100", [P("1F", "d1", D("60"))], "portions"),  # they must add up to the batch
        ("100", [P("1F", "d1", D("50")), P("1F", "d1", D("50"))], "portions[1]"),  # one floor and shift once
        ("100", [P("1F", "d1", D("0")), P("2F", "d1", D("100"))], "portions[0].volume"),
    ],
)
def test_concrete_portions_are_checked(quantity: str, portions: list[Portion], field: str) -> None:
    problem = batch_problem(BOOK.materials["ready_mixed_concrete"], D(quantity), "m3", False, portions, "C30")
    assert problem is not None and problem[0] == field


def test_portions_and_grades_belong_to_concrete_and_mortar_only() -> None:
    rebar = BOOK.materials["rebar"]
    assert batch_problem(rebar, D("10"), "t", False, [P("1F", "d", D("10"))])[0] == "portions"  # type: ignore[index]
    assert batch_problem(rebar, D("10"), "t", False, (), "C30")[0] == "strength_grade"  # type: ignore[index]
    mortar = BOOK.materials["masonry_mortar"]
    assert batch_problem(mortar, D("10"), "m3", False, (), "C30")[0] == "strength_grade"  # type: ignore[index]
    assert batch_problem(mortar, D("10"), "m3", False, (), "M10") is None


BATCH_PROBLEMS = [
    ("rebar", "0", "t", False, "quantity"),
    ("rebar", "-3", "t", False, "quantity"),
    ("rebar", "12", "kg", False, "unit"),
    ("rebar", "12.0001", "t", False, "quantity"),
    ("rebar", "1E+12", "t", False, "quantity"),
    ("rebar", "NaN", "t", False, "quantity"),
    ("ready_mixed_concrete", "12", "t", False, "unit"),
    ("windows", "12.5", "unit", False, "quantity"),
    ("rebar", "12", "t", True, "continuous_pour"),
    ("rebar", "12", "t", False, None),
    ("ready_mixed_concrete", "1200", "m3", True, None),
]


@pytest.mark.parametrize(("material", "quantity", "unit", "continuous", "field"), BATCH_PROBLEMS)
def test_batch_problem(material: str, quantity: str, unit: str, continuous: bool, field: str | None) -> None:
    problem = batch_problem(BOOK.materials[material], D(quantity), unit, continuous)
    assert (problem[0] if problem else None) == field


# (material, item, value, passes): inclusive limits
LIMIT_CASES = [
    ("rebar", "yield_strength", "400", True),
    ("rebar", "yield_strength", "399.9", False),
    ("rebar", "weight_deviation", "-4.5", True),
    ("rebar", "weight_deviation", "4.6", False),
    ("rebar", "weight_deviation", "-4.51", False),
    ("rebar", "bend", "1", True),
    ("rebar", "bend", "0", False),
    ("cement_bulk", "final_setting", "600", True),
    ("cement_bulk", "final_setting", "601", False),
    ("wall_insulation_board", "thermal_conductivity", "0.033", True),
    ("wall_insulation_board", "thermal_conductivity", "0.034", False),
    ("wall_insulation_board", "density", "17.9", False),
    ("wall_insulation_board", "density", "22.1", False),
    ("drainage_pipe", "density", "1400", True),
    ("windows_high_rise", "air_tightness", "1.5", True),
]


@pytest.mark.parametrize(("material", "item", "value", "passes"), LIMIT_CASES)
def test_limits(material: str, item: str, value: str, passes: bool) -> None:
    test_item = BOOK.materials[material].item(item)
    assert test_item is not None
    assert test_item.passes(D(value)) is passes


def test_unverified_rows_follow_the_reference() -> None:
    # every M row is flagged; the V2 frequencies of REFERENCE.md §3 are not
    for rule in BOOK.materials.values():
        for item in rule.items:
            assert item.origin.unverified == (item.origin.confidence == "M")
    assert not BOOK.materials["rebar"].plan.origin.unverified
    assert not BOOK.materials["ready_mixed_concrete"].plan.origin.unverified
    assert BOOK.materials["permeable_brick"].plan.origin.unverified
    assert BOOK.materials["wall_insulation_board"].plan.origin.unverified
    assert BOOK.materials["windows"].plan.method is PlanMethod.percentage


def test_rebar_weight_deviation_is_never_retested() -> None:
    rebar = BOOK.materials["rebar"]
    assert [i.code for i in rebar.items if not i.retest] == ["weight_deviation"]
    need = retest_need(rebar, ["tensile_strength", "weight_deviation"], 2)
    assert not need.allowed and need.never_retested == ("weight_deviation",)
    need = retest_need(rebar, ["tensile_strength"], 2)
    assert need.allowed and need.sets == 4 and need.items == ("tensile_strength",)


def test_rebar_weight_deviation_has_one_result_per_sample() -> None:
    # GB 1499.2 §8.4: the ≥ 5 pieces are weighed together; a sample of 3 sets has 3 results of
    # each tensile and bend item and one weight deviation
    rebar = BOOK.materials["rebar"]
    assert rebar.once_items == {"weight_deviation"}
    items = list(rebar.item_codes)
    full = [r(c, True, n) for c in items if c != "weight_deviation" for n in (1, 2, 3)]
    assert sample_verdict(items, 3, full, rebar.once_items) is Verdict.pending
    assert sample_verdict(items, 3, [*full, r("weight_deviation", True)], rebar.once_items) is Verdict.passed


def r(item: str, passed: bool, set_no: int = 1) -> ResultFact:
    return ResultFact(item, set_no, passed)


VERDICT_CASES = [
    (["a", "b"], 1, [], Verdict.pending),
    (["a", "b"], 1, [r("a", True)], Verdict.pending),
    (["a", "b"], 1, [r("a", False)], Verdict.pending),  # judged once every item is in
    (["a", "b"], 1, [r("a", True), r("b", True)], Verdict.passed),
    (["a", "b"], 1, [r("a", True), r("b", False)], Verdict.failed),
    (["a"], 2, [r("a", True)], Verdict.pending),  # the second set is missing
    (["a"], 2, [r("a", True), r("a", True, 2)], Verdict.passed),
    (["a"], 2, [r("a", True), r("a", False, 2)], Verdict.failed),  # any retest set failing fails
]


@pytest.mark.parametrize(("items", "sets", "results", "expected"), VERDICT_CASES)
def test_sample_verdict(items: list[str], sets: int, results: list[ResultFact], expected: Verdict) -> None:
    assert sample_verdict(items, sets, results) is expected


def test_failed_items_keep_the_material_order() -> None:
    assert failed_items(["a", "b", "c"], [r("c", False), r("a", False), r("b", True)]) == ["a", "c"]


O1, O2, R1 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def original(verdict: Verdict, sets: int = 1, failed: tuple[str, ...] = (), sid: uuid.UUID = O1) -> SampleFacts:
    return SampleFacts(sid, sets, False, None, verdict, failed)


def retest(verdict: Verdict, sets: int = 2, of: uuid.UUID = O1, failed: tuple[str, ...] = ()) -> SampleFacts:
    return SampleFacts(R1, sets, True, of, verdict, failed)


OUTCOME_CASES = [
    ("nothing taken", 1, [], BatchStatus.awaiting_sampling),
    ("results outstanding", 1, [original(Verdict.pending)], BatchStatus.sampling),
    ("one of two sets taken", 2, [original(Verdict.passed)], BatchStatus.sampling),
    ("all passed", 2, [original(Verdict.passed, 2)], BatchStatus.accepted),
    ("two samples, both passed", 2, [original(Verdict.passed), original(Verdict.passed, sid=O2)], BatchStatus.accepted),
    ("failed, retest due", 1, [original(Verdict.failed, failed=("tensile_strength",))], BatchStatus.sampling),
    (
        "retest pending",
        1,
        [original(Verdict.failed, failed=("tensile_strength",)), retest(Verdict.pending)],
        BatchStatus.sampling,
    ),
    (
        "retest with too few sets",
        1,
        [original(Verdict.failed, failed=("tensile_strength",)), retest(Verdict.passed, sets=1)],
        BatchStatus.sampling,
    ),
    (
        "retest passed",
        1,
        [original(Verdict.failed, failed=("tensile_strength",)), retest(Verdict.passed)],
        BatchStatus.accepted,
    ),
    (
        "retest failed",
        1,
        [
            original(Verdict.failed, failed=("tensile_strength",)),
            retest(Verdict.failed, failed=("tensile_strength",)),
        ],
        BatchStatus.rejected,
    ),
    ("weight deviation failed", 1, [original(Verdict.failed, failed=("weight_deviation",))], BatchStatus.rejected),
    (
        "a failure that cannot be retested rejects even with sets missing",
        3,
        [original(Verdict.failed, failed=("weight_deviation",))],
        BatchStatus.rejected,
    ),
]


@pytest.mark.parametrize(("why", "required", "samples", "expected"), OUTCOME_CASES)
def test_batch_outcome(why: str, required: int, samples: list[SampleFacts], expected: BatchStatus) -> None:
    assert batch_outcome(BOOK.materials["rebar"], required, samples).status is expected, why


def test_a_rejection_names_the_deciding_sample() -> None:
    samples = [original(Verdict.failed, failed=("bend",)), retest(Verdict.failed, failed=("bend",))]
    out = batch_outcome(BOOK.materials["rebar"], 1, samples)
    assert out.deciding_sample == R1


CONCRETE = BOOK.materials["ready_mixed_concrete"]
MORTAR = BOOK.materials["masonry_mortar"]


def values(text: str) -> list[D]:
    return [D(v) for v in text.split()]


# GB/T 50107-2010 §5, C30 unless said (fcu,k = 30). (why, grade value, set values, method, passes)
CONCRETE_LOTS = [
    (
        # §5.2 non-statistical (< 10 sets): mean 165 / 5 = 33.0 < λ3 × 30 = 1.15 × 30 = 34.5 → fails,
        # although every set is above λ4 × 30 = 0.95 × 30 = 28.5
        "5 sets each passing, failing on the mean",
        "30",
        "31 32 33 34 35",
        "non_statistical",
        False,
    ),
    ("5 sets: mean 34.6 ≥ 34.5, min 30 ≥ 28.5", "30", "30 34 36 36 37", "non_statistical", True),
    ("5 sets: mean 35 but one set 28.4 < 28.5", "30", "28.4 36 37 37 36.6", "non_statistical", False),
    # from C60 λ3 = 1.10: mean 66.5 ≥ 1.10 × 60 = 66.0 (1.15 would ask 69.0); min 62 ≥ 0.95 × 60 = 57
    ("C60: λ3 = 1.10", "60", "62 66 67 68 69.5", "non_statistical", True),
    (
        # §5.1.3 statistical (≥ 10 sets, 10–14: λ1 = 1.15, λ2 = 0.90). Σ = 414.5, mean 34.542;
        # Σf² = 14483.25, S = √((14483.25 − 12 × 34.542²) / 11) = 3.882; mean ≥ 30 + 1.15 × 3.882
        # = 34.464 ✓; min 27.5 ≥ 0.90 × 30 = 27.0 ✓ — the set at 27.5 would fail the 28.5 of a
        # lot under 10 sets
        "12 sets under the statistical method",
        "30",
        "30.5 33 36 38.5 31 34.5 37 39.5 32 35 40 27.5",
        "statistical",
        True,
    ),
    (
        # 12 close sets: S = 0.80 is raised to 2.5; mean 35.125 ≥ 30 + 1.15 × 2.5 = 32.875
        "S below 2.5 MPa counts as 2.5",
        "30",
        "34 35.5 36 34.5 35 36.5 35 34 35.5 36 35 34.5",
        "statistical",
        True,
    ),
    (
        # the same 12 sets as C35: mean 34.542 < 35 + 1.15 × 3.882 = 39.46 → fails
        "12 sets failing the statistical mean",
        "35",
        "30.5 33 36 38.5 31 34.5 37 39.5 32 35 40 27.5",
        "statistical",
        False,
    ),
]


@pytest.mark.parametrize(("why", "grade", "sets", "method", "passes"), CONCRETE_LOTS)
def test_concrete_lot(why: str, grade: str, sets: str, method: str, passes: bool) -> None:
    assert CONCRETE.lot is not None
    verdict = evaluate_lot(CONCRETE.lot, D(grade), values(sets))
    assert (verdict.method, verdict.passed) == (method, passes), why


def test_concrete_lot_coefficients_follow_table_5_1_3() -> None:
    # λ2 by the number of sets: 10–14 → 0.90, 15–19 → 0.85, ≥ 20 → 0.85; below 10: λ4 = 0.95
    assert CONCRETE.lot is not None
    assert [set_minimum(CONCRETE.lot, D(30), n) for n in (9, 10, 14, 15, 19, 20)] == [
        D("28.50"),
        D("27.00"),
        D("27.00"),
        D("25.50"),
        D("25.50"),
        D("25.50"),
    ]
    # λ1 = 1.05 for 15–19 sets and 0.95 from 20: the same spread needs a smaller margin
    fifteen = evaluate_lot(CONCRETE.lot, D(30), values("33 " * 14 + "38"))
    twenty = evaluate_lot(CONCRETE.lot, D(30), values("33 " * 19 + "38"))
    assert fifteen.sd == twenty.sd == D("2.5")
    assert fifteen.mean_required == D("32.625") and twenty.mean_required == D("32.375")


# GB 50203-2011 §4.0.12, M7.5 (f2 = 7.5): mean ≥ 1.10 × 7.5 = 8.25, smallest set ≥ 0.85 × 7.5 = 6.375
MORTAR_LOTS = [
    ("3 sets: mean 8.0 < 8.25 although the smallest 7.9 ≥ 6.375", "7.9 8.0 8.1", False),
    ("3 sets: mean 8.3, smallest 6.4 ≥ 6.375", "6.4 9.0 9.5", True),
    ("3 sets: mean 8.5 but one set 6.3 < 6.375", "6.3 9.6 9.6", False),
    ("2 sets: each must reach 8.25 (the clause's note); 8.2 does not", "8.2 9.0", False),
    ("1 set of 8.3", "8.3", True),
]


@pytest.mark.parametrize(("why", "sets", "passes"), MORTAR_LOTS)
def test_mortar_lot(why: str, sets: str, passes: bool) -> None:
    assert MORTAR.lot is not None
    assert evaluate_lot(MORTAR.lot, D("7.5"), values(sets)).passed is passes, why


def lot_sample(text: str, sid: uuid.UUID = O1) -> SampleFacts:
    got = values(text)
    return SampleFacts(sid, len(got), False, None, Verdict.passed, (), lot_values=tuple(got))


def test_a_concrete_lot_is_judged_once_every_set_is_in() -> None:
    # 5 sets required; 3 in: still sampling. All 5, each above 28.5 but mean 33.0 < 34.5: rejected,
    # with the lot's numbers as the reason (GB/T 50107 §5.2)
    assert batch_outcome(CONCRETE, 5, [lot_sample("31 32 33")], D(30)).status is BatchStatus.sampling
    out = batch_outcome(CONCRETE, 5, [lot_sample("31 32 33"), lot_sample("34 35", O2)], D(30))
    assert out.status is BatchStatus.rejected and out.lot is not None and not out.lot.passed
    assert "平均值 33.00 < 1.15 fcu,k = 34.50" in out.reason
    ok = batch_outcome(CONCRETE, 5, [lot_sample("30 34 36"), lot_sample("36 37", O2)], D(30))
    assert ok.status is BatchStatus.accepted


def test_a_failed_set_of_a_lot_does_not_reject_alone() -> None:
    # a set below the single-set limit is one of the lot's facts, not a retest trigger
    failed = SampleFacts(O1, 1, False, None, Verdict.failed, ("compressive_28d",), lot_values=(D("28"),))
    out = batch_outcome(CONCRETE, 2, [failed], D(30))
    assert out.status is BatchStatus.sampling


TEST, CHECK = DispositionKind.in_place_testing, DispositionKind.design_check
RETURNED, DESTROYED = DispositionKind.returned, DispositionKind.destroyed
accepted, strengthened, demolished = Decision.accepted, Decision.strengthened, Decision.demolished
core, rebound, mortar_in_situ = InPlaceMethod.core, InPlaceMethod.rebound, InPlaceMethod.mortar_in_situ
# (material, kind, decision, method, estimated strength, grade value, field refused or None)
DISPOSITIONS = [
    # rebar leaves the site
    ("rebar", RETURNED, None, None, None, None, None),
    ("rebar", TEST, accepted, core, "35", None, "kind"),
    ("rebar", RETURNED, accepted, None, None, None, "decision"),
    # concrete is in the structure (GB 50204 §7.1.3): never returned or destroyed
    ("concrete", RETURNED, None, None, None, "30", "kind"),
    ("concrete", DESTROYED, None, None, None, "30", "kind"),
    ("concrete", TEST, None, core, "32", "30", "decision"),
    ("concrete", TEST, accepted, None, "32", "30", "method"),
    # GB 50300 §5.0.6 item 2: accepted when the in-place test reaches the design grade …
    ("concrete", TEST, accepted, core, "31.2", "30", None),
    ("concrete", TEST, accepted, core, None, "30", "estimated_strength"),
    # … and not below it: then the designer's check, strengthening or demolition
    ("concrete", TEST, accepted, rebound, "28.7", "30", "decision"),
    ("concrete", TEST, strengthened, rebound, "28.7", "30", None),
    ("concrete", CHECK, accepted, None, None, "30", None),
    ("concrete", CHECK, demolished, core, None, "30", "method"),
    ("masonry_mortar", TEST, accepted, mortar_in_situ, "8.0", "7.5", None),
]  # fmt: skip


@pytest.mark.parametrize(("material", "kind", "decision", "method", "strength", "grade", "field"), DISPOSITIONS)
def test_disposition_route(
    material: str,
    kind: DispositionKind,
    decision: Decision | None,
    method: InPlaceMethod | None,
    strength: str | None,
    grade: str | None,
    field: str | None,
) -> None:
    problem = disposition_problem(
        BOOK.materials["ready_mixed_concrete" if material == "concrete" else material],
        kind,
        decision,
        method,
        D(strength) if strength else None,
        D(grade) if grade else None,
    )
    assert (problem[0] if problem else None) == field


def test_plan_summary() -> None:
    rebar = BOOK.materials["rebar"]
    samples = [
        SampleFacts(O1, 1, False, None, Verdict.failed, ("bend",), witnessed=True),
        SampleFacts(O2, 1, False, None, Verdict.pending, (), witnessed=False),
        SampleFacts(R1, 2, True, O1, Verdict.pending, (), witnessed=True),
    ]
    summary = plan_summary(rebar, 3, samples)
    assert (summary.required, summary.taken, summary.missing, summary.witnessed) == (3, 2, 1, 1)
    ((failed_id, need, taken),) = summary.retests
    assert failed_id == O1 and need.sets == 2 and need.items == ("bend",) and taken == 2


# (required, witnessed, needed, shortfall): needed = 30 % of required, rounded up
WITNESS_CASES = [
    (10, 3, 3, 0),
    (10, 2, 3, 1),
    (11, 3, 4, 1),  # 3.3 rounds up to 4
    (1, 0, 1, 1),
    (0, 0, 0, 0),
    (7, 7, 3, 0),
]


@pytest.mark.parametrize(("required", "witnessed", "needed", "shortfall"), WITNESS_CASES)
def test_witness_share(required: int, witnessed: int, needed: int, shortfall: int) -> None:
    check = witness_check(required, witnessed, BOOK.witness_min_share)
    assert (check.needed, check.shortfall, check.met) == (needed, shortfall, shortfall == 0)
    assert check.ratio == (round(witnessed / required, 4) if required else None)


def test_witness_not_required_has_no_shortfall() -> None:
    assert witness_check(10, 0, BOOK.witness_min_share, witness_required=False).shortfall == 0


def _broken(path: list[str], value: object) -> dict:  # type: ignore[type-arg]
    data = copy.deepcopy(RAW)
    node = data
    for key in path[:-1]:
        node = node[key] if not isinstance(node, list) else node[int(key)]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["witness", "min_share"], 1.5, "是比例"),
        (["material", "rebar", "plan", "first"], 0, "须大于零"),
        (["material", "rebar", "plan", "method"], "guess", "method 须为"),
        (["material", "rebar", "items", "0", "unverified"], False, "须写明 unverified = true"),
        (["material", "rebar", "items", "0", "retest"], None, "能否复验"),
        (["material", "rebar", "items", "0", "min"], None, "须有 min 或 max"),
        (["material", "rebar", "items", "0", "source"], None, "缺少出处 source"),
        (["material", "cement_bulk", "items_from"], "nothing", "items_from 所指的材料没有自己的检测项目"),
        (["material", "windows", "plan", "rate"], 5, "rate 是比例"),
        (["material", "rebar", "plan", "first_sets"], 1.5, "first_sets 须为整数"),
        (["material", "rebar", "specimens", "0", "items"], ["nothing"], "不存在的检测项目"),
        (["material", "rebar", "specimens", "2", "per_set"], 1, "须有 per_set 或 per_sample"),
        (["material", "ready_mixed_concrete", "lot"], None, "却没有 \\[lot\\] 规则"),
        (["material", "ready_mixed_concrete", "lot", "statistical_from"], 12, "须从 statistical_from"),
        (["material", "ready_mixed_concrete", "lot", "statistical"], [[10, 1.15, 0.9], [5, 1, 1]], "升序"),
        (["material", "ready_mixed_concrete", "grade"], "C33", "须为检验批规则所列强度等级之一"),
        (["material", "masonry_mortar", "lot", "method"], "guess", "gb50107、gb50203"),
        (["material", "ready_mixed_concrete", "in_structure_source"], None, "缺少出处 in_structure_source"),
        (["timezone"], "Mars/Olympus", "IANA 时区名"),
    ],
)
def test_the_rules_file_is_checked(path: list[str], value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rulebook(_broken(path, value))
