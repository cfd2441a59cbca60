"""The portal's panels fed by other domains — inspections, material samples, warranty — through
their own services. The domains are always part of the build: a broken import fails here."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from inspection.checklists import catalogue
from inspection.samples import schemas as ss
from tests.checklists import helpers as ch
from tests.portal.helpers import browser, sign_in
from tests.samples import helpers as sh
from tests.warranty import helpers as wh


async def test_dashboard_and_project_show_this_weeks_inspections_grades_and_trend(app, world, clock) -> None:

    await catalogue.import_shipped(clock)
    for code, overrides in [(ch.SCAFFOLD, {}), (ch.SCAFFOLD, {"G1": {"deduction": 10}}), (ch.ROOF, {})]:
        iid = (await ch.draft(world, template_code=code, lot_size=40))["inspection"]["id"]
        assert (await ch.answer(world, iid, ch.answers_for(code, **overrides))).status_code == 200
        r = await ch.submit(world, clock, iid)
        assert r.status_code == 200, r.text
    async with browser(app) as b:
        await sign_in(b, world.users["supervisor"].username)
        home = await b.get("/portal/")
        assert 'data-testid="section-inspections-week"' in home.text and "本周检查 3 次" in home.text
        assert "检查评定等级分布" in home.text and 'data-testid="section-score-trend"' in home.text
        assert "<polyline" in home.text  # the trend has points
        project = await b.get(f"/portal/projects/{world.id_of('p1')}")
        assert "最近检查（共 3 次）" in project.text


async def test_failed_samples_on_the_dashboard_and_a_contractors_pending_samples(app, world) -> None:
    actor_of = sh.actor_of

    # one batch whose retest failed: rejected, must leave the site
    batch = (await sh.new_batch(world, batch_number="L24-0001")).batch
    sample = (await sh.sample_on(world, batch.id)).sample
    await sh.svc(world).record_results(actor_of(world, "contractor_a"), sample.id, sh.results(sh.REBAR_PASS, bend="0"))
    retest = await sh.svc(world).take_retest(
        actor_of(world, "contractor_a"), sample.id, ss.RetestCreate(lab_id=await sh.lab(world))
    )
    bends = [ss.ResultIn(test_item="bend", value=Decimal(1)), ss.ResultIn(test_item="bend", value=Decimal(0), set_no=2)]
    await sh.svc(world).record_results(actor_of(world, "supervisor"), retest.sample.id, ss.ResultsBody(results=bends))
    # one waiting for its lab results, one not yet sampled
    waiting = (await sh.new_batch(world, batch_number="L24-0002")).batch
    pending = (await sh.sample_on(world, waiting.id)).sample
    await sh.new_batch(world, batch_number="L24-0003")
    async with browser(app) as b:
        await sign_in(b, world.users["supervisor"].username)
        home = await b.get("/portal/")
        assert "复试不合格材料 1 批" in home.text and "L24-0001" in home.text
    async with browser(app) as c:
        await sign_in(c, world.users["contractor_a"].username)
        mine = await c.get("/portal/orders/")
        assert 'data-testid="material"' in mine.text
        assert "L24-0002" in mine.text and "L24-0003" in mine.text and "L24-0001" not in mine.text
        assert pending.label_code in mine.text
    async with browser(app) as other:
        await sign_in(other, world.users["contractor_b"].username)
        theirs = await other.get("/portal/orders/")
        assert "L24-0002" not in theirs.text and pending.label_code not in theirs.text


async def test_warranties_expiring_soon(app, world, clock) -> None:

    # accepted almost two years ago: the drainage work's 2-year warranty ends within 90 days
    clock.set(datetime(2026, 6, 15, 2, 0, tzinfo=UTC))
    await wh.accept_site(world, date(2024, 7, 1))
    async with browser(app) as b:
        await sign_in(b, world.users["owner"].username)
        home = await b.get("/portal/")
        assert "90 天内到期的保修 1 项" in home.text and "2026-07-01" in home.text
        project = await b.get(f"/portal/projects/{world.id_of('p1')}")
        assert 'data-testid="section-warranty-soon"' in project.text
