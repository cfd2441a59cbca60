"""Scoring rules with examples worked by hand. Each case names the rule it exercises."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from inspection.checklists.scoring import (
    Answer,
    Deduction,
    LotCapacityError,
    SubtableScore,
    gb50300_lot,
    jgj59_subtable,
    jgj59_summary,
    min_sample_size,
    passfail_list,
    score,
)
from inspection.checklists.templates import Template, load_file, shipped_files


@cache
def shipped(code: str) -> Template:
    return next(t for t in (load_file(f) for f in shipped_files()) if t.code == code)


def deductions(**taken: float | str) -> dict[str, Answer]:
    """Answers for a JGJ 59 sub-table: a number is the points taken off, "na" marks 缺项."""
    return {
        code: Answer(code, value="na") if value == "na" else Answer(code, deduction=float(value))
        for code, value in taken.items()
    }


SCAFFOLD_ALL = dict.fromkeys(["G1", "G2", "G3", "G4", "G5", "G6", "N1", "N2", "N3", "N4", "N5"], 0.0)

# The JGJ 59 cases live in one data file that another implementation of the scorer (the tablet
# app) runs as well; each case says in its `why` which rule it exercises.
CASES = json.loads(Path(__file__).with_name("scoring_cases.json").read_text(encoding="utf-8"))


def case_answers(raw: dict[str, Any]) -> dict[str, Answer]:
    """A case's answers: a number of points, "na", "yes"/"no", or itemised {deductions: […]}."""
    out = {}
    for code, v in raw.items():
        if isinstance(v, dict):
            found = tuple(Deduction(d["reason"], float(d["points"]), int(d.get("count", 1))) for d in v["deductions"])
            out[code] = Answer(code, deduction=sum(d.total for d in found), deductions=found)
        elif isinstance(v, str):
            out[code] = Answer(code, value=v)
        else:
            out[code] = Answer(code, deduction=float(v))
    return out


@pytest.mark.parametrize("case", CASES["jgj59_subtable"], ids=lambda c: c["why"][:60])
def test_jgj59_subtable(case: dict[str, Any]) -> None:
    result = jgj59_subtable(shipped(case["template"]), case_answers(case["answers"]))
    assert result.total == case["total"], case["why"]
    zeroed = case["zeroed"]
    assert zeroed in result.details["zeroed"] if zeroed else result.details["zeroed"] == "", case["why"]
    for code, expected in case.get("items", {}).items():
        got = result.items[code]
        assert got.score == expected["score"], case["why"]
        if "entered" in expected:
            assert got.entered == expected["entered"], case["why"]


@pytest.mark.parametrize("case", CASES["jgj59_summary"], ids=lambda c: c["why"][:60])
def test_jgj59_summary(case: dict[str, Any]) -> None:
    summary = jgj59_summary([SubtableScore(g, f"t{i}", score) for i, (g, score) in enumerate(case["subtables"])])
    assert (summary.total, summary.grade) == (case["total"], case["grade"]), case["why"]


def test_an_item_keeps_its_findings_and_says_why_it_lost_points() -> None:
    # The reason lists each finding with its points and the cap (扣减分数不得超过该项应得分数)
    answers = case_answers(
        {
            **SCAFFOLD_ALL,
            "N4": {
                "deductions": [
                    {"reason": "钢管弯曲变形", "points": 2, "count": 2},
                    {"reason": "扣件有裂纹", "points": 3},
                ]
            },
        }
    )
    n4 = jgj59_subtable(shipped("jgj59-fastener-scaffold"), answers).items["N4"]
    assert n4.reason == "钢管弯曲变形（2 分 × 2）；扣件有裂纹（3 分）；合计扣 7 分，按本项应得 5 分封顶"


def test_jgj59_summary_of_nothing_has_no_grade() -> None:
    assert jgj59_summary([]).grade == ""


@pytest.mark.parametrize(
    ("capacity", "minimum"),
    [
        (1, 1),
        (2, 2),
        (15, 2),
        (16, 3),
        (25, 3),
        (26, 5),
        (90, 5),
        (91, 8),
        (150, 8),
        (151, 13),
        (280, 13),
        (281, 20),
        (500, 20),
        (501, 32),
        (1200, 32),
        (1201, 50),
        (3200, 50),
    ],
)
def test_gb50300_minimum_sample_size_table_3_0_9(capacity: int, minimum: int) -> None:
    assert min_sample_size(capacity) == minimum


def test_a_lot_beyond_the_table_is_refused_not_skipped() -> None:
    # table 3.0.9's last row is 1201–3200: a lot of 3,201 has no sample size; it must be split
    with pytest.raises(LotCapacityError, match="请划分检验批"):
        min_sample_size(3201)
    with pytest.raises(LotCapacityError):
        gb50300_lot(shipped("gb50300-roof-waterproofing"), roof(), 3201)


