"""Pure scoring of the monthly evaluation (月考评) and the weekly bulletin's ranking: the facts the
aggregate queries return, attributed to contractors, supervision companies, projects and areas,
turned into each indicator's value, points, a weighted score, a grade and a rank.

Attribution (who a record counts for):
- a record's project, the project's area and every area above it up to (not including) the
  programme's own area, and the supervision companies of the project;
- its contractor; a record with no contractor on a site (a whole-site safety check) counts for
  every contractor with work on that site; one with neither counts for no contractor.
Per-site indicators divide by the subject's sites: a contractor's are the sites it has work on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any
from uuid import UUID

from inspection.checklists.scoring import SubtableScore, jgj59_summary
from inspection.programme.rules import GRADE_ORDER, ancestors, competition_ranks, rule_data


class SubjectKind(StrEnum):
    contractor = "contractor"  # 施工单位
    supervisor = "supervisor"  # 监理单位
    project = "project"  # 项目
    area = "area"  # 街道 / 社区 …


class Measure(StrEnum):
    safety = "safety"  # mean of the subject's sites' JGJ 59 summary scores
    ratio = "ratio"  # 100 × hits / count
    per_site = "per_site"  # amount / the subject's sites


@dataclass(frozen=True)
class IndicatorRule:
    code: str
    name: str
    short: str  # a table's column heading
    unit: str
    measure: Measure
    weight: Fraction
    full_at: Fraction
    zero_at: Fraction

    def points(self, value: Fraction) -> Fraction:
        """100 at `full_at`, 0 at `zero_at`, a straight line between, held at both ends."""
        share = (value - self.zero_at) / (self.full_at - self.zero_at)
        return 100 * min(Fraction(1), max(Fraction(0), share))


@dataclass(frozen=True)
class Cap:
    indicator: str
    at_least: Fraction
    max_grade: str


@dataclass(frozen=True)
class EvaluationRules:
    indicators: tuple[IndicatorRule, ...]
    grades: tuple[tuple[str, Fraction], ...]  # (name, minimum), best first
    caps: tuple[Cap, ...]
    min_measured: int
    decimals: int

    def grade_of(self, score: Decimal) -> str:
        for name, minimum in self.grades:
            if score >= minimum:
                return name
        return self.grades[-1][0]


def _fraction(value: Any) -> Fraction:
    return Fraction(str(value))


def parse_rules(data: Mapping[str, Any] | None = None) -> EvaluationRules:
    data = data or rule_data()
    indicators = []
    for code, entry in data["indicators"].items():
        rule = IndicatorRule(
            code=code,
            name=entry["name"],
            short=entry.get("short", entry["name"]),
            unit=entry["unit"],
            measure=Measure(entry["measure"]),
            weight=_fraction(entry["weight"]),
            full_at=_fraction(entry["full_at"]),
            zero_at=_fraction(entry["zero_at"]),
        )
        if rule.full_at == rule.zero_at or rule.weight <= 0:
            raise ValueError(f"indicators.{code}: full_at must differ from zero_at and the weight be positive")
        if not entry.get("source"):
            raise ValueError(f"indicators.{code}: name the number's source (or 'local choice')")
        indicators.append(rule)
    grades = tuple((g["name"], _fraction(g["min"])) for g in data["grades"])
    if [g for g, _ in grades] != GRADE_ORDER or list(grades) != sorted(grades, key=lambda g: -g[1]):
        raise ValueError(f"grades must be {', '.join(GRADE_ORDER)} with falling minimums")
    caps = tuple(Cap(c["indicator"], _fraction(c["at_least"]), c["max_grade"]) for c in data.get("caps", []))
    for cap in caps:
        if cap.indicator not in data["indicators"] or cap.max_grade not in GRADE_ORDER:
            raise ValueError(f"caps: unknown indicator {cap.indicator!r} or grade {cap.max_grade!r}")
    ev = data["evaluation"]
    return EvaluationRules(tuple(indicators), grades, caps, int(ev["min_measured"]), int(ev["decimals"]))


# What the aggregate queries return (one list per indicator)


@dataclass(frozen=True)
class SafetyRow:
    """Sub-table scores of one JGJ 59 table on one site in the period: their sum (in hundredths
    of a point: the scorer keeps two decimals, so sums stay exact integers) and number."""

    project: UUID
    site: UUID
    contractor: UUID | None
    group: str  # the summary line (management, scaffold, …)
    code: str  # the sub-table's template code
    total_hundredths: int
    count: int


@dataclass(frozen=True)
class RatioRow:
    project: UUID
    site: UUID | None
    contractor: UUID | None
    hits: int
    count: int


@dataclass(frozen=True)
class AmountRow:
    """An amount in whole units of 1/`per` of the indicator's unit (overdue order-days are counted
    in seconds, per = 86,400), so sums stay exact integers."""

    project: UUID
    site: UUID | None
    contractor: UUID | None
    amount: int
    per: int = 1


Facts = Mapping[str, Sequence[SafetyRow] | Sequence[RatioRow] | Sequence[AmountRow]]
Subject = tuple["SubjectKind", UUID]


@dataclass(frozen=True)
class Structure:
    """The programme's projects, sites, areas and organisations, as the rollup needs them."""

    root_area: UUID
    area_parent: Mapping[UUID, UUID | None]
    area_names: Mapping[UUID, str]
    area_levels: Mapping[UUID, str]
    project_area: Mapping[UUID, UUID]
    project_names: Mapping[UUID, str]
    project_supervisors: Mapping[UUID, frozenset[UUID]]
    site_project: Mapping[UUID, UUID]
    site_contractors: Mapping[UUID, frozenset[UUID]]
    organisation_names: Mapping[UUID, str]

    def areas_of(self, project: UUID) -> list[UUID]:
        """The project's area and those above it, below the programme's own area."""
        area = self.project_area.get(project)
        if area is None:
            return []
        chain = ancestors(self.area_parent, area)
        return chain[: chain.index(self.root_area)] if self.root_area in chain else chain

    def name_of(self, kind: SubjectKind, subject: UUID) -> str:
        if kind is SubjectKind.project:
            return self.project_names.get(subject, "")
        if kind is SubjectKind.area:
            return self.area_names.get(subject, "")
        return self.organisation_names.get(subject, "")


