"""Pure rules of programme supervision: the area tree and who may be placed where, months and days
in Beijing time, households of the survey, the survey's questions, credit lists and the wording of
the daily digest. No database, clock or settings in here."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID

from inspection.documents import BEIJING, day_start
from inspection.messages import Message, t

RULES_FILE = Path(__file__).with_name("rules.toml")
SURVEY_FILE = Path(__file__).with_name("survey.toml")


@lru_cache(maxsize=1)
def rule_data() -> dict[str, Any]:
    return tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def survey_data() -> dict[str, Any]:
    return tomllib.loads(SURVEY_FILE.read_text(encoding="utf-8"))


# Areas


class AreaLevel(StrEnum):
    city = "city"  # 市
    county = "county"  # 县 / 区
    street = "street"  # 街道 / 镇
    community = "community"  # 社区

    @property
    def depth(self) -> int:
        return LEVELS.index(self)


LEVELS = [AreaLevel.city, AreaLevel.county, AreaLevel.street, AreaLevel.community]
LEVEL_NAMES = {
    AreaLevel.city: "市",
    AreaLevel.county: "县（区）",
    AreaLevel.street: "街道（镇）",
    AreaLevel.community: "社区",
}


def child_level_problem(parent: AreaLevel | None, child: AreaLevel) -> Message | None:
    """An area sits under an area of a higher level (a street under a district, not under a
    street); a top-level area may be of any level (a district programme needs no city record)."""
    if parent is None or parent.depth < child.depth:
        return None
    return t("programme.cannot_sit_under", value=child.value, value2=parent.value)


def ancestors(parents: Mapping[UUID, UUID | None], area_id: UUID) -> list[UUID]:
    """The area itself, then its parent, up to the top (a cycle stops the walk)."""
    out: list[UUID] = []
    current: UUID | None = area_id
    while current is not None and current not in out:
        out.append(current)
        current = parents.get(current)
    return out


def descendants(parents: Mapping[UUID, UUID | None], area_id: UUID) -> set[UUID]:
    """The area and every area below it."""
    children: dict[UUID, list[UUID]] = {}
    for child, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    out = {area_id}
    stack = [area_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in out:
                out.add(child)
                stack.append(child)
    return out


def is_within(parents: Mapping[UUID, UUID | None], area_id: UUID, scope: UUID) -> bool:
    return scope in ancestors(parents, area_id)


class OfficeRole(StrEnum):
    programme_office = "programme_office"  # 旧改办 / 住建局: finalises months, places projects
    street_office = "street_office"  # 街道办 / 社区: follows its street, enters paper surveys


OFFICE_LEVELS: dict[OfficeRole, frozenset[AreaLevel]] = {
    OfficeRole.programme_office: frozenset({AreaLevel.city, AreaLevel.county}),
    OfficeRole.street_office: frozenset({AreaLevel.street, AreaLevel.community}),
}


def office_problem(role: OfficeRole, level: AreaLevel) -> Message | None:
    allowed = OFFICE_LEVELS[role]
    if level in allowed:
        return None
    return t(
        "programme.works_not", value=role.value, items=" or ".join(sorted(a.value for a in allowed)), value2=level.value
    )


# Months and days (Beijing time: the programmes' calendar)


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        found = re.fullmatch(r"(\d{4})-(\d{2})", text or "")
        if not found or not 1 <= int(found.group(2)) <= 12 or not 2000 <= int(found.group(1)) <= 2100:
            raise ValueError("give the month as YYYY-MM, e.g. 2026-03")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def holding(cls, at: datetime) -> Month:
        local = at.astimezone(BEIJING)
        return cls(local.year, local.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), 12 if self.month == 1 else self.month - 1)

    @property
    def start(self) -> datetime:
        return day_start(self.first_day)

    @property
    def end(self) -> datetime:
        return self.next().start

    def back(self, n: int) -> list[Month]:
        """This month and the n − 1 before it, latest first."""
        out = [self]
        while len(out) < n:
            out.append(out[-1].previous())
        return out


@dataclass(frozen=True)
class Period:
    """A stretch of Beijing time that figures are counted over: [start, end), read as of `as_of`
    (the end, or now while the period is still running)."""

    start: datetime
    end: datetime
    as_of: datetime

    @classmethod
    def of_month(cls, month: Month, now: datetime) -> Period:
        return cls(month.start, month.end, min(month.end, now))

    @classmethod
    def of_days(cls, first: date, last: date, now: datetime) -> Period:
        end = day_start(last + timedelta(days=1))
        return cls(day_start(first), end, min(end, now))


EARLIEST = date(2000, 1, 1)  # before any programme this system serves; also keeps dates in range


def day_problem(day: date, today: date) -> Message | None:
    """A day a digest or a week's ranking may be asked for: not before 2000, not after today."""
    if day < EARLIEST:
        return t("programme.give_day_from_2000")
    if day > today:
        return t("programme.day_has_not_come_yet")
    return None


