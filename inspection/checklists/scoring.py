"""Pure scoring: JGJ 59-2011 safety sub-tables and summary, GB 50300-2013 inspection lots, and
pass/fail lists. Plain data in, plain data out; no database, clock or settings.

Fractions keep the arithmetic exact, so a score of exactly 80 is 优良 and never 79.999….
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from inspection.checklists.templates import Item, Template, visible_items
from inspection.messages import Message, t

RULES_FILE = Path(__file__).with_name("rules.toml")

EXCELLENT, PASSED, FAILED = "优良", "合格", "不合格"


@lru_cache(maxsize=1)
def rule_data() -> dict[str, Any]:
    return tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))


# 检验批容量超出表 3.0.9: the standard gives no sample size there; the lot must be split
LOT_TOO_LARGE = t("checklists.lot_too_large")


class LotCapacityError(ValueError):
    """A lot larger than the sampling table covers (GB 50300 table 3.0.9's last row is 3,200, a trade
    code's own lot size may be smaller): refused with the message, never scored without its sample."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Deduction:
    """One deduction an inspector found (JGJ 59): its reason and points, `count` times (per place,
    per person)."""

    reason: str
    points: float
    count: int = 1

    @property
    def total(self) -> float:
        return self.points * self.count


@dataclass(frozen=True)
class Answer:
    """One item's answer as the rules see it."""

    item_code: str
    value: str = ""  # pass | fail | na (pass_fail), yes | no (yes_no), na for a deduction item not applicable
    # the points taken off as entered (the sum of `deductions` when itemised); never capped here
    deduction: float | None = None
    measured: tuple[float, ...] = ()
    checked: int | None = None
    passed: int | None = None
    text: str = ""
    flagged: bool = False
    # GB 50300 §5.0.1: the inspector found a serious defect (严重缺陷) on this item
    serious_defect: bool = False
    deductions: tuple[Deduction, ...] = ()


@dataclass(frozen=True)
class ItemResult:
    code: str
    result: str  # pass | fail | na | info
    score: float | None = None
    points: float = 0.0
    serious: bool = False
    reason: str = ""
    # JGJ 59: the points taken off as entered, before the cap at the item's points
    entered: float | None = None


@dataclass
class Score:
    kind: str
    items: dict[str, ItemResult]
    total: float | None  # sub-table score (safety), pass rate of general points (quality), None (passfail)
    grade: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return [c for c, r in self.items.items() if r.result == "fail"]

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "total": self.total,
            "grade": self.grade,
            "details": self.details,
            "items": {
                c: {
                    "result": r.result,
                    "score": r.score,
                    "points": r.points,
                    "serious": r.serious,
                    "reason": r.reason,
                    **({"entered": r.entered} if r.entered is not None else {}),
                }
                for c, r in self.items.items()
            },
        }


def _r(value: Fraction) -> float:
    return round(float(value), 2)


# JGJ 59-2011


def jgj59_subtable(template: Template, answers: Mapping[str, Answer]) -> Score:
    """One sub-table (检查评分表): deduction per item capped at its points; 缺项 (not applicable, or
    hidden by a condition) converts the sub-table proportionally; the sub-table scores 0 when a
    guarantee item scores 0 or the guarantee subtotal, converted to the guarantee total, is below 40."""
    values = {c: a.value for c, a in answers.items()}
    shown = visible_items(template, values)
    results: dict[str, ItemResult] = {}
    obtained = available = Fraction(0)
    g_obtained = g_available = Fraction(0)
    zero_guarantee: list[str] = []
    for item in template.items:
        if not item.scored:
            results[item.code] = ItemResult(item.code, "info")
            continue
        answer = answers.get(item.code)
        if item.code not in shown or (answer is not None and answer.value == "na"):
            results[item.code] = ItemResult(item.code, "na", None, item.points)
            continue
        points = Fraction(item.points)
        entered = _entered(answer)
        taken = min(entered, points)  # the record keeps what was found; the item never goes below 0
        score = points - taken
        results[item.code] = ItemResult(
            item.code,
            "fail" if taken > 0 else "pass",
            _r(score),
            item.points,
            reason=_deduction_reason(answer, entered, points),
            entered=_r(entered) if answer is not None and answer.deduction is not None else None,
        )
        obtained += score
        available += points
        if item.cls == "guarantee":
            g_obtained += score
            g_available += points
            if score == 0:
                zero_guarantee.append(item.code)
    full = Fraction(template.scoring.get("guarantee_full", 0))
    minimum = Fraction(template.scoring.get("guarantee_min", 0))
    converted = g_obtained * full / g_available if g_available else None
    zeroed = ""
    if zero_guarantee:
        zeroed = f"保证项目 {', '.join(zero_guarantee)} 得 0 分"
    elif converted is not None and full and converted < minimum:
        zeroed = f"保证项目小计 {_r(converted)} 分(折算后)不足 {minimum} 分"
    if available == 0:
        total: Fraction | None = None
    elif zeroed:
        total = Fraction(0)
    else:
        total = obtained * 100 / available
    details = {
        "group": template.scoring.get("group"),
        "obtained": _r(obtained),
        "available": _r(available),
        "guarantee_obtained": _r(g_obtained),
        "guarantee_available": _r(g_available),
        "guarantee_converted": None if converted is None else _r(converted),
        "zeroed": zeroed,
    }
    grade = "" if total is None else _grade(total, [total])
    return Score("safety", results, None if total is None else _r(total), grade, details)