class Attribution:
    """Who a record counts for (see the module docstring), worked out once per project and per
    site: the rollup asks for every group of every indicator."""

    def __init__(self, structure: Structure) -> None:
        self.by_project: dict[UUID, list[Subject]] = {}
        for project in structure.project_area:
            subjects: list[Subject] = [(SubjectKind.project, project)]
            subjects += [(SubjectKind.area, a) for a in structure.areas_of(project)]
            subjects += [(SubjectKind.supervisor, o) for o in sorted(structure.project_supervisors.get(project, ()))]
            self.by_project[project] = subjects
        self.by_site: dict[UUID, list[Subject]] = {
            site: [(SubjectKind.contractor, c) for c in sorted(orgs)]
            for site, orgs in structure.site_contractors.items()
        }
        self.structure = structure

    def of(self, project: UUID, site: UUID | None, contractor: UUID | None) -> list[Subject] | None:
        """None for a record outside the programme's projects."""
        base = self.by_project.get(project)
        if base is None:
            return None
        if contractor is not None:
            return [*base, (SubjectKind.contractor, contractor)]
        if site is not None:
            return base + self.by_site.get(site, [])
        return base

    def sites(self) -> dict[Subject, set[UUID]]:
        out: dict[Subject, set[UUID]] = {}
        for site, project in self.structure.site_project.items():
            for subject in self.of(project, site, None) or ():
                out.setdefault(subject, set()).add(site)
        return out


# The result