def month_problem(month: Month, now: datetime, *, finalising: bool = False) -> Message | None:
    if month.start > now:
        return t("programme.month_has_not_begun_yet")
    if finalising and month.end > now:
        return t("programme.not_over_yet_month_finalised_after", label=month.label)
    return None


# Households (楼栋-单元-室)

ROOM_RE = re.compile(r"^\d{3,4}$")


def normalise_room(room: str) -> str:
    """ "501", "501室", " 0501 " → "501": the number only, without leading zeros."""
    text = (room or "").strip().removesuffix("室").strip()
    return text.lstrip("0") or text


def household_problem(
    unit: int, room: str, *, building_units: int | None, building_floors: int | None
) -> tuple[str, Message] | None:
    """(field, message) when 楼栋-单元-室 cannot be a household of the building, else None. Rooms are
    numbered floor then door (501 = fifth floor, door 1), as on most residential buildings."""
    if unit < 1 or (building_units is not None and unit > building_units):
        limit = f"1 to {building_units}" if building_units else "from 1"
        return "unit", t("programme.building_has_units", limit=limit)
    if not ROOM_RE.match(room):
        return "room", t("programme.give_room_number_as_door_501")
    floor, door = int(room[:-2]), int(room[-2:])
    if floor < 1 or door < 1 or (building_floors is not None and floor > building_floors):
        return "room", t("programme.room_not_floor_building", room=room)
    return None


def household_key(building_id: UUID, unit: int, room: str) -> str:
    return f"{building_id}:{unit}:{room}"


# The survey's questions


@dataclass(frozen=True)
class Category:
    code: str
    text: str
    work_types: frozenset[str]
    always: bool


@dataclass(frozen=True)
class Questions:
    title: str
    intro: str
    overall: str
    scale: dict[int, str]
    categories: tuple[Category, ...]
    comment_text: str
    comment_max: int

    def for_work_types(self, work_types: Iterable[str]) -> list[Category]:
        """The categories a site is asked about: those of the work it has, and the general ones."""
        present = set(work_types)
        return [c for c in self.categories if c.always or c.work_types & present]


@lru_cache(maxsize=1)
def questions() -> Questions:
    data = survey_data()
    return Questions(
        title=data["title"],
        intro=data["intro"],
        overall=data["overall"]["text"],
        scale={int(k): v for k, v in data["scale"].items()},
        categories=tuple(
            Category(c["code"], c["text"], frozenset(c.get("work_types", [])), bool(c.get("always", False)))
            for c in data["categories"]
        ),
        comment_text=data["comment"]["text"],
        comment_max=int(data["comment"]["max_length"]),
    )


def answers_problem(
    overall: int, answers: Mapping[str, int], comment: str, asked: Sequence[Category], q: Questions
) -> tuple[str, Message] | None:
    """(field, message) when an answer sheet is not one the survey asked for, else None."""
    low, high = min(q.scale), max(q.scale)
    if not low <= overall <= high:
        return "overall", t("programme.answer_scale_from", low=low, high=high)
    codes = {c.code for c in asked}
    for code, value in answers.items():
        if code not in codes:
            return f"answers.{code}", t("programme.site_was_not_asked_about")
        if not low <= value <= high:
            return f"answers.{code}", t("programme.answer_scale_from", low=low, high=high)
    if len(comment) > q.comment_max:
        return "comment", t("programme.keep_comment_under_characters", comment_max=q.comment_max)
    return None


def satisfied_min() -> int:
    return int(rule_data()["survey"]["satisfied_min"])


