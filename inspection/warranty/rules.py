"""Pure warranty rules: periods by work type, end dates (民法典 §201–§202, heating seasons), what a
contract may change, retention money, joint-acceptance parties and claim deadlines.
No database, no clock, no settings: everything is passed in."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from inspection.errors import RulebookError
from inspection.messages import Message, t
from inspection.projects.rules import WorkType


class PeriodUnit(StrEnum):
    years = "years"
    months = "months"
    seasons = "seasons"
    design_life = "design_life"


@dataclass(frozen=True)
class Period:
    """A warranty period: `amount` of `unit`; seasons name which (heating / cooling)."""

    unit: PeriodUnit
    amount: int
    season: str = ""

    def describe(self) -> Message:
        if self.unit is PeriodUnit.seasons:
            season = t("period.heating") if self.season == "heating" else t("period.cooling")
            return t("period.seasons", amount=self.amount, season=season)
        if self.unit is PeriodUnit.years:
            return t("period.years", amount=self.amount)
        if self.unit is PeriodUnit.months:
            return t("period.months", amount=self.amount)
        return t("period.design_life", amount=self.amount)


@dataclass(frozen=True)
class PeriodRule:
    key: str
    period: Period
    source: str
    unverified: bool = False


@dataclass(frozen=True)
class SeasonWindow:
    """A heating or cooling season: from start (month, day) to end (month, day), both included."""

    start: tuple[int, int]
    end: tuple[int, int]

    @property
    def crosses_year(self) -> bool:
        return self.end < self.start


@dataclass(frozen=True)
class RuleBook:
    periods: Mapping[str, PeriodRule]
    # each work type's period keys, its main one first (a lift: the equipment, then its shaft)
    work_types: Mapping[WorkType, tuple[str, ...]]
    design_life_default_years: int
    seasons: Mapping[str, Mapping[str, SeasonWindow]]  # season kind -> city -> window
    retention_max_share: Decimal
    default_defect_liability_months: int
    max_defect_liability_months: int
    claim_response_days: int

    def rule_for(self, work_type: WorkType) -> PeriodRule:
        """The work type's main period."""
        return self.periods[self.work_types[work_type][0]]

    def rules_for(self, work_type: WorkType) -> list[PeriodRule]:
        """Every period the work type is warranted for, the main one first."""
        return [self.periods[k] for k in self.work_types[work_type]]

    def window(self, season: str, city: str) -> SeasonWindow:
        by_city = self.seasons[season]
        return by_city.get(city) or by_city["default"]


def _month_day(text: str, where: str) -> tuple[int, int]:
    month, _, day = text.partition("-")
    value = (int(month), int(day))
    if not 1 <= value[0] <= 12 or not 1 <= value[1] <= calendar.monthrange(2001, value[0])[1]:
        raise RulebookError(t("rulebook.month_day", where=where, value=repr(text)))
    return value


def parse_rulebook(data: Mapping[str, Any]) -> RuleBook:
    """Build the rule book from rules.toml, refusing a file that leaves a work type unmapped."""
    periods: dict[str, PeriodRule] = {}
    for key, raw in data["period"].items():
        unit = PeriodUnit(raw["unit"])
        period = Period(unit, int(raw.get("amount", 0)), raw.get("season", ""))
        if unit in (PeriodUnit.years, PeriodUnit.months, PeriodUnit.seasons) and period.amount <= 0:
            raise RulebookError(t("rulebook.positive", where=f"period.{key}.amount"))
        if period.amount < 0:
            raise RulebookError(t("rulebook.not_negative", where=f"period.{key}.amount"))
        if unit is PeriodUnit.seasons and period.season not in data["seasons"]:
            raise RulebookError(t("rulebook.no_table", table=f"[seasons.{period.season}]"))
        periods[key] = PeriodRule(key, period, raw["source"], bool(raw.get("unverified", False)))
    work_types: dict[WorkType, tuple[str, ...]] = {}
    for name, value in data["work_type"].items():
        keys = (value,) if isinstance(value, str) else tuple(value)
        if not keys:
            raise RulebookError(t("rulebook.work_type_no_period", where=f"work_type.{name}"))
        if len(set(keys)) != len(keys):
            raise RulebookError(t("rulebook.work_type_period_twice", where=f"work_type.{name}"))
        for key in keys:
            if key not in periods:
                raise RulebookError(t("rulebook.no_table", table=f"[period.{key}]"))
        work_types[WorkType(name)] = keys
    missing = [t.value for t in WorkType if t not in work_types]
    if missing:
        raise RulebookError(t("rulebook.work_types_unmapped", names=missing))
    seasons = {
        kind: {
            city: SeasonWindow(
                _month_day(w["start"], f"seasons.{kind}.{city}.start"),
                _month_day(w["end"], f"seasons.{kind}.{city}.end"),
            )
            for city, w in cities.items()
        }
        for kind, cities in data["seasons"].items()
    }
    for kind, cities in seasons.items():
        if "default" not in cities:
            raise RulebookError(t("rulebook.season_default", table=f"[seasons.{kind}]"))
    retention = data["retention"]
    return RuleBook(
        periods=periods,
        work_types=work_types,
        design_life_default_years=int(data["design_life"]["default_years"]),
        seasons=seasons,
        retention_max_share=Decimal(str(retention["max_share"])),
        default_defect_liability_months=int(retention["default_defect_liability_months"]),
        max_defect_liability_months=int(retention["max_defect_liability_months"]),
        claim_response_days=int(data["claim"]["response_days"]),
    )