@dataclass
class IndicatorResult:
    code: str
    value: Fraction | None  # None: no data this period
    points: Fraction | None
    hits: int = 0
    count: int = 0
    amount: Fraction = Fraction(0)
    sites: int = 0  # the sites the value was taken over (safety: those with a score)

    def as_json(self, decimals: int) -> dict[str, Any]:
        return {
            "value": _shown(self.value, decimals + 1),
            "points": _shown(self.points, decimals),
            "hits": self.hits,
            "count": self.count,
            "amount": _shown(self.amount, decimals + 1),
            "sites": self.sites,
        }


@dataclass
class SubjectResult:
    kind: SubjectKind
    id: UUID
    name: str
    sites: int
    level: str = ""  # areas only
    indicators: dict[str, IndicatorResult] = field(default_factory=dict)
    score: Decimal | None = None
    grade: str = ""  # "" = not graded (不参评)
    capped_by: list[str] = field(default_factory=list)
    rank: int | None = None

    def as_json(self, decimals: int) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "id": str(self.id),
            "name": self.name,
            "sites": self.sites,
            "level": self.level,
            "score": str(self.score) if self.score is not None else None,
            "grade": self.grade,
            "capped_by": self.capped_by,
            "rank": self.rank,
            "indicators": {code: r.as_json(decimals) for code, r in self.indicators.items()},
        }


def _round(value: Fraction, decimals: int) -> Decimal:
    quantum = Decimal(1).scaleb(-decimals)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(quantum, rounding=ROUND_HALF_UP)


def _shown(value: Fraction | None, decimals: int) -> str | None:
    return None if value is None else str(_round(value, decimals))


class _SiteSafety:
    """A site's JGJ 59 summary from the period's sub-tables: each table's mean score, then the
    summary's weighted lines (checklists/scoring.py), as the standard's 检查评分汇总表 does. The
    same sub-tables give the same summary: it is worked out once (a whole-site check counts for
    the site, its project, areas and every contractor on it alike)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[tuple[str, str, int, int], ...], int | None] = {}

    def hundredths(self, rows: Iterable[SafetyRow]) -> int | None:
        per_code: dict[tuple[str, str], list[int]] = {}
        for r in rows:
            acc = per_code.setdefault((r.group, r.code), [0, 0])
            acc[0] += r.total_hundredths
            acc[1] += r.count
        key = tuple(sorted((g, c, t, n) for (g, c), (t, n) in per_code.items() if n))
        if key not in self._memo:
            subtables = [SubtableScore(g, c, t / n / 100) for g, c, t, n in key]
            total = jgj59_summary(subtables).total
            self._memo[key] = None if total is None else round(total * 100)
        return self._memo[key]


def evaluate(structure: Structure, facts: Facts, rules: EvaluationRules) -> list[SubjectResult]:
    """Every subject of the programme with its indicators, score, grade and rank (ranks within a
    kind; areas within their level). Subjects are every project, the areas that hold projects, the
    contractors with work on a site and the projects' supervision companies."""
    attribution = Attribution(structure)
    results: dict[Subject, SubjectResult] = {}
    for (kind, subject), subject_sites in attribution.sites().items():
        results[(kind, subject)] = SubjectResult(
            kind=kind,
            id=subject,
            name=structure.name_of(kind, subject),
            sites=len(subject_sites),
            level=structure.area_levels.get(subject, "") if kind is SubjectKind.area else "",
        )
    for project in structure.project_area:  # a project without sites is still a subject
        results.setdefault(
            (SubjectKind.project, project),
            SubjectResult(SubjectKind.project, project, structure.project_names.get(project, ""), 0),
        )
    for rule in rules.indicators:
        rows = facts.get(rule.code, ())
        if rule.measure is Measure.safety:
            _safety(attribution, rule, rows, results)  # type: ignore[arg-type]
        else:
            _sums(attribution, rule, rows, results)  # type: ignore[arg-type]
    for result in results.values():
        _score(result, rules)
    ranked = sorted(results.values(), key=lambda r: (r.kind.value, r.level, -(r.score or -1), r.name, str(r.id)))
    groups: dict[tuple[SubjectKind, str], list[SubjectResult]] = {}
    for r in ranked:
        groups.setdefault((r.kind, r.level), []).append(r)
    for members in groups.values():
        for r, rank in zip(
            members,
            competition_ranks([float(m.score) if m.grade and m.score is not None else None for m in members]),
            strict=True,
        ):
            r.rank = rank
    return ranked


