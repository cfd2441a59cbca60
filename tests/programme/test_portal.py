"""The programme's portal pages over HTTP: an office follows a month to its finalisation, the
records behind a figure, the week's ranking and the digest day by day; a street office enters a
paper form; residents answer from the notice page (rate-limited per address); the credit lists
are public; nobody else reads any of it."""

from __future__ import annotations

import re

from inspection.clock import FixedClock
from tests.portal.helpers import browser, csrf_of, sign_in
from tests.programme.helpers import Programme, bj
from tests.programme.test_evaluation import march


async def test_an_office_follows_a_month_to_its_bulletin(app, programme: Programme, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    p, w = programme, programme.world
    await march(p, clock)
    clock.set(bj(4, 10))
    async with browser(app) as b:
        await sign_in(b, w.users["office"].username)
        home = await b.get("/portal/programme/")
        assert home.status_code == 200 and "长青区2026年度老旧小区改造计划" in home.text
        page = await b.get(f"/portal/programme/{p.id}?month=2026-03")
        assert page.status_code == 200
        assert "2026年3月月度考评" in page.text and "实时计算" in page.text
        assert w.orgs["contractor_b"].name in page.text and "60.3" in page.text
        link = re.search(r'href="(/portal/programme/[^"]+/records\?[^"]+indicator=overdue_days)"', page.text)
        assert link
        records = await b.get(link.group(1).replace("&amp;", "&"))
        assert records.status_code == 200 and "逾期" in records.text
        r = await b.post(
            f"/portal/programme/{p.id}/finalise", data={"csrf_token": csrf_of(page.text), "month": "2026-03"}
        )
        assert r.status_code == 303
        page = await b.get(r.headers["location"])
        assert "已定稿 · 第 1 版" in page.text and "月度考评通报 PDF" in page.text
        r = await b.post(
            f"/portal/programme/{p.id}/revise",
            data={"csrf_token": csrf_of(page.text), "month": "2026-03", "reason": ""},
        )
        assert r.status_code in (400, 422) and "更正原因" in r.text
        pdf = await b.get(f"/api/v1/reports/programmes/{p.id}/evaluation.pdf?month=2026-03")
        assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
        weekly = await b.get(f"/portal/programme/{p.id}/weekly?week=2026-03-23")
        assert weekly.status_code == 200 and "周通报 2026-03-23 至 2026-03-29" in weekly.text
        digest = await b.get(f"/portal/programme/digest?area_id={p.areas['district']}&day=2026-03-20")
        assert digest.status_code == 200 and "日督导 · 长青区" in digest.text


async def test_street_office_and_others(app, programme: Programme, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    p, w = programme, programme.world
    clock.set(bj(3, 5))
    async with browser(app) as b:
        await sign_in(b, w.users["east"].username)
        page = await b.get(f"/portal/programme/sites/{p.sites['S1']}/paper")
        assert page.status_code == 200
        r = await b.post(
            f"/portal/programme/sites/{p.sites['S1']}/paper",
            data={
                "csrf_token": csrf_of(page.text),
                "building_id": str(p.buildings["S1"]),
                "unit": "1",
                "room": "602",
                "overall": "4",
                "answers.roof": "5",
                "form_number": "东-12",
            },
        )
        assert r.status_code == 200 and "已录入" in r.text
        assert (await b.get(f"/portal/programme/sites/{p.sites['S3']}/paper")).status_code == 404
        assert (await b.get(f"/portal/programme/{p.id}?month=2026-02")).status_code == 200
        assert "定稿（冻结" not in (await b.get(f"/portal/programme/{p.id}?month=2026-02")).text
    async with browser(app) as b:
        await sign_in(b, w.users["contractor_a"].username)
        assert (await b.get(f"/portal/programme/{p.id}?month=2026-02")).status_code == 404
        assert (await b.get(f"/portal/programme/sites/{p.sites['S1']}/paper")).status_code == 404
        assert (await b.get("/portal/programme/digest")).status_code == 404


async def test_residents_answer_from_the_notice_page(app, programme: Programme, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    p = programme
    clock.set(bj(3, 5))
    site = p.sites["S2"]
    async with browser(app) as b:  # nobody signed in
        notice = await b.get(f"/portal/notice/{site}")
        assert "参加满意度调查" in notice.text and "尚无居民评价" in notice.text
        form = await b.get(f"/portal/notice/{site}/survey")
        assert form.status_code == 200 and "屋面防水" in form.text and "停车" not in form.text
        data = {"building_id": str(p.buildings["S2"]), "unit": "2", "room": "301", "overall": "5"}
        r = await b.post(f"/portal/notice/{site}/survey", data=data)
        assert r.status_code == 200 and "已收到本户问卷" in r.text
        r = await b.post(f"/portal/notice/{site}/survey", data={**data, "overall": "4"})
        assert "已替换本户此前提交的问卷" in r.text
        r = await b.post(f"/portal/notice/{site}/survey", data={**data, "room": "999"})
        assert r.status_code == 422 and "room" in r.text
        r = await b.post(f"/portal/notice/{site}/survey", data=data, headers={"origin": "https://elsewhere.example"})
        assert r.status_code == 422
        notice = await b.get(f"/portal/notice/{site}")
        assert "已有 <strong>1</strong> 户评价" in notice.text and "满意率 <strong>100.0%</strong>" in notice.text
        # the limit of the address (20 an hour): the three answers above counted (the one from
        # another site was refused before counting), 17 more pass, then 429
        for _ in range(17):
            await b.post(f"/portal/notice/{site}/survey", data=data)
        r = await b.post(f"/portal/notice/{site}/survey", data=data)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        credit = await b.get("/portal/credit")
        assert credit.status_code == 200 and "推荐名录" in credit.text and "尚无已定稿的月度考评" in credit.text
