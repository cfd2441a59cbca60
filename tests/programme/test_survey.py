"""Residents' satisfaction survey: open after the site's joint acceptance (or during works where the
programme allows it), one answer per household of the site (a second replaces the first), paper
forms entered by the street office, results as counts and shares for everyone and the answers
themselves for the office roles only."""

from __future__ import annotations

from datetime import date

import pytest

from inspection.actor import SYSTEM
from inspection.audit.service import history
from inspection.clock import FixedClock
from inspection.errors import Conflict, NotFound, RateLimited, ValidationFailed
from inspection.programme import schemas as s
from inspection.programme.survey import SurveyService
from inspection.programme.tables import SurveyAnswer
from inspection.projects.ratelimit import Window
from tests.programme.helpers import Programme, bj
from tests.reports.helpers import pdf_text, squeeze
from tests.warranty.helpers import accept_site


def sheet(p: Programme, site: str = "S1", room: str = "501", overall: int = 4, **more: object) -> s.SurveyIn:
    return s.SurveyIn(building_id=p.buildings[site], unit=1, room=room, overall=overall, **more)  # type: ignore[arg-type]


async def test_closed_until_acceptance_unless_the_programme_opens_it_during_works(
    programme: Programme, clock: FixedClock
) -> None:
    p = programme
    current = await p.svc.get_programme(SYSTEM, p.id)
    await p.svc.update_programme(SYSTEM, p.id, s.ProgrammeUpdate(version=current.version, survey_during_works=False))
    clock.set(bj(6, 20))
    with pytest.raises(Conflict):
        await p.svc.survey.submit(p.sites["S1"], sheet(p))
    accepted = await accept_site(p.world, date(2026, 6, 18))
    receipt = await p.svc.survey.submit(p.sites["S1"], sheet(p, answers={"roof": 5, "conduct": 4}))
    assert not receipt.replaced
    with pytest.raises(Conflict):  # S2 is not accepted
        await p.svc.survey.submit(p.sites["S2"], sheet(p, "S2"))
    # the acceptance record prints the residents' evaluation as of its day: none on the 18th
    reports = p.world.services.reports
    record = await reports.acceptance(p.actor("owner"), accepted.id)
    assert record.data.context["satisfaction"]["answers"] == 0
    project = await accept_site(p.world, date(2026, 6, 20), site_id=None)  # the whole project, today
    whole = await reports.issue(p.actor("owner"), await reports.acceptance(p.actor("owner"), project.id))
    assert "参与评价1户" in squeeze(pdf_text(whole.pdf)) and "满意率100.0%" in squeeze(pdf_text(whole.pdf))
    row = await SurveyAnswer.select(SurveyAnswer.stage, SurveyAnswer.channel).first()
    assert row == {"stage": "after", "channel": "online"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"building": "S3"}, "building_id"),  # a building of another site
        ({"unit": 4}, "unit"),  # S2's building has 3 units
        ({"room": "701"}, "room"),  # and 6 floors
        ({"room": "门卫室"}, "room"),
        ({"answers": {"parking": 5}}, "answers.parking"),  # S2 has no parking work to rate
    ],
)
async def test_a_household_outside_the_site_is_refused(
    programme: Programme, clock: FixedClock, change: dict[str, object], field: str
) -> None:
    p = programme
    clock.set(bj(3, 1))
    data = sheet(p, "S2")
    values = {
        "building_id": p.buildings[str(change.get("building", "S2"))],
        "unit": change.get("unit", 1),
        "room": change.get("room", "501"),
        "overall": 4,
        "answers": change.get("answers", {}),
    }
    data = s.SurveyIn(**values)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as refused:
        await p.svc.survey.submit(p.sites["S2"], data)
    assert refused.value.field == field
    assert await SurveyAnswer.count() == 0


async def test_a_second_answer_from_a_household_replaces_the_first(programme: Programme, clock: FixedClock) -> None:
    p = programme
    clock.set(bj(3, 1))
    await p.svc.survey.submit(p.sites["S1"], sheet(p, overall=1, comment="施工太吵"))
    clock.set(bj(3, 2))
    again = await p.svc.survey.submit(p.sites["S1"], sheet(p, room="0501室", overall=5))
    assert again.replaced
    rows = await SurveyAnswer.select(SurveyAnswer.id, SurveyAnswer.overall, SurveyAnswer.replaced, SurveyAnswer.comment)
    assert [(r["overall"], r["replaced"], r["comment"]) for r in rows] == [(5, 1, "")]
    results = await p.svc.survey.site_results(p.sites["S1"])
    assert (results.answers, results.satisfied_share, results.overall_average) == (1, "100.0", "5.00")
    # the audit log says an answer was replaced, never what either said
    entries = await history(SurveyAnswer._meta.tablename, rows[0]["id"])
    assert [e["action"] for e in entries] == ["create", "replace"]
    assert all("施工太吵" not in str(e["changes"]) and "overall" not in str(e["changes"]) for e in entries)


async def test_answers_are_rate_limited_per_address(programme: Programme, clock: FixedClock) -> None:
    clock.set(bj(3, 1))
    service = SurveyService(clock, Window(max_events=2, seconds=3600))
    await service.check_rate("203.0.113.7")
    await service.check_rate("203.0.113.7")
    with pytest.raises(RateLimited) as limited:
        await service.check_rate("203.0.113.7")
    assert limited.value.retry_after == 3600
    await service.check_rate("203.0.113.8")  # another address has its own count


async def test_paper_forms_and_who_reads_answers(programme: Programme, clock: FixedClock) -> None:
    p = programme
    clock.set(bj(3, 5))
    await p.svc.survey.submit(p.sites["S1"], sheet(p, room="101", overall=2, comment="楼道灯不亮"))
    paper = s.PaperSurveyIn(building_id=p.buildings["S1"], unit=2, room="302", overall=5, form_number="东-0001")
    await p.svc.survey.enter_paper(p.actor("east"), p.sites["S1"], paper)
    with pytest.raises(NotFound):  # not the west office's street
        await p.svc.survey.enter_paper(p.actor("west"), p.sites["S1"], paper)
    with pytest.raises(NotFound):
        await p.svc.survey.enter_paper(p.actor("contractor_a"), p.sites["S1"], paper)
    # the office roles read the answers, comments included
    for who in ("east", "office", "owner", "supervisor"):
        page = await p.svc.survey.answers(p.actor(who), p.sites["S1"])
        assert sorted((a.channel, a.comment) for a in page.items) == [("online", "楼道灯不亮"), ("paper", "")], who
    # nobody else: the contractors being evaluated, other streets, residents, viewers
    for who in ("contractor_a", "west", "resident", "viewer", "outsider"):
        with pytest.raises(NotFound):
            await p.svc.survey.answers(p.actor(who), p.sites["S1"])
    # results are counts and shares: the site's for anyone, a contractor's for it and the offices
    site = await p.svc.survey.site_results(p.sites["S1"])
    assert (site.answers, site.households, site.satisfied_share, site.overall_average) == (2, 320, "50.0", "3.50")
    mine = await p.svc.survey.contractor_results(p.actor("contractor_a"), p.world.orgs["contractor_a"].id)
    assert (mine.answers, mine.satisfied_share) == (2, "50.0")
    with pytest.raises(NotFound):
        await p.svc.survey.contractor_results(p.actor("contractor_b"), p.world.orgs["contractor_a"].id)
