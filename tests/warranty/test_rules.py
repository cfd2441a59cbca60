"""Warranty rules without a database: end dates, seasons, contract periods, retention, parties."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal

import pytest

from inspection.projects.rules import WorkType
from inspection.warranty.rules import (
    AcceptanceParty,
    Period,
    PeriodUnit,
    SeasonWindow,
    add_months,
    add_years,
    claim_deadline,
    contract_period_problem,
    days_left,
    effective_period,
    end_date,
    missing_parties,
    parse_rulebook,
    retention_problem,
    retention_release,
    seasons_end,
)
from inspection.warranty.service import RULES_FILE, load_rulebook

Y = PeriodUnit.years


@pytest.mark.parametrize(
    ("start", "years", "end"),
    [
        # 民法典 §201–202: the start day is not counted; same-numbered day of the final month
        (date(2020, 6, 15), 5, date(2025, 6, 15)),
        # no 29 February in 2029: that month's last day
        (date(2024, 2, 29), 5, date(2029, 2, 28)),
        # four years on a leap day lands on a leap day again
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2023, 12, 31), 2, date(2025, 12, 31)),
        (date(2026, 1, 1), 10, date(2036, 1, 1)),
    ],
)
def test_years(start: date, years: int, end: date) -> None:
    assert add_years(start, years) == end


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # February has no 31st
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 3, 31), 6, date(2026, 9, 30)),
        (date(2026, 11, 30), 24, date(2028, 11, 30)),
        (date(2026, 8, 31), 18, date(2028, 2, 29)),
    ],
)
def test_months(start: date, months: int, end: date) -> None:
    assert add_months(start, months) == end


HARBIN = SeasonWindow((10, 20), (4, 20))
COOLING = SeasonWindow((6, 1), (9, 30))
LEAP_END = SeasonWindow((11, 1), (2, 29))


@pytest.mark.parametrize(
    ("start", "seasons", "window", "end"),
    [
        # accepted in summer: the coming two winters
        (date(2024, 6, 30), 2, HARBIN, date(2026, 4, 20)),
        # accepted the day before a season starts: that season is whole (the start day is not counted)
        (date(2024, 10, 19), 2, HARBIN, date(2026, 4, 20)),
        # accepted on the season's first day: that season is not whole, the next two count
        (date(2024, 10, 20), 2, HARBIN, date(2027, 4, 20)),
        # accepted mid-winter: the running season does not count
        (date(2024, 12, 1), 2, HARBIN, date(2027, 4, 20)),
        (date(2025, 3, 1), 2, HARBIN, date(2027, 4, 20)),
        # cooling seasons inside one calendar year
        (date(2026, 5, 31), 2, COOLING, date(2027, 9, 30)),
        (date(2026, 7, 1), 2, COOLING, date(2028, 9, 30)),
        # a window ending on 29 February ends on the 28th in common years
        (date(2026, 6, 1), 1, LEAP_END, date(2027, 2, 28)),
        (date(2027, 6, 1), 1, LEAP_END, date(2028, 2, 29)),
    ],
)
def test_seasons(start: date, seasons: int, window: SeasonWindow, end: date) -> None:
    assert seasons_end(start, seasons, window) == end


def test_end_date_dispatches_on_unit() -> None:
    assert end_date(date(2024, 2, 29), Period(Y, 5)) == date(2029, 2, 28)
    assert end_date(date(2024, 6, 30), Period(PeriodUnit.seasons, 2, "heating"), HARBIN) == date(2026, 4, 20)
    with pytest.raises(ValueError, match="season window"):
        end_date(date(2024, 6, 30), Period(PeriodUnit.seasons, 2, "heating"))


@pytest.mark.parametrize(
    ("minimum", "contract", "problem"),
    [
        (Period(Y, 5), Period(Y, 5), None),
        (Period(Y, 5), Period(Y, 8), None),
        (Period(Y, 5), Period(Y, 3), "below the minimum"),
        (Period(Y, 2), Period(PeriodUnit.months, 30), None),
        (Period(Y, 2), Period(PeriodUnit.months, 18), "below the minimum"),
        (Period(PeriodUnit.seasons, 2, "heating"), Period(PeriodUnit.seasons, 3), None),
        (Period(PeriodUnit.seasons, 2, "heating"), Period(PeriodUnit.seasons, 1), "below the minimum"),
        (Period(PeriodUnit.seasons, 2, "heating"), Period(Y, 5), "in seasons"),
        (Period(Y, 5), Period(Y, 0), "positive"),
    ],
)
def test_contract_may_lengthen_never_shorten(minimum: Period, contract: Period, problem: str | None) -> None:
    found = contract_period_problem(minimum, contract)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found.render("en")


def test_effective_period() -> None:
    book = load_rulebook()
    roof = book.rule_for(WorkType.roof_waterproofing)
    assert effective_period(roof, None, None, 30) == Period(Y, 5)
    assert effective_period(roof, Period(Y, 8), None, 30) == Period(Y, 8)
    with pytest.raises(ValueError, match="短于法定最低保修期"):
        effective_period(roof, Period(Y, 3), None, 30)
    structure = book.rule_for(WorkType.structure)
    assert effective_period(structure, None, 50, 30) == Period(Y, 50)
    assert effective_period(structure, None, None, 30) == Period(Y, 30)
    heating = book.rule_for(WorkType.heating)
    assert effective_period(heating, Period(PeriodUnit.seasons, 3), None, 30) == Period(
        PeriodUnit.seasons, 3, "heating"
    )


@pytest.mark.parametrize(
    ("work_type", "unit", "amount"),
    [
        # the renovation plan's minimums (REFERENCE.md §4, seed) and 质量管理条例 §40 (V1)
        (WorkType.road_paving, Y, 5),
        (WorkType.fence, Y, 10),
        (WorkType.accessibility, Y, 10),
        (WorkType.roof_waterproofing, Y, 5),
        (WorkType.external_wall_insulation, Y, 5),
        (WorkType.heating, PeriodUnit.seasons, 2),
        (WorkType.power, Y, 2),
        (WorkType.water_supply, Y, 2),
        (WorkType.drainage, Y, 2),
        (WorkType.structure, PeriodUnit.design_life, 0),
        # issue 21: weak-current lines as 电气管线; gas pipes as pipework (unverified)
        (WorkType.telecom, Y, 2),
        (WorkType.gas, Y, 2),
    ],
)
def test_rule_file_periods(work_type: WorkType, unit: PeriodUnit, amount: int) -> None:
    rule = load_rulebook().rule_for(work_type)
    assert (rule.period.unit, rule.period.amount) == (unit, amount)
    assert rule.source


@pytest.mark.parametrize(
    ("work_type", "periods"),
    [
        # 既有住宅加装电梯: the lift (设备安装, §40(4), 2 years) and its shaft's foundation and
        # structure (§40(1), the design life; 50 years unless the design says otherwise)
        (WorkType.elevator, [("equipment", Y, 2), ("lift_shaft", PeriodUnit.design_life, 50)]),
        # windows: fittings (装修, 2 years) and leak-proofing with the external wall (5 years)
        (WorkType.windows, [("decoration", Y, 2), ("window_leak_proofing", Y, 5)]),
        (WorkType.heating, [("heating", PeriodUnit.seasons, 2)]),
    ],
)
def test_a_work_type_may_owe_several_periods(work_type: WorkType, periods: list[tuple[str, PeriodUnit, int]]) -> None:
    rules = load_rulebook().rules_for(work_type)
    assert [(r.key, r.period.unit, r.period.amount) for r in rules] == periods


def test_a_lift_shaft_runs_for_its_design_life() -> None:
    shaft = load_rulebook().rules_for(WorkType.elevator)[1]
    assert effective_period(shaft, None, None, 30) == Period(Y, 50)  # the rule's default
    assert effective_period(shaft, None, 40, 30) == Period(Y, 40)  # the design's own figure


def test_defect_liability_is_twelve_months_by_default_at_most_twenty_four() -> None:
    # 建质〔2017〕138号 §2: 缺陷责任期一般为 1 年, 最长不超过 2 年
    book = load_rulebook()
    assert (book.default_defect_liability_months, book.max_defect_liability_months) == (12, 24)


def test_rule_file_maps_every_work_type_and_refuses_gaps() -> None:
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    book = parse_rulebook(data)
    assert set(book.work_types) == set(WorkType)
    del data["work_type"]["fence"]
    with pytest.raises(ValueError, match="fence"):
        parse_rulebook(data)
    data["work_type"]["fence"] = ["non_wearing", "non_wearing"]
    with pytest.raises(ValueError, match="列了两次"):
        parse_rulebook(data)
    data["work_type"]["fence"] = ["non_wearing", "nothing"]
    with pytest.raises(ValueError, match=r"缺少 \[period\.nothing\] 表"):
        parse_rulebook(data)


def test_city_season_window_falls_back_to_default() -> None:
    book = load_rulebook()
    assert book.window("heating", "harbin") == HARBIN
    assert book.window("heating", "nowhere") == book.window("heating", "default")


@pytest.mark.parametrize(
    ("amount", "settlement", "problem"),
    [
        ("30000.00", "1000000.00", None),  # exactly 3 %
        ("30000.01", "1000000.00", "exceeds 3 %"),
        ("0", "1000000.00", None),
        ("-1", "1000000.00", "negative"),
        ("100", "0", "positive"),
    ],
)
def test_retention_at_most_three_percent(amount: str, settlement: str, problem: str | None) -> None:
    found = retention_problem(Decimal(amount), Decimal(settlement), Decimal("0.03"))
    assert (found is None) if problem is None else (found is not None and problem in found.render("en"))


def test_retention_release() -> None:
    assert retention_release(date(2024, 2, 29), 24, 24) == date(2026, 2, 28)
    assert retention_release(date(2026, 6, 15), 12, 24) == date(2027, 6, 15)
    with pytest.raises(ValueError, match="1 to 24"):
        retention_release(date(2026, 6, 15), 36, 24)


def test_missing_parties() -> None:
    everyone = [p for p in AcceptanceParty] + [AcceptanceParty.resident_supervisor]
    assert missing_parties(everyone) == []
    # a utility operator (专业经营单位) signs when the acceptance covers its own work
    without_utility = [p for p in everyone if p is not AcceptanceParty.utility]
    assert missing_parties(without_utility) == []
    assert missing_parties(without_utility, utility_work=True) == ["utility"]
    assert missing_parties([AcceptanceParty.owner, AcceptanceParty.resident_supervisor]) == [
        "contractor",
        "supervisor",
        "designer",
        "community",
        "property",
        "resident_supervisor (1 of 2)",
    ]


def test_claim_deadline_and_days_left() -> None:
    assert claim_deadline(date(2026, 12, 30), 3) == date(2027, 1, 2)
    assert days_left(date(2029, 2, 28), date(2029, 2, 28)) == 0
    assert days_left(date(2029, 2, 28), date(2029, 3, 1)) == -1