def _safety(
    attribution: Attribution,
    rule: IndicatorRule,
    rows: Sequence[SafetyRow],
    results: dict[Subject, SubjectResult],
) -> None:
    by_subject_site: dict[Subject, dict[UUID, list[SafetyRow]]] = {}
    for row in rows:
        for subject in attribution.of(row.project, row.site, row.contractor) or ():
            by_subject_site.setdefault(subject, {}).setdefault(row.site, []).append(row)
    summary = _SiteSafety()
    for subject, result in results.items():
        scores = [h for h in map(summary.hundredths, by_subject_site.get(subject, {}).values()) if h is not None]
        if scores:
            value = Fraction(sum(scores), 100 * len(scores))
            result.indicators[rule.code] = IndicatorResult(
                rule.code, value, rule.points(value), count=len(scores), sites=len(scores)
            )
        else:
            result.indicators[rule.code] = IndicatorResult(rule.code, None, None)


def _sums(
    attribution: Attribution,
    rule: IndicatorRule,
    rows: Sequence[RatioRow] | Sequence[AmountRow],
    results: dict[Subject, SubjectResult],
) -> None:
    hits: dict[Subject, int] = {}
    counts: dict[Subject, int] = {}
    amounts: dict[Subject, int] = {}
    per = 1
    for row in rows:
        subjects = attribution.of(row.project, row.site, row.contractor)
        if subjects is None:
            continue
        if isinstance(row, RatioRow):
            for subject in subjects:
                hits[subject] = hits.get(subject, 0) + row.hits
                counts[subject] = counts.get(subject, 0) + row.count
        else:
            per = row.per
            for subject in subjects:
                amounts[subject] = amounts.get(subject, 0) + row.amount
    for subject, result in results.items():
        if rule.measure is Measure.ratio:
            n = counts.get(subject, 0)
            value = Fraction(100 * hits.get(subject, 0), n) if n else None
            result.indicators[rule.code] = IndicatorResult(
                rule.code,
                value,
                rule.points(value) if value is not None else None,
                hits=hits.get(subject, 0),
                count=n,
            )
        else:
            amount = Fraction(amounts.get(subject, 0), per)
            value = amount / result.sites if result.sites else None
            result.indicators[rule.code] = IndicatorResult(
                rule.code,
                value,
                rule.points(value) if value is not None else None,
                amount=amount,
                sites=result.sites,
            )


def _score(result: SubjectResult, rules: EvaluationRules) -> None:
    measured = [r for r in rules.indicators if r.measure is not Measure.per_site]
    with_data = [r for r in measured if result.indicators[r.code].value is not None]
    if len(with_data) < rules.min_measured:
        return
    used = [r for r in rules.indicators if result.indicators[r.code].points is not None]
    total_weight = sum((r.weight for r in used), Fraction(0))
    exact = sum((r.weight * result.indicators[r.code].points for r in used), Fraction(0)) / total_weight  # type: ignore[operator]
    result.score = _round(exact, rules.decimals)
    grade = rules.grade_of(result.score)
    for cap in rules.caps:
        found = result.indicators.get(cap.indicator)
        if (
            found is not None
            and found.amount >= cap.at_least
            and GRADE_ORDER.index(grade) < GRADE_ORDER.index(cap.max_grade)
        ):
            grade = cap.max_grade
            result.capped_by.append(cap.indicator)
    result.grade = grade


def evaluation_json(results: Sequence[SubjectResult], rules: EvaluationRules) -> list[dict[str, Any]]:
    return [r.as_json(rules.decimals) for r in results]
