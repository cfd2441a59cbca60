"""Pure rules for material sampling: how many sample sets a batch needs, a sample's verdict from its
results and the limits, what a retest must cover, a batch's outcome, and the witness share. No
database, no clock, no settings: everything is passed in. The numbers live in rules.toml.

原材料进场 → 取样 (见证取样 ≥ 30 %) → 送检 → 合格 | 不合格 → 双倍复验 → 合格 | 不合格 → 退场.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class BatchStatus(StrEnum):
    awaiting_sampling = "awaiting_sampling"  # 待取样
    sampling = "sampling"  # 取样送检中 (or waiting for a retest)
    accepted = "accepted"  # 合格
    rejected = "rejected"  # 不合格: must leave the site
    disposed = "disposed"  # 已退场 / 已销毁


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


# what the quantity column holds: Numeric(14, 3)
MAX_QUANTITY = Decimal(10) ** 11
QUANTITY_DECIMALS = 3
CONFORM_UNIT = "conform"  # yes/no tests: 1 conforms, 0 does not
CONFIDENCES = frozenset({"V1", "V2", "V3", "M", "seed"})


@dataclass(frozen=True)
class Sourced:
    source: str
    confidence: str
    unverified: bool


@dataclass(frozen=True)
class TestItem:
    """One property the lab measures, with inclusive limits."""

    __test__ = False  # not a pytest class, whatever its name

    code: str
    name: str
    unit: str
    min: Decimal | None
    max: Decimal | None
    retest: bool
    origin: Sourced

    def passes(self, value: Decimal) -> bool:
        if self.min is not None and value < self.min:
            return False
        return not (self.max is not None and value > self.max)

    def limits_text(self) -> str:
        if self.min is not None and self.max is not None:
            return f"{self.min}–{self.max} {self.unit}"
        if self.min is not None:
            return f"≥ {self.min} {self.unit}"
        return f"≤ {self.max} {self.unit}"


@dataclass(frozen=True)
class Plan:
    method: PlanMethod
    origin: Sourced
    max_per_set: Decimal | None = None
    first: Decimal | None = None
    step: Decimal | None = None
    continuous_over: Decimal | None = None
    continuous_per_set: Decimal | None = None
    lot_size: int | None = None
    rate: Decimal | None = None
    min_per_lot: int | None = None


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

    def item(self, code: str) -> TestItem | None:
        return next((i for i in self.items if i.code == code), None)

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.items)

    @property
    def whole_units(self) -> bool:
        """Counted in pieces (windows): a quantity must be a whole number."""
        return self.plan.method is PlanMethod.percentage


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


def required_sets(rule: MaterialRule, quantity: Decimal, continuous_pour: bool = False) -> int:
    """Sample sets a batch of `quantity` (in the rule's unit) needs; any part of a step counts whole."""
    plan = rule.plan
    if quantity <= 0:
        return 0
    if plan.method is PlanMethod.per_quantity:
        assert plan.max_per_set is not None
        return _ceil_div(quantity, plan.max_per_set)
    if plan.method is PlanMethod.first_then_step:
        # rebar: one set covers the first 60 t, then one more per further 40 t or part
        assert plan.first is not None and plan.step is not None
        if quantity <= plan.first:
            return 1
        return 1 + _ceil_div(quantity - plan.first, plan.step)
    if plan.method is PlanMethod.concrete:
        assert plan.max_per_set is not None
        if continuous_pour and plan.continuous_over is not None and quantity > plan.continuous_over:
            # GB/T 50107: over the whole volume, not only the part above 1000 m³
            assert plan.continuous_per_set is not None
            return _ceil_div(quantity, plan.continuous_per_set)
        return _ceil_div(quantity, plan.max_per_set)
    # percentage (windows): per lot of lot_size units, rate of the lot and at least min_per_lot
    assert plan.lot_size is not None and plan.rate is not None and plan.min_per_lot is not None
    units = int(quantity.to_integral_value(rounding=ROUND_CEILING))
    total = 0
    while units > 0:
        lot = min(units, plan.lot_size)
        total += min(lot, max(plan.min_per_lot, _ceil_div(Decimal(lot) * plan.rate, Decimal(1))))
        units -= lot
    return total


def batch_problem(rule: MaterialRule, quantity: Decimal, unit: str, continuous_pour: bool) -> tuple[str, str] | None:
    """(field, message) when a batch's quantity or unit cannot be accepted for this material."""
    if not quantity.is_finite() or quantity <= 0:
        return "quantity", "the quantity must be greater than zero"
    if quantity >= MAX_QUANTITY:
        return "quantity", f"the quantity must be below {MAX_QUANTITY}"
    if int(quantity.as_tuple().exponent) < -QUANTITY_DECIMALS:
        return "quantity", f"give the quantity with at most {QUANTITY_DECIMALS} decimals"
    if unit != rule.unit:
        return "unit", f"{rule.name} is counted in {rule.unit!r}, not {unit!r}"
    if rule.whole_units and quantity != quantity.to_integral_value():
        return "quantity", f"{rule.name} is counted in whole units"
    if continuous_pour and rule.plan.method is not PlanMethod.concrete:
        return "continuous_pour", "only concrete has a continuous-pour rule"
    return None


# Verdicts


@dataclass(frozen=True)
class ResultFact:
    item: str
    set_no: int
    passed: bool


def sample_verdict(items: Sequence[str], sets: int, results: Iterable[ResultFact]) -> Verdict:
    """Pending until every item of every set has a result; then fail if any result fails."""
    by_key = {(r.item, r.set_no): r.passed for r in results}
    if any((code, n) not in by_key for code in items for n in range(1, sets + 1)):
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
    of them may never be retested (rebar weight deviation), which rejects the batch at once."""
    forbidden = tuple(code for code in failed if (item := rule.item(code)) is None or not item.retest)
    return RetestNeed(
        allowed=bool(failed) and not forbidden,
        sets=rule.retest_factor * original_sets,
        items=tuple(failed),
        never_retested=forbidden,
    )


@dataclass(frozen=True)
class SampleFacts:
    id: UUID
    sets: int
    is_retest: bool
    retest_of: UUID | None
    verdict: Verdict
    failed: tuple[str, ...] = ()
    witnessed: bool = False


@dataclass(frozen=True)
class Outcome:
    status: BatchStatus
    reason: str
    deciding_sample: UUID | None = None  # the sample whose result rejected the batch


def batch_outcome(rule: MaterialRule, required: int, samples: Sequence[SampleFacts]) -> Outcome:
    """Where a batch stands from its samples: untouched, still sampling (sets missing, results or a
    retest outstanding), accepted (every required set taken and every failure cleared by a passing
    retest) or rejected (a failure that may not be retested, or a failed retest)."""
    if not samples:
        return Outcome(BatchStatus.awaiting_sampling, "no sample taken yet")
    originals = [s for s in samples if not s.is_retest]
    retests: dict[UUID, list[SampleFacts]] = {}
    for s in samples:
        if s.is_retest and s.retest_of is not None:
            retests.setdefault(s.retest_of, []).append(s)
    for o in originals:
        if o.verdict is not Verdict.failed:
            continue
        need = retest_need(rule, o.failed, o.sets)
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
        if o.verdict is Verdict.failed:
            need = retest_need(rule, o.failed, o.sets)
            done = retests.get(o.id, [])
            if any(r.verdict is Verdict.pending for r in done):
                return Outcome(BatchStatus.sampling, "retest results outstanding")
            if sum(r.sets for r in done) < need.sets:
                items = ", ".join(need.items)
                return Outcome(BatchStatus.sampling, f"a retest of {need.sets} set(s) on {items} is due")
    return Outcome(BatchStatus.accepted, "every required set passed")


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


# The rules file


def _dec(value: Any, where: str) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{where} must be a number")
    try:
        # through str, so 0.1 in TOML stays 0.1 and not its binary neighbour
        out = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{where} must be a number") from None
    if not out.is_finite():
        raise ValueError(f"{where} must be a finite number")
    return out


def _sourced(entry: Mapping[str, Any], where: str, prefix: str = "") -> Sourced:
    source = str(entry.get(f"{prefix}source", "")).strip()
    confidence = str(entry.get(f"{prefix}confidence", "")).strip()
    unverified = bool(entry.get(f"{prefix}unverified", False))
    if not source:
        raise ValueError(f"{where} has no {prefix}source")
    if confidence not in CONFIDENCES:
        raise ValueError(f"{where} {prefix}confidence must be one of {sorted(CONFIDENCES)}")
    if confidence == "M" and not unverified:
        raise ValueError(f"{where} is of confidence M and must say {prefix}unverified = true")
    return Sourced(source, confidence, unverified)


def _positive(entry: Mapping[str, Any], key: str, where: str) -> Decimal:
    if key not in entry:
        raise ValueError(f"{where} needs {key}")
    value = _dec(entry[key], f"{where}.{key}")
    if value <= 0:
        raise ValueError(f"{where}.{key} must be greater than zero")
    return value


def _plan(entry: Mapping[str, Any], where: str) -> Plan:
    try:
        method = PlanMethod(entry.get("method", ""))
    except ValueError:
        raise ValueError(f"{where}.method must be one of {[m.value for m in PlanMethod]}") from None
    origin = _sourced(entry, where)
    if method is PlanMethod.per_quantity:
        return Plan(method, origin, max_per_set=_positive(entry, "max_per_set", where))
    if method is PlanMethod.first_then_step:
        return Plan(method, origin, first=_positive(entry, "first", where), step=_positive(entry, "step", where))
    if method is PlanMethod.concrete:
        return Plan(
            method,
            origin,
            max_per_set=_positive(entry, "max_per_set", where),
            continuous_over=_positive(entry, "continuous_over", where),
            continuous_per_set=_positive(entry, "continuous_per_set", where),
        )
    rate = _positive(entry, "rate", where)
    if rate > 1:
        raise ValueError(f"{where}.rate is a share (0–1)")
    return Plan(
        method,
        origin,
        lot_size=int(_positive(entry, "lot_size", where)),
        rate=rate,
        min_per_lot=int(_positive(entry, "min_per_lot", where)),
    )


def _items(entries: Sequence[Mapping[str, Any]], where: str) -> tuple[TestItem, ...]:
    items: list[TestItem] = []
    for i, e in enumerate(entries):
        at = f"{where}.items[{i}]"
        code = str(e.get("code", "")).strip()
        if not code:
            raise ValueError(f"{at} needs a code")
        if any(x.code == code for x in items):
            raise ValueError(f"{where} has test item {code!r} twice")
        low = _dec(e["min"], f"{at}.min") if "min" in e else None
        high = _dec(e["max"], f"{at}.max") if "max" in e else None
        if low is None and high is None:
            raise ValueError(f"{at} ({code}) needs a min or a max")
        if low is not None and high is not None and low > high:
            raise ValueError(f"{at} ({code}) has min above max")
        if "retest" not in e:
            raise ValueError(f"{at} ({code}) must say whether it may be retested (retest = true|false)")
        items.append(
            TestItem(
                code=code,
                name=str(e.get("name", code)),
                unit=str(e.get("unit", "")),
                min=low,
                max=high,
                retest=bool(e["retest"]),
                origin=_sourced(e, f"{at} ({code})"),
            )
        )
    if not items:
        raise ValueError(f"{where} has no test items")
    return tuple(items)


def parse_rulebook(data: Mapping[str, Any]) -> RuleBook:
    """Build the rule book from rules.toml's parsed content; ValueError names what is wrong."""
    witness = data.get("witness")
    if not isinstance(witness, Mapping):
        raise ValueError("rules.toml has no [witness] table")
    share = _positive(witness, "min_share", "[witness]")
    if share > 1:
        raise ValueError("[witness].min_share is a share (0–1)")
    raw = data.get("material")
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError("rules.toml has no [material.*] tables")
    materials: dict[str, MaterialRule] = {}
    # materials that borrow another's test items come after the ones they borrow from
    for code in sorted(raw, key=lambda c: "items_from" in raw[c]):
        m = raw[code]
        where = f"[material.{code}]"
        if "items_from" in m:
            source = materials.get(str(m["items_from"]))
            if source is None:
                raise ValueError(f"{where}.items_from names no material with its own items")
            items = source.items
        else:
            items = _items(m.get("items", []), where)
        for key in ("unit", "name", "plan", "retest"):
            if key not in m:
                raise ValueError(f"{where} needs {key}")
        factor = int(_positive(m["retest"], "factor", f"{where}.retest"))
        materials[code] = MaterialRule(
            code=code,
            name=str(m["name"]),
            grade=str(m.get("grade", "")),
            unit=str(m["unit"]),
            witness_required=bool(m.get("witness_required", False)),
            witness_origin=_sourced(m, where, "witness_"),
            specimens_per_set=int(_positive(m, "specimens_per_set", where)),
            specimens_note=str(m.get("specimens_note", "")),
            plan=_plan(m["plan"], f"{where}.plan"),
            retest_factor=factor,
            retest_origin=_sourced(m["retest"], f"{where}.retest"),
            items=items,
        )
    try:
        tz = ZoneInfo(str(data.get("timezone", "Asia/Shanghai")))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("timezone must be an IANA name such as Asia/Shanghai") from None
    return RuleBook(
        materials=dict(sorted(materials.items())),
        witness_min_share=share,
        witness_origin=_sourced(witness, "[witness]"),
        timezone=tz,
    )


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
    originals = [s for s in samples if not s.is_retest]
    retests: list[tuple[UUID, RetestNeed, int]] = []
    for o in originals:
        if o.verdict is Verdict.failed:
            taken = sum(s.sets for s in samples if s.is_retest and s.retest_of == o.id)
            retests.append((o.id, retest_need(rule, o.failed, o.sets), taken))
    return PlanSummary(
        required=required,
        taken=sum(o.sets for o in originals),
        witnessed=sum(o.sets for o in originals if o.witnessed),
        retests=tuple(retests),
    )
