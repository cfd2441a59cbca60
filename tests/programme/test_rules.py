"""Pure rules of programme supervision, table-driven and without a database: indicator points,
weights left out when there is no data, caps, grades on the published score, ranks, months,
households, the survey's questions and the credit lists across month boundaries."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from uuid import UUID, uuid4

import pytest

from inspection.messages import t
from inspection.programme.rules import (
    AreaLevel,
    Month,
    OfficeRole,
    ancestors,
    answers_problem,
    child_level_problem,
    competition_ranks,
    credit_rules,
    descendants,
    household_problem,
    is_recommended,
    is_watched,
    monthly_grades,
    normalise_room,
    office_problem,
    questions,
    worst,
)
from inspection.programme.scoring import (
    AmountRow,
    RatioRow,
    Structure,
    SubjectKind,
    evaluate,
    parse_rules,
)

RULES = parse_rules()


def rule(code: str):  # type: ignore[no-untyped-def]
    return next(r for r in RULES.indicators if r.code == code)


@pytest.mark.parametrize(
    ("code", "value", "points"),
    [
        # JGJ 59 lines land on this evaluation's lines: 70 (合格) → 60, 80 (优良) → 80, 90 → 100
        ("safety_score", 70, 60),
        ("safety_score", 80, 80),
        ("safety_score", 95, 100),  # held at 100
        ("safety_score", 30, 0),  # held at 0
        ("first_pass", 90, 80),
        ("on_time", 75, 50),
        # lower is better: 0 overdue order-days per site is full marks, 10 is none
        ("overdue_days", 0, 100),
        ("overdue_days", Fraction(5, 2), 75),
        ("stop_work", Fraction(1, 4), 50),
        ("satisfaction", 85, 75),
    ],
)
def test_points_on_the_line(code: str, value: Fraction, points: int) -> None:
    assert rule(code).points(Fraction(value)) == points


def _structure(sites: int = 1) -> tuple[Structure, UUID, UUID, list[UUID]]:
    root, street, project, contractor = uuid4(), uuid4(), uuid4(), uuid4()
    site_ids = [uuid4() for _ in range(sites)]
    return (
        Structure(
            root_area=root,
            area_parent={root: None, street: root},
            area_names={root: "区", street: "街道"},
            area_levels={root: "county", street: "street"},
            project_area={project: street},
            project_names={project: "项目"},
            project_supervisors={},
            site_project={s: project for s in site_ids},
            site_contractors={s: frozenset({contractor}) for s in site_ids},
            organisation_names={contractor: "施工单位"},
        ),
        project,
        contractor,
        site_ids,
    )


def test_weights_of_indicators_without_data_are_left_out_and_one_measured_is_not_enough() -> None:
    structure, project, contractor, (site,) = _structure()
    # only on-time orders (1 of 1) and nothing per site: one measured indicator → not graded
    facts = {"on_time": [RatioRow(project, site, contractor, 1, 1)]}
    results = {(r.kind, r.id): r for r in evaluate(structure, facts, RULES)}
    c = results[(SubjectKind.contractor, contractor)]
    assert (c.score, c.grade, c.rank) == (None, "", None)
    # with satisfaction 19 of 20 (95 % → 100 points): both measured, weights 15 + 15 + the
    # per-site ones (10 + 10 + 10 + 5, all at 100): everything at 100 → 100.0, 优秀
    facts["satisfaction"] = [RatioRow(project, site, None, 19, 20)]
    c = {(r.kind, r.id): r for r in evaluate(structure, facts, RULES)}[(SubjectKind.contractor, contractor)]
    assert (str(c.score), c.grade) == ("100.0", "优秀")
    # the area of the project is a subject, the programme's own area is not
    kinds = sorted(r.kind.value for r in evaluate(structure, facts, RULES))
    assert kinds == ["area", "contractor", "project"]


def test_a_stop_work_order_caps_the_grade_at_good() -> None:
    structure, project, contractor, sites = _structure(sites=4)
    facts = {
        "on_time": [RatioRow(project, sites[0], contractor, 10, 10)],
        "satisfaction": [RatioRow(project, s, None, 10, 10) for s in sites],
        # one stop-work order on 4 sites: 0.25 → 50 points (weight 10) → score 95.2
        "stop_work": [AmountRow(project, sites[0], contractor, 1)],
    }
    c = {(r.kind, r.id): r for r in evaluate(structure, facts, RULES)}[(SubjectKind.contractor, contractor)]
    # (15×100 + 15×100 + 10×100 + 10×50 + 10×100 + 5×100) / 65 = 6000 / 65 = 92.3
    assert str(c.score) == "92.3"
    assert (c.grade, c.capped_by) == ("良好", ["stop_work"])


@pytest.mark.parametrize(
    ("exact", "shown", "grade"),
    [
        # the grade is read from the published score (half up to one decimal)
        (Fraction(8995, 100), "90.0", "优秀"),
        (Fraction(8994, 100), "89.9", "良好"),
        (Fraction(5995, 100), "60.0", "合格"),
        (Fraction(5994, 100), "59.9", "不合格"),
    ],
)
def test_grades_read_the_published_score(exact: Fraction, shown: str, grade: str) -> None:
    from inspection.programme.scoring import _round

    score = _round(exact, RULES.decimals)
    assert (str(score), RULES.grade_of(score)) == (shown, grade)


def test_ranks_share_equal_scores() -> None:
    assert competition_ranks([90.0, 85.0, 85.0, None, 70.0]) == [1, 2, 2, None, 4]


def test_months_in_beijing_time() -> None:
    m = Month.parse("2026-03")
    assert m.start == datetime(2026, 2, 28, 16, tzinfo=UTC)  # 1 March 00:00 in Beijing
    assert Month.holding(datetime(2026, 3, 31, 16, 30, tzinfo=UTC)) == Month(2026, 4)
    assert Month(2026, 12).next() == Month(2027, 1) and Month(2027, 1).previous() == Month(2026, 12)
    assert Month(2026, 2).back(3) == [Month(2026, 2), Month(2026, 1), Month(2025, 12)]
    for bad in ("2026-13", "2026-3", "26-03", ""):
        with pytest.raises(ValueError):
            Month.parse(bad)


def test_area_tree_and_offices() -> None:
    city, district, street, community = uuid4(), uuid4(), uuid4(), uuid4()
    parents = {city: None, district: city, street: district, community: street}
    assert ancestors(parents, community) == [community, street, district, city]
    assert descendants(parents, district) == {district, street, community}
    assert child_level_problem(AreaLevel.street, AreaLevel.county) is not None
    assert child_level_problem(AreaLevel.county, AreaLevel.street) is None
    assert child_level_problem(None, AreaLevel.street) is None
    assert office_problem(OfficeRole.street_office, AreaLevel.county) is not None
    assert office_problem(OfficeRole.programme_office, AreaLevel.city) is None


@pytest.mark.parametrize(
    ("unit", "room", "units", "floors", "field"),
    [
        (1, "501", 3, 6, None),
        (4, "501", 3, 6, "unit"),  # the building has 3 units
        (1, "701", 3, 6, "room"),  # 6 floors
        (1, "5-1", 3, 6, "room"),
        (1, "500", 3, 6, "room"),  # door 00
        (2, "1203", None, None, None),  # floors unknown: any floor
    ],
)
def test_households(unit: int, room: str, units: int | None, floors: int | None, field: str | None) -> None:
    problem = household_problem(unit, room, building_units=units, building_floors=floors)
    assert (problem[0] if problem else None) == field


def test_rooms_are_normalised() -> None:
    assert [normalise_room(r) for r in ("501", "501室", " 0501 ")] == ["501", "501", "501"]


def test_the_survey_asks_about_the_work_a_site_has() -> None:
    q = questions()
    asked = q.for_work_types(["roof_waterproofing", "drainage"])
    assert [c.code for c in asked] == ["roof", "drainage", "conduct"]
    assert answers_problem(4, {"roof": 5}, "", asked, q) is None
    assert answers_problem(4, {"parking": 5}, "", asked, q) == (
        "answers.parking",
        t("programme.site_was_not_asked_about"),
    )
    assert answers_problem(6, {}, "", asked, q)[0] == "overall"  # type: ignore[index]
    assert answers_problem(3, {}, "x" * 501, asked, q)[0] == "comment"  # type: ignore[index]


def test_credit_lists_follow_their_rules_across_month_boundaries() -> None:
    rule = credit_rules()  # recommended: 优秀 three months running; watch: 不合格 twice in three
    history = monthly_grades(
        [
            (Month(2025, 11), "优秀"),
            (Month(2025, 12), "优秀"),
            (Month(2026, 1), "优秀"),
            # two programmes in February: the worse counts
            (Month(2026, 2), "优秀"),
            (Month(2026, 2), "良好"),
        ]
    )
    assert is_recommended(history, Month(2026, 1), rule)  # Nov, Dec, Jan: across the year's end
    assert not is_recommended(history, Month(2026, 2), rule)  # February counts as 良好
    assert not is_recommended(history, Month(2026, 3), rule)  # March not graded: the run breaks
    bad = monthly_grades([(Month(2026, 1), "不合格"), (Month(2026, 3), "不合格")])
    assert is_watched(bad, Month(2026, 3), rule)  # Jan and Mar within Jan–Mar
    assert not is_watched(bad, Month(2026, 4), rule)  # Feb–Apr holds one
    assert worst(["良好", "", "合格"]) == "合格" and worst([""]) == ""