def _entered(answer: Answer | None) -> Fraction:
    """The points taken off as the inspector entered them: the itemised deductions' sum when there
    are any, else the plain figure. Exact: 0.1 + 0.2 is 3/10."""
    if answer is None:
        return Fraction(0)
    if answer.deductions:
        return sum((Fraction(str(d.points)) * d.count for d in answer.deductions), Fraction(0))
    if answer.deduction is None:
        return Fraction(0)
    return max(Fraction(str(answer.deduction)), Fraction(0))


def _deduction_reason(answer: Answer | None, entered: Fraction, points: Fraction) -> str:
    """Why the item lost points, in words: each finding with its points, and the cap when the
    findings add up to more than the item is worth (JGJ 59: 扣减分数不得超过该项应得分数)."""
    if not entered:
        return ""
    parts = [
        f"{d.reason}（{_num(Fraction(str(d.points)))} 分" + (f" × {d.count}" if d.count > 1 else "") + "）"
        for d in (answer.deductions if answer else ())
    ]
    text = "；".join(parts) if parts else "扣分"
    if entered > points:
        text += f"；合计扣 {_num(entered)} 分，按本项应得 {_num(points)} 分封顶"
    return text


def _num(value: Fraction) -> str:
    return f"{float(value):g}"


def _grade(total: Fraction, subtables: Sequence[Fraction]) -> str:
    data = rule_data()["jgj59"]
    if any(s == 0 for s in subtables) or total < data["pass_min"]:
        return FAILED
    return EXCELLENT if total >= data["excellent_min"] else PASSED


@dataclass(frozen=True)
class SubtableScore:
    group: str  # summary line (management, scaffold, …)
    code: str  # the sub-table's template code
    score: float


@dataclass(frozen=True)
class Summary:
    total: float | None
    grade: str
    lines: dict[str, dict[str, Any]]


def jgj59_summary(subtables: Sequence[SubtableScore], weights: Mapping[str, float] | None = None) -> Summary:
    """检查评分汇总表: each line's score is the mean of its sub-tables in use (scaffolds, hoists,
    cranes); its entry is weight × score / 100; lines not applicable convert the total
    proportionally (obtained ÷ available weight × 100). Any sub-table at 0 makes the site 不合格."""
    weights = weights or rule_data()["jgj59"]["weights"]
    by_group: dict[str, list[Fraction]] = {}
    for s in subtables:
        if s.group not in weights:
            raise ValueError(f"unknown summary line {s.group!r}")
        by_group.setdefault(s.group, []).append(Fraction(s.score).limit_denominator(10_000))
    lines: dict[str, dict[str, Any]] = {}
    obtained = available = Fraction(0)
    for group, scores in by_group.items():
        mean = sum(scores, Fraction(0)) / len(scores)
        weight = Fraction(weights[group])
        entry = weight * mean / 100
        obtained += entry
        available += weight
        lines[group] = {"score": _r(mean), "weight": float(weight), "entry": _r(entry), "subtables": len(scores)}
    if available == 0:
        return Summary(None, "", lines)
    total = obtained * 100 / available
    all_scores = [sc for scores in by_group.values() for sc in scores]
    return Summary(_r(total), _grade(total, all_scores), lines)


