"""The pure sampling rules, table-driven with hand-worked cases: sets per batch for every material
(rounding at the batch boundaries), verdicts against the limits, retest needs, batch outcomes, the
witness share and the rules file's own checks. No database."""

from __future__ import annotations

import copy
import tomllib
import uuid
from decimal import Decimal as D

import pytest

from inspection.samples.rulebook import RULES_FILE, load_rulebook
from inspection.samples.rules import (
    BatchStatus,
    PlanMethod,
    ResultFact,
    SampleFacts,
    Verdict,
    batch_outcome,
    batch_problem,
    failed_items,
    parse_rulebook,
    plan_summary,
    required_sets,
    retest_need,
    sample_verdict,
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
}


def test_every_material_the_issue_names_is_in_the_file() -> None:
    assert set(BOOK.materials) >= ISSUE_MATERIALS
    assert BOOK.witness_min_share == D("0.30")


# (material, quantity, continuous pour, expected sets, the clause it exercises)
PLAN_CASES = [
    # rebar: ≤ 60 t one set; each further 40 t or part one more (GB 1499.2)
    ("rebar", "0.5", False, 1, "a small delivery is still one batch"),
    ("rebar", "60", False, 1, "exactly the batch size"),
    ("rebar", "60.01", False, 2, "any part above 60 t adds a set"),
    ("rebar", "100", False, 2, "60 + 40"),
    ("rebar", "100.01", False, 3, "any part above 100 t adds another"),
    ("rebar", "140", False, 3, "60 + 2 × 40"),
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
]


@pytest.mark.parametrize(("material", "quantity", "continuous", "expected", "why"), PLAN_CASES)
def test_required_sets(material: str, quantity: str, continuous: bool, expected: int, why: str) -> None:
    rule = BOOK.materials[material]
    assert required_sets(rule, D(quantity), continuous) == expected, why


def test_every_material_has_a_plan_case() -> None:
    assert {c[0] for c in PLAN_CASES} == set(BOOK.materials)


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
    ("ready_mixed_concrete", "compressive_28d", "28.5", True),
    ("ready_mixed_concrete", "compressive_28d", "28.4", False),
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
    need = retest_need(rebar, ["tensile_strength", "weight_deviation"], 1)
    assert not need.allowed and need.never_retested == ("weight_deviation",)
    need = retest_need(rebar, ["tensile_strength"], 1)
    assert need.allowed and need.sets == 2 and need.items == ("tensile_strength",)


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


def test_concrete_failure_is_not_retested() -> None:
    concrete = BOOK.materials["ready_mixed_concrete"]
    out = batch_outcome(concrete, 1, [original(Verdict.failed, failed=("compressive_28d",))])
    assert out.status is BatchStatus.rejected


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
        (["witness", "min_share"], 1.5, "share"),
        (["material", "rebar", "plan", "first"], 0, "greater than zero"),
        (["material", "rebar", "plan", "method"], "guess", "method"),
        (["material", "rebar", "items", "0", "unverified"], False, "unverified = true"),
        (["material", "rebar", "items", "0", "retest"], None, "retest"),
        (["material", "rebar", "items", "0", "min"], None, "min or a max"),
        (["material", "rebar", "items", "0", "source"], None, "source"),
        (["material", "cement_bulk", "items_from"], "nothing", "items_from"),
        (["material", "windows", "plan", "rate"], 5, "share"),
        (["timezone"], "Mars/Olympus", "timezone"),
    ],
)
def test_the_rules_file_is_checked(path: list[str], value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rulebook(_broken(path, value))
