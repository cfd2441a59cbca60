"""The monthly evaluation (月考评) of a small programme, worked by hand: two contractors (A, B),
three sites (S1 and S2 in project P1 of 东街道, S3 in project P2 of 西街道), March 2026's
inspections, lots, orders, a failed sample, an upheld complaint and survey answers, each made
through its own domain's service at the moment it happens. Then: finalising freezes the figures,
a revision keeps the old ones, and a street office sees its street only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from inspection.audit.service import history
from inspection.clock import FixedClock
from inspection.errors import Conflict, Forbidden, NotFound
from inspection.programme.tables import CreditGrade, EvaluationRevision
from inspection.rectification import schemas as rs
from inspection.rectification.rules import OrderKind, Severity
from tests.checklists.helpers import SCAFFOLD
from tests.programme.helpers import (
    Programme,
    accept,
    answer,
    bj,
    failed_sample,
    inspect,
    order,
    respond,
    roof_lot,
    scaffold,
    upheld_complaint,
)


async def march(p: Programme, clock: FixedClock) -> None:
    """March 2026 (and the edges around it) as the test's comments count it."""
    # JGJ 59 scaffold sub-tables. Feb 27 is outside the month.
    await inspect(p, clock, bj(2, 27), project="p1", site="S1", work="A1", code=SCAFFOLD, answers=scaffold(100))
    await inspect(p, clock, bj(3, 3), project="p1", site="S1", work="A1", code=SCAFFOLD, answers=scaffold(90))
    await inspect(p, clock, bj(3, 3, 11), project="p1", site="S1", work=None, code=SCAFFOLD, answers=scaffold(80))
    await inspect(p, clock, bj(3, 4), project="p1", site="S2", work="A2", code=SCAFFOLD, answers=scaffold(70))
    await inspect(p, clock, bj(3, 4, 11), project="p2", site="S3", work="B3", code=SCAFFOLD, answers=scaffold(60))
    # GB 50300 roof lots: S1 passes first time, S2 fails then passes, S3 passes first time
    await roof_lot(p, clock, bj(3, 5), "p1", "S1", "A1", passed=True)
    await roof_lot(p, clock, bj(3, 6), "p1", "S2", "A2", passed=False)
    await roof_lot(p, clock, bj(3, 12), "p1", "S2", "A2", passed=True)
    await roof_lot(p, clock, bj(3, 7), "p2", "S3", "B3", passed=True)
    # Orders
    o6 = await order(p, clock, bj(2, 2, 9), project="p1", work="B1", deadline=bj(2, 5, 18))
    await respond(p, clock, bj(3, 2, 0), o6, "contractor_b")  # overdue from Mar 1 00:00: 1 day in March
    await accept(p, clock, bj(3, 3, 8), o6)
    o5 = await order(p, clock, bj(2, 25, 9), project="p1", work="B1", deadline=bj(3, 3, 0))
    await respond(p, clock, bj(3, 2, 10), o5, "contractor_b")
    await accept(p, clock, bj(3, 3, 9), o5)  # due Mar 3, on time
    o1 = await order(p, clock, bj(3, 2, 9), project="p1", work="A1", deadline=bj(3, 5, 18))
    await respond(p, clock, bj(3, 4, 10), o1, "contractor_a")
    await accept(p, clock, bj(3, 5, 9), o1)  # on time
    o7 = await order(p, clock, bj(3, 8, 9), project="p1", work="A1", deadline=bj(3, 9, 18))
    clock.set(bj(3, 9, 10))
    await p.world.services.rectification.cancel(p.actor("inspector"), o7, rs.CancelBody(reason="下发有误"))
    o2 = await order(p, clock, bj(3, 10, 9), project="p1", work="A2", deadline=bj(3, 13, 18))
    await respond(p, clock, bj(3, 15, 18), o2, "contractor_a")  # 2 days late
    await accept(p, clock, bj(3, 16, 9), o2)
    await failed_sample(p, clock, bj(3, 18))
    o3 = await order(
        p,
        clock,
        bj(3, 20, 9),
        project="p1",
        work="A1",
        deadline=bj(3, 23, 18),
        kind=OrderKind.stop_work,
        severity=Severity.major,
    )
    await respond(p, clock, bj(3, 23, 10), o3, "contractor_a")
    await accept(p, clock, bj(3, 23, 12), o3)  # on time; still a stop-work order in March
    await order(p, clock, bj(3, 25, 9), project="p2", work="B3", deadline=bj(3, 28, 0))  # never answered
    await upheld_complaint(p, clock, bj(3, 26), "S2", "A2")  # its order is due in April
    # Survey answers (S1 101 first says 1, then replaces it with 5)
    await answer(p, clock, bj(3, 10), "S1", "101", 1)
    for site, room, overall in [
        ("S1", "101", 5),
        ("S1", "102", 4),
        ("S1", "201", 3),
        ("S1", "202", 2),
        ("S2", "101", 5),
        ("S2", "102", 5),
        ("S3", "101", 4),
        ("S3", "102", 4),
        ("S3", "201", 1),
    ]:
        await answer(p, clock, bj(3, 11), site, room, overall)
    await answer(p, clock, bj(4, 2), "S3", "301", 5)  # after the month


