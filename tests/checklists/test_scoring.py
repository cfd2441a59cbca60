"""Scoring rules with examples worked by hand. Each case names the rule it exercises."""

from __future__ import annotations

from functools import cache

import pytest

from inspection.checklists.scoring import (
    Answer,
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


@pytest.mark.parametrize(
    ("taken", "expected", "zeroed"),
    [
        # Deductions are capped at the item's points: N2 (10 points) loses 15 → 0, not −5.
        # G: 60 − 5 − 4 = 51 ≥ 40. Total 100 − 5 − 4 − 2 − 10 = 79.
        ({"G2": 5, "G3": 4, "N1": 2, "N2": 15}, 79.0, ""),
        # A guarantee item at 0 (G2: no sound base, 10 of 10 taken off) zeroes the sub-table,
        # although the other items would give 90.
        ({"G2": 10}, 0.0, "G2"),
        # Guarantee subtotal under 40 zeroes the sub-table even with no item at 0:
        # 60 − (5 + 5 + 5 + 5 + 3) = 37 < 40.
        ({"G1": 5, "G2": 5, "G3": 5, "G4": 5, "G5": 3}, 0.0, "不足 40"),
        # Exactly 40 is enough: 60 − 20 = 40, total 100 − 20 = 80.
        ({"G1": 5, "G2": 5, "G3": 5, "G4": 5}, 80.0, ""),
        # 缺项 converts proportionally: N4 and N5 (5 each) do not apply → 90 available;
        # 90 − 5 − 3 = 82 obtained; 82 / 90 × 100 = 91.11.
        ({"G2": 5, "N1": 3, "N4": "na", "N5": "na"}, 91.11, ""),
        # Guarantee items partly missing: G5 and G6 (20 points) do not apply, 40 available.
        # G obtained 40 − 12 = 28; converted to 60: 28 / 40 × 60 = 42 ≥ 40, so not zeroed
        # (compared raw, 28 < 40 would wrongly zero it). Total (28 + 40) / 80 × 100 = 85.
        ({"G1": 3, "G2": 3, "G3": 3, "G4": 3, "G5": "na", "G6": "na"}, 85.0, ""),
        # …and with 14 taken off: 26 / 40 × 60 = 39 < 40 → 0.
        ({"G1": 3, "G2": 3, "G3": 3, "G4": 5, "G5": "na", "G6": "na"}, 0.0, "折算"),
    ],
)
def test_jgj59_subtable(taken: dict[str, float | str], expected: float, zeroed: str) -> None:
    result = jgj59_subtable(shipped("jgj59-fastener-scaffold"), deductions(**{**SCAFFOLD_ALL, **taken}))
    assert result.total == expected
    assert zeroed in result.details["zeroed"] if zeroed else result.details["zeroed"] == ""


def test_jgj59_table_without_guarantee_items_is_never_zeroed_by_the_guarantee_rule() -> None:
    # 高处作业 has no guarantee/general split. H1 loses all 10 points, yet the table is not 0.
    # The mobile platform (H9) and the cantilever platform section (H10) are hidden because the
    # site has neither (A1 = A2 = no): 80 points available; 80 − 10 − 5 = 65; 65 / 80 × 100 = 81.25.
    answers = deductions(H1=10, H2=0, H3=0, H4=5, H5=0, H6=0, H7=0, H8=0)
    answers["A1"] = Answer("A1", value="no")
    answers["A2"] = Answer("A2", value="no")
    result = jgj59_subtable(shipped("jgj59-work-at-height"), answers)
    assert result.total == 81.25
    assert result.items["H9"].result == "na" and result.items["H10"].result == "na"
    assert result.items["H1"].score == 0 and result.items["H1"].result == "fail"


def test_jgj59_condition_shows_the_platform_items_when_present() -> None:
    # With a cantilever platform (A2 = yes) H10 counts: 90 available, 90 − 10 = 80 → 88.89.
    answers = deductions(H1=0, H2=0, H3=0, H4=0, H5=0, H6=0, H7=0, H8=0, H10=10)
    answers["A1"] = Answer("A1", value="no")
    answers["A2"] = Answer("A2", value="yes")
    assert jgj59_subtable(shipped("jgj59-work-at-height"), answers).total == 88.89


@pytest.mark.parametrize(
    ("subtables", "total", "grade"),
    [
        # Weighted sum with 缺项 conversion: pit, formwork, hoists and cranes do not apply.
        # Scaffolds average: (70 + 90) / 2 = 80. Entries: 安全管理 10 × 80% = 8, 文明施工 15 × 90% = 13.5,
        # 脚手架 10 × 80% = 8, 高处作业 8.5, 施工用电 7.5, 施工机具 5 × 60% = 3 → 48.5 of 60 weight;
        # 48.5 / 60 × 100 = 80.83 → 优良.
        (
            [
                ("management", 80),
                ("civilised", 90),
                ("scaffold", 70),
                ("scaffold", 90),
                ("height", 85),
                ("electricity", 75),
                ("machinery", 60),
            ],
            80.83,
            "优良",
        ),
        # Every line at exactly 80 → total exactly 80 → 优良 (exact arithmetic, no 79.999).
        (
            [(g, 80) for g in ("management", "civilised", "scaffold", "pit", "height", "electricity", "machinery")],
            80.0,
            "优良",
        ),
        # Exactly 70 → 合格; the bottom of the 合格 band.
        ([(g, 70) for g in ("management", "civilised", "height")], 70.0, "合格"),
        # 69.99 → 不合格.
        ([("management", 69.99), ("civilised", 69.99)], 69.99, "不合格"),
        # A sub-table at 0 makes the site 不合格 whatever the total: one scaffold table at 0 and
        # one at 100 average 50; total (10 × 100% + 15 × 100% + 10 × 50%) / 35 × 100 = 85.71.
        ([("management", 100), ("civilised", 100), ("scaffold", 0), ("scaffold", 100)], 85.71, "不合格"),
    ],
)
def test_jgj59_summary(subtables: list[tuple[str, float]], total: float, grade: str) -> None:
    summary = jgj59_summary([SubtableScore(g, f"t{i}", s) for i, (g, s) in enumerate(subtables)])
    assert (summary.total, summary.grade) == (total, grade)


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
        (3201, None),
    ],
)
def test_gb50300_minimum_sample_size_table_3_0_9(capacity: int, minimum: int | None) -> None:
    assert min_sample_size(capacity) == minimum


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