# End dates


def add_months(start: date, months: int) -> date:
    """民法典 §201–§202: a period of months or years starts the day after `start` and ends on the
    same-numbered day of the final month, or that month's last day when it has none."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


def add_years(start: date, years: int) -> date:
    return add_months(start, 12 * years)


def _season_start(window: SeasonWindow, year: int) -> date:
    return date(year, *window.start)


def _season_end(window: SeasonWindow, start_year: int) -> date:
    end_year = start_year + 1 if window.crosses_year else start_year
    month, day = window.end
    # 02-29 as an end in a common year means the month's last day
    return date(end_year, month, min(day, calendar.monthrange(end_year, month)[1]))


def seasons_end(start: date, seasons: int, window: SeasonWindow) -> date:
    """The last day of the `seasons`-th whole season that begins after the acceptance date (which
    is not counted, §201). A season already running on acceptance is not a whole season and does
    not count: the owner keeps the full number of seasons the law gives."""
    if seasons <= 0:
        raise ValueError("seasons must be positive")
    first_day = start + timedelta(days=1)
    year = first_day.year
    if _season_start(window, year) < first_day:
        year += 1
    return _season_end(window, year + seasons - 1)


def end_date(start: date, period: Period, window: SeasonWindow | None = None) -> date:
    """The last day covered by the warranty."""
    if period.unit is PeriodUnit.seasons:
        if window is None:
            raise ValueError("a period in seasons needs the city's season window")
        return seasons_end(start, period.amount, window)
    if period.unit is PeriodUnit.months:
        return add_months(start, period.amount)
    # years, and a design life in years
    return add_years(start, period.amount)


# What a contract may change


def _months(period: Period) -> int | None:
    if period.unit in (PeriodUnit.years, PeriodUnit.design_life):
        return period.amount * 12
    if period.unit is PeriodUnit.months:
        return period.amount
    return None


def contract_period_problem(minimum: Period, contract: Period) -> Message | None:
    """None when the contract's period may replace the minimum (equal or longer), else why not.
    A contract may lengthen a statutory or plan minimum, never shorten it."""
    if contract.amount <= 0:
        return t("warranty.contract_period_must_positive")
    if minimum.unit is PeriodUnit.seasons or contract.unit is PeriodUnit.seasons:
        if minimum.unit is not contract.unit:
            return t("warranty.minimum_give_contract_period_seasons_too", value=minimum.describe())
        if contract.amount < minimum.amount:
            return t("warranty.below_minimum", value=contract.describe(), value2=minimum.describe())
        return None
    want, have = _months(minimum), _months(contract)
    assert want is not None and have is not None
    if have < want:
        return t("warranty.below_minimum", value=contract.describe(), value2=minimum.describe())
    return None


def effective_period(
    rule: PeriodRule, contract: Period | None, design_life_years: int | None, default_life: int
) -> Period:
    """The period a warranty item runs for: the rule's, a design life for structures, or a longer
    contract period. Raises ValueError with the reason when the contract shortens it."""
    minimum = rule.period
    if minimum.unit is PeriodUnit.design_life:
        # the design's figure; else the rule's own default (a lift shaft: 50), else the book's
        minimum = Period(PeriodUnit.years, design_life_years or minimum.amount or default_life)
    if contract is None:
        return minimum
    problem = contract_period_problem(minimum, contract)
    if problem:
        raise ValueError(problem)
    if contract.unit is PeriodUnit.seasons:
        return Period(PeriodUnit.seasons, contract.amount, minimum.season)
    return contract


# Retention money (质量保证金)


def retention_problem(amount: Decimal, settlement: Decimal, max_share: Decimal) -> Message | None:
    """建质〔2017〕138号 §7: at most 3 % of the final settlement amount."""
    if amount < 0:
        return t("warranty.retention_money_cannot_negative")
    if settlement <= 0:
        return t("warranty.final_settlement_amount_must_positive")
    ceiling = (settlement * max_share).quantize(Decimal("0.01"))
    if amount > ceiling:
        return t(
            "warranty.retention_exceeds_settlement", amount=amount, value=(max_share * 100).normalize(), ceiling=ceiling
        )
    return None


def retention_release(acceptance: date, defect_liability_months: int, max_months: int) -> date:
    """The day the defect liability period ends and the retention falls due for release."""
    if not 1 <= defect_liability_months <= max_months:
        raise ValueError(f"the defect liability period must be 1 to {max_months} months")
    return add_months(acceptance, defect_liability_months)


# Joint acceptance (竣工验收)


class AcceptanceParty(StrEnum):
    owner = "owner"  # 建设单位
    contractor = "contractor"  # 施工单位
    supervisor = "supervisor"  # 监理单位
    designer = "designer"  # 设计单位
    community = "community"  # 街道 / 社区
    property = "property"  # 物业
    resident_supervisor = "resident_supervisor"  # 业主监督员
    # 专业经营单位 (water, power, heating, gas, telecom operators): required when the acceptance
    # covers a work item it is responsible for, welcome otherwise
    utility = "utility"


# How many of each party must take part (two resident supervisors per site).
REQUIRED_PARTIES: Mapping[AcceptanceParty, int] = {
    AcceptanceParty.owner: 1,
    AcceptanceParty.contractor: 1,
    AcceptanceParty.supervisor: 1,
    AcceptanceParty.designer: 1,
    AcceptanceParty.community: 1,
    AcceptanceParty.property: 1,
    AcceptanceParty.resident_supervisor: 2,
}


def party_shortfall(
    present: Iterable[AcceptanceParty], utility_work: bool = False
) -> list[tuple[AcceptanceParty, int, int]]:
    """Each party the participant list lacks, with how many took part and how many must. With
    `utility_work` (a covered work item is a utility operator's), the operator must sign too."""
    counts: dict[AcceptanceParty, int] = {}
    for p in present:
        counts[p] = counts.get(p, 0) + 1
    required = dict(REQUIRED_PARTIES)
    if utility_work:
        required[AcceptanceParty.utility] = 1
    return [
        (party, counts.get(party, 0), needed) for party, needed in required.items() if counts.get(party, 0) < needed
    ]


def missing_parties(present: Iterable[AcceptanceParty], utility_work: bool = False) -> list[str]:
    """What the participant list lacks, as codes, e.g. ['designer', 'resident_supervisor (1 of 2)']."""
    return [
        party.value if have == 0 else f"{party.value} ({have} of {needed})"
        for party, have, needed in party_shortfall(present, utility_work)
    ]


# Claims (保修)


class ClaimState(StrEnum):
    open = "open"  # waiting for the contractor
    accepted = "accepted"  # the contractor takes it on
    rejected = "rejected"  # the contractor disputes it: becomes an order
    escalated = "escalated"  # unanswered or rejected: a warranty rectification order was opened
    resolved = "resolved"


def claim_deadline(reported: date, response_days: int) -> date:
    """The last day the contractor may answer (the report day not counted)."""
    return reported + timedelta(days=response_days)


def days_left(end: date, today: date) -> int:
    """Days of cover left after today; 0 on the last day, negative once expired."""
    return (end - today).days


def in_warranty(start: date, end: date, on: date) -> bool:
    return start <= on <= end
