"""Pure rules for material sampling: how many sample sets (and specimens) a batch needs, a sample's
verdict from its results and the limits, concrete and mortar lots judged as their standards do,
what a retest must cover, a batch's outcome, what a failed batch's disposition may be, and the
witness share. No database, no clock, no settings: everything is passed in. The numbers live in
rules.toml, read by rulebook.py.

原材料进场 → 取样 (见证取样 ≥ 30 %) → 送检 → 合格 | 不合格 → 双倍复验 → 合格 | 不合格 → 退场.
混凝土、砂浆试块 → 验收批评定 → 合格 | 不合格 → 实体检测 / 设计核算 → 验收 | 加固 | 拆除.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from inspection.messages import Message, t


class BatchStatus(StrEnum):
    awaiting_sampling = "awaiting_sampling"  # 待取样
    sampling = "sampling"  # 取样送检中 (or waiting for a retest)
    accepted = "accepted"  # 合格
    rejected = "rejected"  # 不合格: must leave the site (in the structure: must be tested in place)
    disposed = "disposed"  # 已退场 / 已销毁 (in the structure: 已拆除)
    # 已处理: a failed lot already in the structure (concrete, mortar) accepted after in-place
    # testing or the designer's check, or after strengthening (GB 50300-2013 §5.0.6)
    treated = "treated"


# Batches that still take samples and results.
OPEN_STATUSES = frozenset({BatchStatus.awaiting_sampling, BatchStatus.sampling})


class Verdict(StrEnum):
    pending = "pending"
    passed = "pass"
    failed = "fail"


class PlanMethod(StrEnum):
    per_quantity = "per_quantity"
    first_then_step = "first_then_step"
    concrete = "concrete"
    percentage = "percentage"


class DispositionKind(StrEnum):
    returned = "returned"  # 退场 (back to the supplier)
    destroyed = "destroyed"  # 销毁 on site
    # a failed lot already built in (concrete, mortar) cannot leave the site: it is examined
    in_place_testing = "in_place_testing"  # 实体检测: 回弹法 / 钻芯法 / 回弹-取芯法 (mortar: 原位检测)
    design_check = "design_check"  # 原设计单位核算


# what may be recorded for a batch that cannot leave the site, and what each means
IN_STRUCTURE_KINDS = frozenset({DispositionKind.in_place_testing, DispositionKind.design_check})


class Decision(StrEnum):
    """What follows an in-place test or a design check (GB 50300-2013 §5.0.6, §5.0.8)."""

    accepted = "accepted"  # 检测鉴定达到设计要求, or 经原设计单位核算满足安全和使用功能: 予以验收
    strengthened = "strengthened"  # 经返修或加固处理, 按技术处理方案和协商文件验收
    demolished = "demolished"  # 拆除重做: 加固后仍不能满足安全使用要求的, 严禁验收


class InPlaceMethod(StrEnum):
    rebound = "rebound"  # 回弹法 (JGJ/T 23)
    core = "core"  # 钻芯法 (JGJ/T 384)
    rebound_core = "rebound_core"  # 回弹-取芯法
    mortar_in_situ = "mortar_in_situ"  # 砂浆原位检测 (贯入法、推出法、筒压法 …, GB/T 50315)


# what the quantity column holds: Numeric(14, 3)
MAX_QUANTITY = Decimal(10) ** 11
QUANTITY_DECIMALS = 3
# an estimated strength (MPa) as the disposition's Numeric(10, 2) can hold, far above any concrete
MAX_STRENGTH = Decimal(1000)
CONFORM_UNIT = "conform"  # yes/no tests: 1 conforms, 0 does not
CONFIDENCES = frozenset({"V1", "V2", "V3", "M", "seed"})


@dataclass(frozen=True)
class Sourced:
    source: str
    confidence: str
    unverified: bool


@dataclass(frozen=True)
class TestItem:
    """One property the lab measures, with inclusive limits. A lot item (`by_lot`) has no limit of
    its own: its sets are judged together as an acceptance lot (concrete, mortar; see LotRule)."""

    __test__ = False  # not a pytest class, whatever its name

    code: str
    name: str
    unit: str
    min: Decimal | None
    max: Decimal | None
    retest: bool
    origin: Sourced
    by_lot: bool = False

    def passes(self, value: Decimal) -> bool:
        if self.min is not None and value < self.min:
            return False
        return not (self.max is not None and value > self.max)

    def limits_text(self) -> str:
        if self.by_lot:
            return "按验收批评定"
        if self.min is not None and self.max is not None:
            return f"{self.min}–{self.max} {self.unit}"
        if self.min is not None:
            return f"≥ {self.min} {self.unit}"
        return f"≤ {self.max} {self.unit}"


@dataclass(frozen=True)
class SpecimenGroup:
    """Specimens cut for some test items: `per_set` of them in every sample set (rebar: one tensile
    and one bend specimen per set), or a fixed `per_sample` whatever the sets (rebar weight
    deviation: at least 5 pieces weighed together, one result per sample)."""

    code: str
    name: str
    items: tuple[str, ...]
    per_set: int | None
    per_sample: int | None
    origin: Sourced


@dataclass(frozen=True)
class Plan:
    method: PlanMethod
    origin: Sourced
    max_per_set: Decimal | None = None
    first: Decimal | None = None
    first_sets: int = 1
    step: Decimal | None = None
    continuous_over: Decimal | None = None
    continuous_per_set: Decimal | None = None
    batches_per_set: int | None = None
    lot_size: int | None = None  # None: the whole batch is one lot
    rate: Decimal | None = None
    min_per_lot: int | None = None


@dataclass(frozen=True)
class LotRule:
    """An acceptance lot judged from all its sets together, by the grade's characteristic value f.

    gb50107 (concrete, GB/T 50107-2010 §5): below `statistical_from` sets the non-statistical method
    (mean ≥ λ3·f, minimum ≥ λ4·f, λ3 by grade), from it the statistical one (mean ≥ f + λ1·S,
    minimum ≥ λ2·f, S not below `sd_floor`, λ1 and λ2 by the number of sets).
    gb50203 (masonry mortar, GB 50203-2011 §4.0.12): mean ≥ `mean_factor`·f and the smallest set
    ≥ `min_factor`·f; a lot of at most `few_sets` sets: every set ≥ `mean_factor`·f."""

    method: str
    item: str
    grade_prefix: str
    grades: tuple[str, ...]
    origin: Sourced
    statistical_from: int = 10
    sd_floor: Decimal = Decimal("2.5")
    # (from this many sets, λ1, λ2), ascending
    statistical: tuple[tuple[int, Decimal, Decimal], ...] = ()
    # (from this grade value, λ3, λ4), ascending
    non_statistical: tuple[tuple[Decimal, Decimal, Decimal], ...] = ()
    mean_factor: Decimal = Decimal("1.10")
    min_factor: Decimal = Decimal("0.85")
    few_sets: int = 0

    def grade_value(self, grade: str) -> Decimal:
        """The characteristic value of a grade: C30 → 30, M7.5 → 7.5."""
        if grade not in self.grades:
            raise ValueError(f"grade {grade!r} is not one of {', '.join(self.grades)}")
        return Decimal(grade[len(self.grade_prefix) :])


@dataclass(frozen=True)
class MaterialRule:
    code: str
    name: str
    grade: str
    unit: str
    witness_required: bool
    witness_origin: Sourced
    specimens_per_set: int
    specimens_note: str
    plan: Plan
    retest_factor: int
    retest_origin: Sourced
    items: tuple[TestItem, ...]
    specimens: tuple[SpecimenGroup, ...] = ()
    lot: LotRule | None = None
    # a failed batch is already built in (cubes stand for concrete in the structure): it cannot
    # leave the site and takes the in-place testing route instead
    in_structure: bool = False

    def item(self, code: str) -> TestItem | None:
        return next((i for i in self.items if i.code == code), None)

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.items)

    @property
    def whole_units(self) -> bool:
        """Counted in pieces (windows): a quantity must be a whole number."""
        return self.plan.method is PlanMethod.percentage

    @property
    def once_items(self) -> frozenset[str]:
        """Items with one result per sample whatever its sets (a per_sample specimen group)."""
        return frozenset(c for g in self.specimens if g.per_sample is not None for c in g.items)

    def result_sets(self, item: str, sets: int) -> int:
        """How many results an item takes in a sample of `sets` sets."""
        return 1 if item in self.once_items else sets


@dataclass(frozen=True)
class RuleBook:
    materials: Mapping[str, MaterialRule]
    witness_min_share: Decimal
    witness_origin: Sourced
    timezone: tzinfo = UTC

    def material(self, code: str) -> MaterialRule | None:
        return self.materials.get(code)


# Sample sets a batch needs


def _ceil_div(a: Decimal, b: Decimal) -> int:
    return int((a / b).to_integral_value(rounding=ROUND_CEILING))


@dataclass(frozen=True)
class Portion:
    """Part of a concrete batch placed on one floor in one work shift (GB 50204 §7.4.1 counts
    samples per floor and per shift); `mixer_batches` (盘数) when known."""

    floor: str
    shift: str
    volume: Decimal
    mixer_batches: int | None = None


def portion_sets(plan: Plan, portion: Portion, large_continuous: bool) -> int:
    """GB 50204-2015 §7.4.1 for one floor and shift: at least one sample (items 2 and 4), one per
    100 batches and not over 100 m³ (item 1); in a continuous pour above 1000 m³ one per 200 m³
    instead (item 3, which GB/T 50107 applies to the whole volume)."""
    assert plan.max_per_set is not None
    if large_continuous:
        assert plan.continuous_per_set is not None
        return max(1, _ceil_div(portion.volume, plan.continuous_per_set))
    by_volume = _ceil_div(portion.volume, plan.max_per_set)
    by_batches = (
        _ceil_div(Decimal(portion.mixer_batches), Decimal(plan.batches_per_set))
        if portion.mixer_batches and plan.batches_per_set
        else 0
    )
    return max(1, by_volume, by_batches)


def is_large_continuous(plan: Plan, quantity: Decimal, continuous_pour: bool) -> bool:
    return bool(continuous_pour and plan.continuous_over is not None and quantity > plan.continuous_over)


def required_sets(
    rule: MaterialRule, quantity: Decimal, continuous_pour: bool = False, portions: Sequence[Portion] = ()
) -> int:
    """Sample sets a batch of `quantity` (in the rule's unit) needs; any part of a step counts whole."""
    plan = rule.plan
    if quantity <= 0:
        return 0
    if plan.method is PlanMethod.per_quantity:
        assert plan.max_per_set is not None
        return _ceil_div(quantity, plan.max_per_set)
    if plan.method is PlanMethod.first_then_step:
        # rebar: two sets (2 tensile + 2 bend specimens) cover the first 60 t, then one set (one
        # tensile + one bend specimen) per further 40 t or part
        assert plan.first is not None and plan.step is not None
        if quantity <= plan.first:
            return plan.first_sets
        return plan.first_sets + _ceil_div(quantity - plan.first, plan.step)
    if plan.method is PlanMethod.concrete:
        large = is_large_continuous(plan, quantity, continuous_pour)
        parts = portions or (Portion("", "", quantity),)
        return sum(portion_sets(plan, p, large) for p in parts)
    # percentage (windows): per lot of lot_size units, rate of the lot and at least min_per_lot
    assert plan.rate is not None and plan.min_per_lot is not None
    units = int(quantity.to_integral_value(rounding=ROUND_CEILING))
    size = plan.lot_size or units
    total = 0
    while units > 0:
        lot = min(units, size)
        total += min(lot, max(plan.min_per_lot, _ceil_div(Decimal(lot) * plan.rate, Decimal(1))))
        units -= lot
    return total


@dataclass(frozen=True)
class SpecimenCount:
    code: str
    name: str
    count: int
    items: tuple[str, ...]


def specimen_counts(rule: MaterialRule, sets: int) -> list[SpecimenCount]:
    """Specimens per test item group for `sets` sample sets (rebar 100 t, 3 sets: 3 tensile, 3 bend,
    5 weighed together). A material without groups counts its sets × specimens_per_set."""
    if not rule.specimens:
        return [SpecimenCount("set", "试件", sets * rule.specimens_per_set, rule.item_codes)]
    out = [
        SpecimenCount(g.code, g.name, g.per_sample if g.per_sample is not None else (g.per_set or 0) * sets, g.items)
        for g in rule.specimens
    ]
    grouped = {c for g in rule.specimens for c in g.items}
    rest = tuple(c for c in rule.item_codes if c not in grouped)
    if rest:
        out.append(SpecimenCount("set", "试件", sets * rule.specimens_per_set, rest))
    return out


def batch_problem(
    rule: MaterialRule,
    quantity: Decimal,
    unit: str,
    continuous_pour: bool,
    portions: Sequence[Portion] = (),
    grade: str = "",
) -> tuple[str, Message] | None:
    """(field, message) when a batch's quantity, unit, pour portions or grade cannot be accepted."""
    if not quantity.is_finite() or quantity <= 0:
        return "quantity", t("samples.quantity_must_greater_than_zero")
    if quantity >= MAX_QUANTITY:
        return "quantity", t("samples.quantity_must_below", MAX_QUANTITY=MAX_QUANTITY)
    if int(quantity.as_tuple().exponent) < -QUANTITY_DECIMALS:
        return "quantity", t("samples.give_quantity_at_most_decimals", QUANTITY_DECIMALS=QUANTITY_DECIMALS)
    if unit != rule.unit:
        return "unit", t("samples.counted_not", name=rule.name, unit=rule.unit, unit2=unit)
    if rule.whole_units and quantity != quantity.to_integral_value():
        return "quantity", t("samples.counted_whole_units", name=rule.name)
    if continuous_pour and rule.plan.method is not PlanMethod.concrete:
        return "continuous_pour", t("samples.only_concrete_has_continuous_pour_rule")
    if portions:
        if rule.plan.method is not PlanMethod.concrete:
            return "portions", t("samples.only_concrete_sampled_per_floor_work")
        seen: set[tuple[str, str]] = set()
        for i, p in enumerate(portions):
            if not p.volume.is_finite() or p.volume <= 0:
                return f"portions[{i}].volume", t("samples.portion_s_volume_must_greater_than")
            if p.volume >= MAX_QUANTITY:
                return f"portions[{i}].volume", t("samples.portion_s_volume_must_below", MAX_QUANTITY=MAX_QUANTITY)
            if int(p.volume.as_tuple().exponent) < -QUANTITY_DECIMALS:
                return f"portions[{i}].volume", t(
                    "samples.give_volume_at_most_decimals", QUANTITY_DECIMALS=QUANTITY_DECIMALS
                )
            if (p.floor, p.shift) in seen:
                return f"portions[{i}]", t("samples.floor_shift_listed_twice_give_once", floor=p.floor, shift=p.shift)
            seen.add((p.floor, p.shift))
        total = sum((p.volume for p in portions), Decimal(0))
        if total != quantity:
            return "portions", t("samples.portions_add_up_batch", total=total, unit=rule.unit, quantity=quantity)
    if rule.lot is not None and grade and grade not in rule.lot.grades:
        return "strength_grade", t("samples.grade_must_one", name=rule.name, items=", ".join(rule.lot.grades))
    if rule.lot is None and grade:
        return "strength_grade", t("samples.has_no_strength_grade_judge_lot", name=rule.name)
    return None


# Verdicts


@dataclass(frozen=True)
class ResultFact:
    item: str
    set_no: int
    passed: bool


def sample_verdict(
    items: Sequence[str], sets: int, results: Iterable[ResultFact], once: frozenset[str] = frozenset()
) -> Verdict:
    """Pending until every item of every set has a result (an item in `once`: one result for the
    sample); then fail if any result fails."""
    by_key = {(r.item, r.set_no): r.passed for r in results}
    expected = [(code, n) for code in items for n in range(1, (1 if code in once else sets) + 1)]
    if any(key not in by_key for key in expected):
        return Verdict.pending
    return Verdict.passed if all(by_key.values()) else Verdict.failed


def failed_items(items: Sequence[str], results: Iterable[ResultFact]) -> list[str]:
    """The items with at least one failed result, in the material's order."""
    failed = {r.item for r in results if not r.passed}
    return [code for code in items if code in failed]


@dataclass(frozen=True)
class RetestNeed:
    allowed: bool
    sets: int  # twice the original sets (by the rule's factor)
    items: tuple[str, ...]  # the failed items, the only ones the retest covers
    never_retested: tuple[str, ...] = ()  # failed items the rule forbids retesting


def retest_need(rule: MaterialRule, failed: Sequence[str], original_sets: int) -> RetestNeed:
    """What a failed sample requires: a retest of factor × its sets on the failed items, unless one
    of them may never be retested (rebar weight deviation), which rejects the batch at once. A
    retest covers only the failed items, so doubling the sets doubles the specimens of those
    items alone (rebar: 3 tensile specimens failed → 6 tensile specimens, no bend specimens)."""
    forbidden = tuple(code for code in failed if (item := rule.item(code)) is None or not item.retest)
    return RetestNeed(
        allowed=bool(failed) and not forbidden,
        sets=rule.retest_factor * original_sets,
        items=tuple(failed),
        never_retested=forbidden,
    )


# Acceptance lots (concrete GB/T 50107, mortar GB 50203)


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


def _k(factor: Decimal) -> str:
    """A coefficient as the standard prints it: 1.10, 0.85, 1.15."""
    return f"{factor:.2f}"


def set_minimum(lot: LotRule, grade_value: Decimal, sets: int) -> Decimal:
    """The least a single set may show in a lot of `sets` sets (the lot's minimum condition)."""
    if lot.method == "gb50203":
        factor = lot.mean_factor if sets <= lot.few_sets else lot.min_factor
        return factor * grade_value
    if sets >= lot.statistical_from:
        _, _, lambda2 = _row(lot.statistical, sets)
        return lambda2 * grade_value
    _, _, lambda4 = _row(lot.non_statistical, grade_value)
    return lambda4 * grade_value


def _row(rows: Sequence[tuple[Any, Decimal, Decimal]], key: Decimal | int) -> tuple[Any, Decimal, Decimal]:
    chosen = rows[0]
    for row in rows:
        if key >= row[0]:
            chosen = row
    return chosen


@dataclass(frozen=True)
class LotVerdict:
    method: str  # statistical | non_statistical | mortar
    sets: int
    mean: Decimal
    minimum: Decimal
    sd: Decimal | None  # the S used (raised to the floor); statistical method only
    mean_required: Decimal
    minimum_required: Decimal
    passed: bool
    reasons: tuple[str, ...]  # each failed condition, in words and numbers
    clause: str

    def describe(self) -> str:
        name = {"statistical": "统计方法", "non_statistical": "非统计方法", "mortar": "砂浆验收批"}[self.method]
        head = f"{self.clause} {name}（{self.sets} 组）：平均值 {_fmt(self.mean)} MPa，最小值 {_fmt(self.minimum)} MPa"
        if self.sd is not None:
            head += f"，标准差 {_fmt(self.sd)} MPa"
        return head + ("；合格" if self.passed else "；不合格：" + "；".join(self.reasons))


def _sd(values: Sequence[Decimal], mean: Decimal) -> Decimal:
    n = len(values)
    variance = (sum((v * v for v in values), Decimal(0)) - n * mean * mean) / (n - 1)
    return max(variance, Decimal(0)).sqrt()


def evaluate_lot(lot: LotRule, grade_value: Decimal, values: Sequence[Decimal]) -> LotVerdict:
    """Judge an acceptance lot from its sets' strengths (each a set's representative value, MPa).
    Exact decimals; the reasons quote the numbers compared."""
    if not values:
        raise ValueError("a lot needs at least one set")
    n = len(values)
    mean = sum(values, Decimal(0)) / n
    minimum = min(values)
    reasons: list[str] = []
    if lot.method == "gb50203":
        if n <= lot.few_sets:
            need_min = lot.mean_factor * grade_value
            need_mean = need_min
            if minimum < need_min:
                reasons.append(
                    f"仅 {n} 组时每组 ≥ {_k(lot.mean_factor)} f2 = {_fmt(need_min)}，最小一组 {_fmt(minimum)}"
                )
        else:
            need_mean = lot.mean_factor * grade_value
            need_min = lot.min_factor * grade_value
            if mean < need_mean:
                reasons.append(f"平均值 {_fmt(mean)} < {_k(lot.mean_factor)} f2 = {_fmt(need_mean)}")
            if minimum < need_min:
                reasons.append(f"最小一组 {_fmt(minimum)} < {_k(lot.min_factor)} f2 = {_fmt(need_min)}")
        return LotVerdict(
            "mortar", n, mean, minimum, None, need_mean, need_min, not reasons, tuple(reasons), reasons_clause(lot)
        )
    if n >= lot.statistical_from:
        _, lambda1, lambda2 = _row(lot.statistical, n)
        sd = max(_sd(values, mean), lot.sd_floor)
        need_mean = grade_value + lambda1 * sd
        need_min = lambda2 * grade_value
        if mean < need_mean:
            reasons.append(f"平均值 {_fmt(mean)} < fcu,k + {_k(lambda1)} × S = {_fmt(need_mean)}")
        if minimum < need_min:
            reasons.append(f"最小值 {_fmt(minimum)} < {_k(lambda2)} fcu,k = {_fmt(need_min)}")
        return LotVerdict(
            "statistical", n, mean, minimum, sd, need_mean, need_min, not reasons, tuple(reasons), reasons_clause(lot)
        )
    _, lambda3, lambda4 = _row(lot.non_statistical, grade_value)
    need_mean = lambda3 * grade_value
    need_min = lambda4 * grade_value
    if mean < need_mean:
        reasons.append(f"平均值 {_fmt(mean)} < {_k(lambda3)} fcu,k = {_fmt(need_mean)}")
    if minimum < need_min:
        reasons.append(f"最小值 {_fmt(minimum)} < {_k(lambda4)} fcu,k = {_fmt(need_min)}")
    return LotVerdict(
        "non_statistical", n, mean, minimum, None, need_mean, need_min, not reasons, tuple(reasons), reasons_clause(lot)
    )


def reasons_clause(lot: LotRule) -> str:
    return "GB 50203-2011 §4.0.12" if lot.method == "gb50203" else "GB/T 50107-2010 §5"


# Batch outcome


@dataclass(frozen=True)
class SampleFacts:
    id: UUID
    sets: int
    is_retest: bool
    retest_of: UUID | None
    verdict: Verdict
    failed: tuple[str, ...] = ()
    witnessed: bool = False
    # the lot item's values, one per set (concrete and mortar cubes)
    lot_values: tuple[Decimal, ...] = ()


@dataclass(frozen=True)
class Outcome:
    status: BatchStatus
    reason: str
    deciding_sample: UUID | None = None  # the sample whose result rejected the batch
    lot: LotVerdict | None = None  # how the lot was judged (concrete, mortar)


def batch_outcome(
    rule: MaterialRule, required: int, samples: Sequence[SampleFacts], grade_value: Decimal | None = None
) -> Outcome:
    """Where a batch stands from its samples: untouched, still sampling (sets missing, results or a
    retest outstanding), accepted (every required set taken and every failure cleared by a passing
    retest) or rejected (a failure that may not be retested, or a failed retest). A material
    judged by lot (concrete, mortar) is decided once every required set has its result, from all
    its sets together: a set below the single-set limit does not decide alone, and a lot whose
    every set passes can still fail on its mean."""
    if not samples:
        return Outcome(BatchStatus.awaiting_sampling, "no sample taken yet")
    lot_item = rule.lot.item if rule.lot is not None else None
    originals = [s for s in samples if not s.is_retest]
    retests: dict[UUID, list[SampleFacts]] = {}
    for s in samples:
        if s.is_retest and s.retest_of is not None:
            retests.setdefault(s.retest_of, []).append(s)

    def failed_of(s: SampleFacts) -> tuple[str, ...]:
        return tuple(c for c in s.failed if c != lot_item)

    for o in originals:
        if o.verdict is not Verdict.failed or not failed_of(o):
            continue
        need = retest_need(rule, failed_of(o), o.sets)
        if not need.allowed:
            never = ", ".join(need.never_retested)
            return Outcome(BatchStatus.rejected, f"{never} failed and may not be retested", o.id)
        for r in retests.get(o.id, []):
            if r.verdict is Verdict.failed:
                return Outcome(BatchStatus.rejected, f"the retest of {', '.join(r.failed)} failed", r.id)
    taken = sum(o.sets for o in originals)
    if taken < required:
        return Outcome(BatchStatus.sampling, f"{required - taken} of {required} sample set(s) still to take")
    for o in originals:
        if o.verdict is Verdict.pending:
            return Outcome(BatchStatus.sampling, "results outstanding")
        if o.verdict is Verdict.failed and failed_of(o):
            need = retest_need(rule, failed_of(o), o.sets)
            done = retests.get(o.id, [])
            if any(r.verdict is Verdict.pending for r in done):
                return Outcome(BatchStatus.sampling, "retest results outstanding")
            if sum(r.sets for r in done) < need.sets:
                items = ", ".join(need.items)
                return Outcome(BatchStatus.sampling, f"a retest of {need.sets} set(s) on {items} is due")
    if rule.lot is not None:
        if grade_value is None:
            raise ValueError("a lot needs the batch's strength grade")
        values = [v for o in originals for v in o.lot_values]
        verdict = evaluate_lot(rule.lot, grade_value, values)
        status = BatchStatus.accepted if verdict.passed else BatchStatus.rejected
        return Outcome(status, verdict.describe(), None, verdict)
    return Outcome(BatchStatus.accepted, "every required set passed")


# In-structure dispositions


def disposition_problem(
    rule: MaterialRule,
    kind: DispositionKind,
    decision: Decision | None,
    method: InPlaceMethod | None,
    estimated_strength: Decimal | None,
    grade_value: Decimal | None,
) -> tuple[str, Message] | None:
    """(field, message) when a disposition does not fit the batch: a batch in the structure is
    tested in place or checked by its designer and then decided on, never returned or destroyed;
    other batches leave the site. Acceptance on an in-place test needs the estimated strength to
    reach the grade (GB 50300-2013 §5.0.6 item 2); below it, only the designer's check, repair or
    strengthening, or demolition remain (items 3 and 4, §5.0.8)."""
    if not rule.in_structure:
        if kind in IN_STRUCTURE_KINDS:
            return "kind", t("samples.leaves_site_returned_destroyed", name=rule.name)
        if decision is not None or method is not None or estimated_strength is not None:
            return "decision", t("samples.returned_destroyed_batch_carries_no_decision")
        return None
    if kind not in IN_STRUCTURE_KINDS:
        return "kind", (t("samples.already_structure_cannot_returned_destroyed_record", name=rule.name))
    if decision is None:
        return "decision", t("samples.say_what_was_decided_accepted_strengthened")
    if estimated_strength is not None and not (
        estimated_strength.is_finite() and 0 < estimated_strength < MAX_STRENGTH
    ):
        return "estimated_strength", t("samples.estimated_strength_number_mpa_above_0", MAX_STRENGTH=MAX_STRENGTH)
    if kind is DispositionKind.in_place_testing:
        if method is None:
            return "method", t("samples.name_place_method_rebound_core_rebound")
        if decision is Decision.accepted:
            if estimated_strength is None:
                return "estimated_strength", t("samples.acceptance_place_test_needs_estimated_strength")
            if grade_value is not None and estimated_strength < grade_value:
                return "decision", (
                    t(
                        "samples.estimated_strength_mpa_below_grade_s",
                        estimated_strength=estimated_strength,
                        grade_value=grade_value,
                    )
                )
    elif method is not None:
        return "method", t("samples.design_check_has_no_place_method")
    return None


# Witnessing


@dataclass(frozen=True)
class WitnessCheck:
    required: int
    witnessed: int
    needed: int  # at least min_share of required, rounded up
    ratio: float | None
    shortfall: int

    @property
    def met(self) -> bool:
        return self.shortfall == 0


def witness_check(required: int, witnessed: int, min_share: Decimal, witness_required: bool = True) -> WitnessCheck:
    """Witnessed sets against the share of required sets (建建〔2000〕211号: ≥ 30 %)."""
    needed = int((Decimal(required) * min_share).to_integral_value(rounding=ROUND_CEILING)) if witness_required else 0
    ratio = round(witnessed / required, 4) if required else None
    return WitnessCheck(required, witnessed, needed, ratio, max(0, needed - witnessed))


@dataclass(frozen=True)
class PlanSummary:
    """A batch's sampling plan: what it needs, what is taken, what is still missing."""

    required: int
    taken: int
    witnessed: int
    retests: tuple[tuple[UUID, RetestNeed, int], ...] = field(default=())  # (failed sample, need, sets taken)

    @property
    def missing(self) -> int:
        return max(0, self.required - self.taken)


def plan_summary(rule: MaterialRule, required: int, samples: Sequence[SampleFacts]) -> PlanSummary:
    lot_item = rule.lot.item if rule.lot is not None else None
    originals = [s for s in samples if not s.is_retest]
    retests: list[tuple[UUID, RetestNeed, int]] = []
    for o in originals:
        failed = tuple(c for c in o.failed if c != lot_item)
        if o.verdict is Verdict.failed and failed:
            taken = sum(s.sets for s in samples if s.is_retest and s.retest_of == o.id)
            retests.append((o.id, retest_need(rule, failed, o.sets), taken))
    return PlanSummary(
        required=required,
        taken=sum(o.sets for o in originals),
        witnessed=sum(o.sets for o in originals if o.witnessed),
        retests=tuple(retests),
    )