def by_name(evaluation: Any) -> dict[tuple[str, str], Any]:
    return {(sub.kind, sub.name): sub for sub in evaluation.subjects}


def ind(subject: Any, code: str) -> tuple[str | None, str | None]:
    i = subject.indicators[code]
    return i.value, i.points


@pytest.fixture
async def evaluated(programme: Programme, clock: FixedClock) -> Programme:
    await march(programme, clock)
    clock.set(bj(4, 10))
    return programme


async def test_march_worked_by_hand(evaluated: Programme) -> None:
    p = evaluated
    result = await p.svc.evaluation(p.actor("office"), p.id, "2026-03")
    assert result.status == "live"
    subjects = by_name(result)
    a = subjects[("contractor", p.world.orgs["contractor_a"].name)]
    b = subjects[("contractor", p.world.orgs["contractor_b"].name)]
    # Contractor A works on S1 and S2 (2 sites).
    # Safety: S1 = mean of its scaffold tables counting for A (A's own 90 and the whole-site 80)
    # = 85; S2 = 70; mean 77.5 → (77.5 − 40) / (90 − 40) × 100 = 75 points.
    assert ind(a, "safety_score") == ("77.50", "75.0")
    # Lots first inspected in March: S1 passed, S2 failed (its re-inspection does not count): 50 % → 0.
    assert ind(a, "first_pass") == ("50.00", "0.0")
    # Due in March: O1 on time, O2 answered late, O3 on time (O7 cancelled, the complaint's order
    # is due in April): 2/3 = 66.67 % → (66.67 − 50) / 50 × 100 = 33.3.
    assert ind(a, "on_time") == ("66.67", "33.3")
    # Overdue: O2 from Mar 13 18:00 to Mar 15 18:00 = 2 order-days over 2 sites = 1 → 90.
    assert ind(a, "overdue_days") == ("1.00", "90.0")
    # One stop-work order over 2 sites = 0.5 → 0; one failed sample: 0.5 → 50; one upheld
    # complaint: 0.5 → (0.5 − 2) / (0 − 2) × 100 = 75.
    assert ind(a, "stop_work") == ("0.50", "0.0")
    assert ind(a, "failed_samples") == ("0.50", "50.0")
    assert ind(a, "complaints_upheld") == ("0.50", "75.0")
    # Satisfied (≥ 4) households by March's end on S1 (5, 4, 3, 2; 101 replaced its 1 with 5) and
    # S2 (5, 5): 4 of 6 = 66.67 % → (66.67 − 55) / (95 − 55) × 100 = 29.2.
    assert ind(a, "satisfaction") == ("66.67", "29.2")
    assert a.indicators["satisfaction"].count == 6
    # Score: (20×75 + 15×0 + 15×33.33 + 10×90 + 10×0 + 10×50 + 5×75 + 15×29.17) / 100 = 42.125 → 42.1
    assert (a.score, a.grade, a.rank) == ("42.1", "不合格", 2)

    # Contractor B works on S1 and S3. Safety: S1 = the whole-site 80 only, S3 = 60 → 70 → 60 points.
    assert ind(b, "safety_score") == ("70.00", "60.0")
    assert ind(b, "first_pass") == ("100.00", "100.0")
    # Due in March: O5 on time, O4 never answered: 50 % → 0.
    assert ind(b, "on_time") == ("50.00", "0.0")
    # Overdue: O4 from Mar 28 00:00 to the month's end = 4 days, O6 from Mar 1 to its answer on
    # Mar 2 = 1 day: 5 over 2 sites = 2.5 → 75.
    assert ind(b, "overdue_days") == ("2.50", "75.0")
    assert ind(b, "stop_work") == ("0.00", "100.0")
    # S1 2 of 4 and S3 2 of 3 (the April answer does not count): 4/7 = 57.14 % → 5.4 points.
    assert ind(b, "satisfaction") == ("57.14", "5.4")
    # (20×60 + 15×100 + 0 + 10×75 + 10×100 + 10×100 + 5×100 + 15×5.357) / 100 = 60.30 → 60.3
    assert (b.score, b.grade, b.rank) == ("60.3", "合格", 1)

    p1 = subjects[("project", "一号改造项目")]
    p2 = subjects[("project", "二号改造项目")]
    # P1: safety as A's (77.5); lots 1 of 2; on time O1, O3, O5 of O1, O2, O3, O5 = 75 % → 50;
    # overdue O2 2 + O6 1 = 3 over 2 sites = 1.5 → 85; stop 0.5 → 0; sample 0.5 → 50;
    # complaint 0.5 → 75; satisfaction 4/6 → 29.17.
    # (1500 + 0 + 750 + 850 + 0 + 500 + 375 + 437.5) / 100 = 44.125 → 44.1
    assert ind(p1, "on_time") == ("75.00", "50.0")
    assert ind(p1, "overdue_days") == ("1.50", "85.0")
    assert (p1.score, p1.grade, p1.rank) == ("44.1", "不合格", 2)
    # P2: safety 60 → 40; lots 100 %; O4 late → 0; 4 days on 1 site → 60; satisfaction 2/3 → 29.17.
    # (800 + 1500 + 0 + 600 + 1000 + 1000 + 500 + 437.5) / 100 = 58.375 → 58.4
    assert ind(p2, "overdue_days") == ("4.00", "60.0")
    assert (p2.score, p2.grade, p2.rank) == ("58.4", "不合格", 1)
    # Streets hold one project each; the supervision company supervises P1 only.
    assert subjects[("area", "东街道")].score == "44.1"
    assert subjects[("area", "西街道")].score == "58.4"
    assert subjects[("supervisor", p.world.orgs["supervisor"].name)].score == "44.1"
    # the programme's own district, the city above it and a community without projects are no subjects
    assert {n for k, n in subjects if k == "area"} == {"东街道", "西街道"}


