"""Credit lists across month boundaries: contractor B graded 优秀 in November, December and
January is recommended as of January, and drops off when February is not 优秀; contractor A,
不合格 in two of three months, is on the watch list until the window moves past one of them.
Only finalised months count."""

from __future__ import annotations

from datetime import datetime

from inspection.clock import FixedClock
from tests.programme.helpers import Programme, accept, answer, bj, order, respond


async def month_of(p: Programme, clock: FixedClock, year: int, month: int, *, b_good: bool, a_good: bool) -> None:
    """One order each for A and B due in the month, answered on time or days late."""

    def at(day: int, hour: int = 10) -> datetime:
        return bj(month, day, hour, year=year)

    ob = await order(p, clock, at(3), project="p2", work="B3", deadline=at(5, 18))
    await respond(p, clock, at(4) if b_good else at(9), ob, "contractor_b")
    await accept(p, clock, at(10), ob)
    oa = await order(p, clock, at(3, 11), project="p1", work="A2", deadline=at(5, 18))
    await respond(p, clock, at(4) if a_good else at(9), oa, "contractor_a")
    await accept(p, clock, at(10, 11), oa)


async def test_recommended_and_watch_lists_follow_finalised_months(programme: Programme, clock: FixedClock) -> None:
    p = programme
    # satisfaction stands for every month after it was given: S3 (B's) all satisfied; S2 (A's) not
    for room in ("101", "102"):
        await answer(p, clock, bj(10, 20, year=2025), "S3", room, 5)
        await answer(p, clock, bj(10, 20, year=2025), "S2", room, 2)
    office = p.actor("office")
    plan = [((2025, 11), True, False), ((2025, 12), True, True), ((2026, 1), True, False), ((2026, 2), False, True)]
    for (year, month), b_good, a_good in plan:
        await month_of(p, clock, year, month, b_good=b_good, a_good=a_good)
    clock.set(bj(3, 5))
    b = p.world.orgs["contractor_b"].name
    a = p.world.orgs["contractor_a"].name
    assert (await p.svc.credit_lists()).as_of is None  # nothing finalised: nothing listed
    for label in ("2025-11", "2025-12"):
        await p.svc.finalise(office, p.id, label)
    lists = await p.svc.credit_lists()
    assert (lists.as_of, lists.recommended, [e.name for e in lists.watch]) == ("2025-12", [], [])  # two months only
    await p.svc.finalise(office, p.id, "2026-01")
    lists = await p.svc.credit_lists()
    assert lists.as_of == "2026-01"
    assert [(e.name, [(m.month, m.grade) for m in e.months]) for e in lists.recommended] == [
        (b, [("2026-01", "优秀"), ("2025-12", "优秀"), ("2025-11", "优秀")])
    ]
    # 不合格 in November and January: A, and the supervision company of A's project P1
    assert sorted(e.name for e in lists.watch) == sorted([a, p.world.orgs["supervisor"].name])
    history = await p.svc.credit_history(p.actor("contractor_b"), p.world.orgs["contractor_b"].id)
    assert [(m.month, m.grade, m.score) for m in history] == [
        ("2026-01", "优秀", "100.0"),
        ("2025-12", "优秀", "100.0"),
        ("2025-11", "优秀", "100.0"),
    ]
    await p.svc.finalise(office, p.id, "2026-02")
    lists = await p.svc.credit_lists()
    assert (lists.as_of, lists.recommended) == ("2026-02", [])  # February broke B's run
    assert lists.watch == []  # December to February holds one 不合格 month (January)