ROOF_MAIN = {c: Answer(c, value="pass") for c in ("M1", "M2", "M3")}


def roof(**answers: Answer) -> dict[str, Answer]:
    base = {
        **ROOF_MAIN,
        "N1": Answer("N1", checked=10, passed=9),
        "N2": Answer("N2", measured=(-5, -12, 0, -3, -8)),
        "N3": Answer("N3", checked=5, passed=5),
        "N4": Answer("N4", measured=(0.2, 0.5, 0.0)),
    }
    return {**base, **answers}


@pytest.mark.parametrize(
    ("answers", "capacity", "verdict", "failed"),
    [
        # Every main-control item passes; general items: N1 9 of 10 = 90 %; N2 lap width deviations
        # against −10 mm: 4 of 5 inside = 80 % (exactly the required share), and −12 is within
        # 1.5 × 10 = 15 mm, so no serious defect → 合格.
        (roof(), None, "合格", []),
        # A main-control item failing fails the lot (主控项目必须全部合格).
        (roof(M2=Answer("M2", value="fail")), None, "不合格", ["M2"]),
        # Under 80 %: 7 of 10 points pass = 70 %.
        (roof(N1=Answer("N1", checked=10, passed=7)), None, "不合格", ["N1"]),
        # GB 50207 1.5× cap: 5 of 6 points inside (83 %), but −16 mm is beyond 1.5 × −10 = −15 mm:
        # a serious defect fails the item although its share passes.
        (roof(N2=Answer("N2", measured=(-16, 0, 0, 0, 0, 0))), None, "不合格", ["N2"]),
        # GB 50300 §5.0.1: the inspector marks a serious defect on N3, which passes 5 of 5 points:
        # the lot fails whatever the item's share (an otherwise passing lot).
        (roof(N3=Answer("N3", checked=5, passed=5, serious_defect=True)), None, "不合格", ["N3"]),
        # … and on a main-control item that passed, too.
        (roof(M1=Answer("M1", value="pass", serious_defect=True)), None, "不合格", ["M1"]),
        # Count sampling below table 3.0.9: a lot of 100 needs at least 8 points; N3 checked 5.
        (
            roof(
                N1=Answer("N1", checked=8, passed=8),
                N2=Answer("N2", measured=(0,) * 8),
                N4=Answer("N4", measured=(0,) * 8),
            ),
            100,
            "不合格",
            [],
        ),
    ],
)
def test_gb50300_lot(answers: dict[str, Answer], capacity: int | None, verdict: str, failed: list[str]) -> None:
    result = gb50300_lot(shipped("gb50300-roof-waterproofing"), answers, capacity)
    assert result.grade == verdict
    assert result.failed == failed
    if capacity == 100:
        assert result.details["min_sample"] == 8 and result.details["sample_short"] == ["N3"]


def test_gb50300_without_the_cap_a_far_deviation_is_only_a_failed_point() -> None:
    # Wall insulation has no tolerance_cap: thickness −9 mm against −3 mm is one failed point of 5
    # (80 %), so the item still passes.
    t = shipped("gb50300-external-wall-insulation")
    answers = {c: Answer(c, value="pass") for c in ("M1", "M2", "M3", "M4")}
    answers |= {
        "N1": Answer("N1", measured=(-9, 0, 1, -2, -3)),
        "N2": Answer("N2", measured=(1, 2, 3)),
        "N3": Answer("N3", checked=3, passed=3),
    }
    result = gb50300_lot(t, answers)
    assert result.grade == "合格" and not result.items["N1"].serious


def test_passfail_list_names_the_major_hazard_it_matches() -> None:
    t = shipped("passfail-confined-space")
    answers = {i.code: Answer(i.code, value="pass") for i in t.items}
    answers["B3"] = Answer("B3", value="fail")  # entered without ventilating and testing first
    result = passfail_list(t, answers)
    assert result.grade == "不合格" and result.failed == ["B3"]
    assert result.details["major_hazards"][0]["item"] == "B3"
    assert "先通风、再检测" in result.details["major_hazards"][0]["criterion"]
    assert result.total == 90.0


def test_score_lists_major_hazards_of_a_jgj59_table_too() -> None:
    # G3 (ties) losing points is a failure of a major-hazard item: the criterion is listed.
    result = score(shipped("jgj59-fastener-scaffold"), deductions(**{**SCAFFOLD_ALL, "G3": 10}))
    assert result.total == 0 and result.grade == "不合格"
    assert [m["item"] for m in result.details["major_hazards"]] == ["G3"]