async def test_a_finalised_month_keeps_its_figures_and_a_revision_keeps_the_old_ones(
    evaluated: Programme, clock: FixedClock
) -> None:
    p = evaluated
    office = p.actor("office")
    final = await p.svc.finalise(office, p.id, "2026-03")
    assert (final.status, final.revision) == ("finalised", 1)
    grades = await CreditGrade.select(CreditGrade.kind, CreditGrade.grade).where(CreditGrade.current.eq(True))
    assert sorted((g["kind"], g["grade"]) for g in grades) == [
        ("contractor", "不合格"),
        ("contractor", "合格"),
        ("supervisor", "不合格"),
    ]
    # a record of March arrives late: live figures would change, the finalised month does not
    await answer(p, clock, bj(3, 31, 20), "S3", "202", 5)
    clock.set(bj(4, 12))
    again = await p.svc.evaluation(office, p.id, "2026-03", compare=True)
    assert again.subjects == final.subjects
    assert again.differs_from_records is True
    with pytest.raises(Conflict):
        await p.svc.finalise(office, p.id, "2026-03")
    revised = await p.svc.revise(office, p.id, "2026-03", "西街道补录3月31日纸质问卷一份")
    assert (revised.revision, revised.reason) == (2, "西街道补录3月31日纸质问卷一份")
    b2 = by_name(revised)[("contractor", p.world.orgs["contractor_b"].name)]
    assert b2.indicators["satisfaction"].value == "62.50"  # 5 of 8
    first = await p.svc.revision(office, p.id, "2026-03", 1)
    assert by_name(first)[("contractor", p.world.orgs["contractor_b"].name)].indicators["satisfaction"].value == "57.14"
    listed = await p.svc.revisions(office, p.id, "2026-03")
    assert [(r.revision, r.current) for r in listed] == [(1, False), (2, True)]
    assert await CreditGrade.count().where(CreditGrade.current.eq(True)) == 3
    # the audit log keeps who finalised and who corrected, and why
    rows = await EvaluationRevision.select(EvaluationRevision.id, EvaluationRevision.revision)
    second = next(r["id"] for r in rows if r["revision"] == 2)
    entries = await history(EvaluationRevision._meta.tablename, second)
    assert any(e["action"] == "revise" and e["changes"]["reason"].startswith("西街道补录") for e in entries)