# Credit lists (信用)

GRADE_ORDER = ["优秀", "良好", "合格", "不合格"]


@dataclass(frozen=True)
class CreditRules:
    recommended_grade: str
    recommended_months: int
    watch_grade: str
    watch_times: int
    watch_within: int


def credit_rules(data: Mapping[str, Any] | None = None) -> CreditRules:
    c = (data or rule_data())["credit"]
    if c.get("combine", "worst") != "worst":
        raise ValueError("credit.combine: only 'worst' is defined")
    return CreditRules(
        recommended_grade=c["recommended"]["grade"],
        recommended_months=int(c["recommended"]["months"]),
        watch_grade=c["watch"]["grade"],
        watch_times=int(c["watch"]["times"]),
        watch_within=int(c["watch"]["within_months"]),
    )


def worst(grades: Iterable[str]) -> str:
    """The worst of several grades in one month; an ungraded entry ("") does not count."""
    known = [g for g in grades if g in GRADE_ORDER]
    return max(known, key=GRADE_ORDER.index) if known else ""


def monthly_grades(history: Iterable[tuple[Month, str]]) -> dict[Month, str]:
    """One grade per month from (month, grade) pairs of every programme: the worst."""
    by_month: dict[Month, list[str]] = {}
    for month, grade in history:
        by_month.setdefault(month, []).append(grade)
    return {m: worst(gs) for m, gs in by_month.items()}


def is_recommended(grades: Mapping[Month, str], as_of: Month, rule: CreditRules) -> bool:
    """Graded `recommended_grade` in each of the `recommended_months` months ending with `as_of`."""
    return all(grades.get(m) == rule.recommended_grade for m in as_of.back(rule.recommended_months))


def is_watched(grades: Mapping[Month, str], as_of: Month, rule: CreditRules) -> bool:
    """Graded `watch_grade` at least `watch_times` times in the `watch_within` months to `as_of`."""
    hits = sum(grades.get(m) == rule.watch_grade for m in as_of.back(rule.watch_within))
    return hits >= rule.watch_times


# Rankings


def competition_ranks(scores: Sequence[float | None]) -> list[int | None]:
    """1, 2, 2, 4: equal scores share a rank, the next rank skips; an ungraded subject has none."""
    ordered = sorted((s for s in scores if s is not None), reverse=True)
    first: dict[float, int] = {}
    for i, s in enumerate(ordered):
        first.setdefault(s, i + 1)
    return [first[s] if s is not None else None for s in scores]


# The daily digest's words


@dataclass(frozen=True)
class DigestFigures:
    inspections: int
    failed_items: int
    by_hazard: list[tuple[str, int]]
    major_hazards: int
    stop_work_orders: int
    new_orders: int
    overdue_orders: int
    new_by_contractor: list[tuple[str, int]]
    overdue_by_contractor: list[tuple[str, int]]
    hold_points_waiting: int
    complaints: int


def digest_message(area_name: str, day: date, f: DigestFigures) -> str:
    """The digest as one message for the in-app feed, e-mail and webhooks: the day's figures in a
    line each, contractors named where orders are new or overdue."""
    lines = [f"【日督导】{area_name} {day.year}年{day.month}月{day.day}日"]
    lines.append(
        f"检查 {f.inspections} 次，不符合项 {f.failed_items} 项" + (f"（{_top(f.by_hazard)}）" if f.by_hazard else "")
    )
    lines.append(f"重大隐患 {f.major_hazards} 项，停工通知 {f.stop_work_orders} 份")
    lines.append(f"新下发整改单 {f.new_orders} 份" + (f"：{_top(f.new_by_contractor)}" if f.new_by_contractor else ""))
    lines.append(
        f"逾期未整改 {f.overdue_orders} 份" + (f"：{_top(f.overdue_by_contractor)}" if f.overdue_by_contractor else "")
    )
    lines.append(f"停止点待验 {f.hold_points_waiting} 个，居民投诉 {f.complaints} 件")
    return "\n".join(lines)


def _top(pairs: Sequence[tuple[str, int]], n: int = 5) -> str:
    shown = "、".join(f"{name} {count}" for name, count in pairs[:n])
    return shown + (f" 等 {len(pairs)} 家" if len(pairs) > n else "")