# GB 50300-2013


def min_sample_size(lot_capacity: int) -> int:
    """Table 3.0.9: the least number of points to check for count sampling of a lot of this
    capacity. Above the table's last row (3,200) the standard gives none: LotCapacityError, the
    lot must be split (never a lot checked without its sample)."""
    if lot_capacity < 1:
        raise ValueError("a lot holds at least one unit")
    if lot_capacity == 1:
        return 1
    for upto, size in rule_data()["gb50300"]["sample_sizes"]:
        if lot_capacity <= upto:
            return min(int(size), lot_capacity)
    raise LotCapacityError(LOT_TOO_LARGE)


def lot_min_sample(template: Template, lot_capacity: int, values: Mapping[str, str] | None = None) -> int:
    """The least points to check in a lot of this template: a trade code's own rule when the
    template names one (`[scoring.sample]`: rate of the lot, at least `minimum`, never more than
    the lot, within `max_capacity` — GB 50210 windows: 5 % and at least 3 of at most 100; its
    `alternative` when an answer in `values` says so — high-rise external windows: 10 % and at
    least 6), else GB 50300 table 3.0.9."""
    rule = template.scoring.get("sample")
    if not rule:
        return min_sample_size(lot_capacity)
    if lot_capacity < 1:
        raise ValueError("a lot holds at least one unit")
    alt = rule.get("alternative")
    if alt and values and values.get(alt["when"]["item"]) == alt["when"]["equals"]:
        rule = {**rule, "rate": alt["rate"], "minimum": alt["minimum"]}
    limit = rule.get("max_capacity")
    if limit is not None and lot_capacity > int(limit):
        raise LotCapacityError(
            t("checklists.lot_over_trade_capacity", value=rule.get("standard", template.standard), value2=int(limit))
        )
    share = Fraction(str(rule["rate"])) * lot_capacity
    needed = max(int(rule["minimum"]), math.ceil(share))
    return min(needed, lot_capacity)


def lot_capacity_problem(template: Template, lot_capacity: int | None) -> Message | None:
    """The refusal text when a quality lot of this capacity cannot be sampled, else None."""
    if template.kind != "quality" or lot_capacity is None:
        return None
    try:
        lot_min_sample(template, lot_capacity)
    except LotCapacityError as exc:
        return exc.message
    return None


def _measured_points(item: Item, values: Sequence[float], cap: float | None) -> tuple[int, int, bool]:
    """(points checked, points within tolerance, any point beyond cap × the tolerance — a serious
    defect). The cap widens each bound by (cap − 1) × its size: −5…+5 mm at 1.5 → −7.5…+7.5 mm."""
    lo, hi = item.tolerance_min, item.tolerance_max
    passed = 0
    serious = False
    for v in values:
        inside = (lo is None or v >= lo) and (hi is None or v <= hi)
        passed += inside
        if not inside and cap is not None and item.measure == "deviation":
            below = lo is not None and v < lo - abs(lo) * (cap - 1)
            above = hi is not None and v > hi + abs(hi) * (cap - 1)
            serious = serious or below or above
    return len(values), passed, serious