async def test_who_may_finalise_and_when(evaluated: Programme, clock: FixedClock) -> None:
    p = evaluated
    with pytest.raises(Forbidden):
        await p.svc.finalise(p.actor("east"), p.id, "2026-03")
    with pytest.raises(NotFound):
        await p.svc.finalise(p.actor("contractor_a"), p.id, "2026-03")
    clock.set(bj(4, 30, 23))
    with pytest.raises(Conflict):  # April is not over
        await p.svc.finalise(p.actor("office"), p.id, "2026-04")
    with pytest.raises(Conflict):  # nothing to correct yet
        await p.svc.revise(p.actor("office"), p.id, "2026-03", "更正")


async def test_a_street_office_sees_its_street(evaluated: Programme) -> None:
    p = evaluated
    east = by_name(await p.svc.evaluation(p.actor("east"), p.id, "2026-03"))
    # its street, its project, the two contractors working there and P1's supervision company
    assert sorted(k for k in east) == sorted(
        [
            ("area", "东街道"),
            ("project", "一号改造项目"),
            ("contractor", p.world.orgs["contractor_a"].name),
            ("contractor", p.world.orgs["contractor_b"].name),
            ("supervisor", p.world.orgs["supervisor"].name),
        ]
    )
    west = by_name(await p.svc.evaluation(p.actor("west"), p.id, "2026-03"))
    assert sorted(k for k in west) == sorted(
        [("area", "西街道"), ("project", "二号改造项目"), ("contractor", p.world.orgs["contractor_b"].name)]
    )
    with pytest.raises(NotFound):
        await p.svc.evaluation(p.actor("outsider"), p.id, "2026-03")


async def test_drilldown_lists_the_records_behind_a_figure(evaluated: Programme) -> None:
    p = evaluated
    a = p.world.orgs["contractor_a"].id
    from inspection.programme.scoring import SubjectKind

    drill = await p.svc.drilldown(p.actor("office"), p.id, "2026-03", SubjectKind.contractor, a, "on_time")
    assert sorted(r.counted for r in drill.rows) == ["按期闭合", "按期闭合", "未按期闭合"]
    overdue = await p.svc.drilldown(p.actor("office"), p.id, "2026-03", SubjectKind.contractor, a, "overdue_days")
    assert [r.counted for r in overdue.rows] == ["逾期 2.0 天"]
    safety = await p.svc.drilldown(p.actor("office"), p.id, "2026-03", SubjectKind.contractor, a, "safety_score")
    assert sorted(r.counted for r in safety.rows) == ["70.0 分", "80.0 分", "90.0 分"]
    survey = await p.svc.drilldown(p.actor("office"), p.id, "2026-03", SubjectKind.contractor, a, "satisfaction")
    assert sorted(r.counted for r in survey.rows) == ["满意 2 / 2 户", "满意 2 / 4 户"]
    with pytest.raises(NotFound):  # the west office does not see P1's records
        await p.svc.drilldown(p.actor("west"), p.id, "2026-03", SubjectKind.project, p.world.id_of("p1"), "on_time")


__all__ = ["Decimal"]