def gb50300_lot(template: Template, answers: Mapping[str, Answer], lot_capacity: int | None = None) -> Score:
    """检验批: passes when every main-control item (主控项目) passes and every general item (一般项目)
    reaches the pass rate of its points (80 % unless the template says otherwise) with no serious
    defect (GB 50300 §5.0.1): one the inspector flags on the item, or, with `tolerance_cap` (GB 50207
    roofs: 1.5), a measured deviation beyond cap × tolerance. Count items need at least the table
    3.0.9 sample (or the template's trade rule) for the lot's capacity; a capacity beyond the
    table raises LotCapacityError."""
    values = {c: a.value for c, a in answers.items()}
    shown = visible_items(template, values)
    rate = Fraction(str(template.scoring.get("general_pass_rate", 0.8)))
    cap_raw = template.scoring.get("tolerance_cap")
    cap = float(cap_raw) if cap_raw is not None else None
    needed = lot_min_sample(template, lot_capacity, values) if lot_capacity else None
    results: dict[str, ItemResult] = {}
    general_points = general_passed = 0
    short: list[str] = []
    main_failed: list[str] = []
    general_failed: list[str] = []
    for item in template.items:
        if not item.scored:
            results[item.code] = ItemResult(item.code, "info")
            continue
        answer = answers.get(item.code)
        if item.code not in shown or answer is None or answer.value == "na":
            results[item.code] = ItemResult(item.code, "na")
            continue
        serious = False
        if item.answer == "pass_fail":
            checked, passed = 1, int(answer.value == "pass")
        elif item.answer == "measured":
            checked, passed, serious = _measured_points(item, answer.measured, cap)
        else:  # count
            checked, passed = answer.checked or 0, answer.passed or 0
        beyond_cap = serious
        serious = serious or answer.serious_defect
        if item.cls == "general" and item.answer != "pass_fail" and needed is not None and checked < needed:
            short.append(item.code)
        if item.cls == "main":
            ok = passed == checked and checked > 0 and not serious
            reason = "" if ok else ("存在严重缺陷(检查员标记)" if passed == checked and checked else "主控项目不合格")
            if not ok:
                main_failed.append(item.code)
        else:
            share = Fraction(passed, checked) if checked else Fraction(0)
            ok = checked > 0 and share >= rate and not serious
            general_points += checked
            general_passed += passed
            if ok:
                reason = ""
            elif answer.serious_defect:
                reason = f"存在严重缺陷(检查员标记,合格点率 {_r(share * 100)}%)"
            elif beyond_cap:
                reason = f"存在严重缺陷(超出允许偏差{cap:g}倍)"
            else:
                reason = f"合格点率 {_r(share * 100)}%"
            if not ok:
                general_failed.append(item.code)
        results[item.code] = ItemResult(item.code, "pass" if ok else "fail", None, item.points, serious, reason)
    verdict = PASSED if not main_failed and not general_failed and not short else FAILED
    share_all = Fraction(general_passed, general_points) if general_points else None
    details = {
        "lot_capacity": lot_capacity,
        "min_sample": needed,
        "sample_short": short,
        "main_failed": main_failed,
        "general_failed": general_failed,
        "general_points": general_points,
        "general_passed": general_passed,
        "required_rate": float(rate),
    }
    return Score("quality", results, None if share_all is None else _r(share_all * 100), verdict, details)


# Pass/fail lists


def passfail_list(template: Template, answers: Mapping[str, Answer]) -> Score:
    """Site fire safety, confined spaces: 合格 when no checked item fails. Major-hazard failures are
    listed with the criterion they match."""
    values = {c: a.value for c, a in answers.items()}
    shown = visible_items(template, values)
    results: dict[str, ItemResult] = {}
    majors: list[dict[str, str]] = []
    for item in template.items:
        if not item.scored:
            results[item.code] = ItemResult(item.code, "info")
            continue
        answer = answers.get(item.code)
        if item.code not in shown or answer is None or answer.value == "na":
            results[item.code] = ItemResult(item.code, "na")
            continue
        ok = answer.value == "pass"
        results[item.code] = ItemResult(item.code, "pass" if ok else "fail", points=item.points)
        if not ok and item.major_hazard:
            majors.append({"item": item.code, "criterion": item.major_hazard})
    failed = [c for c, r in results.items() if r.result == "fail"]
    checked = [c for c, r in results.items() if r.result in ("pass", "fail")]
    return Score(
        "passfail",
        results,
        _r(Fraction(len(checked) - len(failed), len(checked)) * 100) if checked else None,
        FAILED if failed else PASSED,
        {"failed": failed, "major_hazards": majors},
    )


def score(template: Template, answers: Mapping[str, Answer], lot_capacity: int | None = None) -> Score:
    """Score an inspection by its template's kind; the result also lists major-hazard failures."""
    if template.kind == "safety":
        result = jgj59_subtable(template, answers)
    elif template.kind == "quality":
        result = gb50300_lot(template, answers, lot_capacity)
    else:
        return passfail_list(template, answers)
    result.details["major_hazards"] = [
        {"item": c, "criterion": template.by_code[c].major_hazard}
        for c in result.failed
        if template.by_code[c].major_hazard
    ]
    return result
