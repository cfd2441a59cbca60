"""竣工验收 and 保修 pages: the owner records a joint acceptance with signatures and photos, is shown
the blockers with links when it cannot pass, reads the warranty register; a resident supervisor
reports a claim and the contractor answers it; other parties are refused or see nothing."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

from api.portal.common import number_notice
from inspection.messages import LOCAL_ZONE
from inspection.warranty.rules import REQUIRED_PARTIES
from tests.portal.helpers import actor_from, browser, csrf_of, jpeg, sign_in
from tests.portal.test_pages import issue_order
from tests.warranty.helpers import accept_site

NAMES = {
    "owner": "建设单位代表王",
    "contractor": "项目经理李",
    "supervisor": "总监赵",
    "designer": "设计负责人钱",
    "community": "社区主任孙",
    "property": "物业经理周",
    "resident_supervisor": "业主监督员",
}


def acceptance_form(token: str, site_id: Any, on: str, result: str = "passed") -> dict[str, str]:
    data = {"csrf_token": token, "site_id": str(site_id), "accepted_on": on, "result": result, "remarks": "观感良好"}
    i = 0
    for party, n in REQUIRED_PARTIES.items():
        for k in range(n):
            data[f"party_{i}"] = party.value
            data[f"name_{i}"] = NAMES[party.value] + ("甲乙"[k] if n > 1 else "")
            data[f"signed_{i}"] = "on"
            i += 1
    return data


async def test_owner_records_an_acceptance_with_signatures_and_photos(app, world) -> None:  # type: ignore[no-untyped-def]
    services = app.state.services
    today = services.warranty.today().isoformat()
    p1, site = world.id_of("p1"), world.id_of("site1")
    signature, scene = jpeg((20, 20, 20), (400, 200)), jpeg((90, 160, 90))
    async with browser(app) as b:
        await sign_in(b, world.users["owner"].username)
        project = await b.get(f"/portal/projects/{p1}")
        assert f"/portal/projects/{p1}/warranty" in project.text
        warranty = await b.get(f"/portal/projects/{p1}/warranty")
        assert "尚未进行竣工联合验收" in warranty.text and 'data-testid="new-acceptance"' in warranty.text
        form = await b.get(f"/portal/projects/{p1}/acceptance?site_id={site}")
        assert form.status_code == 200 and 'data-testid="blockers"' not in form.text
        r = await b.post(
            f"/portal/projects/{p1}/acceptance",
            data=acceptance_form(csrf_of(form.text), site, today),
            files=[
                ("signature_0", ("sign.jpg", signature, "image/jpeg")),
                ("photos", ("scene.jpg", scene, "image/jpeg")),
            ],
        )
        assert r.status_code == 303, r.text
        page = await b.get(r.headers["location"])
        text = page.text
        assert "验收已记录" in text and 'data-testid="acceptance-result">通过' in text
        assert "建设单位 · 建设单位代表王" in text and "业主监督员 · 业主监督员乙" in text
        assert hashlib.sha256(signature).hexdigest() in text and hashlib.sha256(scene).hexdigest() in text
        assert world.site1.name in text and "未签字" not in text
        register = await b.get(f"/portal/projects/{p1}/warranty")
        rows = re.findall(r'<tr data-testid="warranty-item">(.*?)</tr>', register.text, re.S)
        assert rows, "the acceptance made warranty items"
        assert all(world.site1.name in row for row in rows)
        ends = [re.findall(r"<td>(\d{4}-\d{2}-\d{2})</td>", row)[0] for row in rows]
        assert ends == sorted(ends), "soonest to expire first"
        assert all(re.search(r"\d+ 天", row) for row in rows)
    (acceptance,) = await services.warranty.list_acceptances(actor_from(world, "owner"), p1)
    assert acceptance.result == "passed" and len(acceptance.participants) == 8
    assert acceptance.participants[0].signature == hashlib.sha256(signature).hexdigest()


async def test_blockers_are_listed_with_links_and_nothing_is_recorded(app, world) -> None:  # type: ignore[no-untyped-def]
    services = app.state.services
    order = await issue_order(app, world, description="檐沟找坡不足")
    number = await number_notice(services, actor_from(world, "inspector"), order.id)
    p1, site = world.id_of("p1"), world.id_of("site1")
    async with browser(app) as b:
        await sign_in(b, world.users["owner"].username)
        form = await b.get(f"/portal/projects/{p1}/acceptance?site_id={site}")
        assert 'data-testid="blockers"' in form.text and f'href="/portal/orders/{order.id}"' in form.text
        assert number.startswith("ZGTZ-") and number in form.text
        r = await b.post(
            f"/portal/projects/{p1}/acceptance",
            data=acceptance_form(csrf_of(form.text), site, services.warranty.today().isoformat()),
        )
        assert r.status_code == 409
        assert 'data-testid="blockers"' in r.text and f'href="/portal/orders/{order.id}"' in r.text
        visible = re.sub(r"<[^>]+>", " ", r.text)
        assert "未闭合" in visible and "open_order" not in visible and "http" not in visible
        # what was typed comes back
        assert 'value="项目经理李"' in r.text
        # a missing party: 422 naming it, in Chinese
        data = acceptance_form(csrf_of(form.text), site, services.warranty.today().isoformat(), result="failed")
        data["name_3"] = ""
        r = await b.post(f"/portal/projects/{p1}/acceptance", data=data)
        assert r.status_code == 422 and "设计单位" in r.text
        # a date in the future
        data = acceptance_form(csrf_of(form.text), site, "2099-01-01", result="failed")
        r = await b.post(f"/portal/projects/{p1}/acceptance", data=data)
        assert r.status_code == 422
    assert await services.warranty.list_acceptances(actor_from(world, "owner"), p1) == []


async def test_only_the_owner_records_an_acceptance(app, world) -> None:  # type: ignore[no-untyped-def]
    p1 = world.id_of("p1")
    for who, status in (("supervisor", 403), ("contractor_a", 403), ("outsider", 404)):
        async with browser(app) as b:
            await sign_in(b, world.users[who].username)
            token = csrf_of((await b.get("/portal/orders/")).text)
            assert (await b.get(f"/portal/projects/{p1}/acceptance")).status_code == status, who
            r = await b.post(
                f"/portal/projects/{p1}/acceptance",
                data=acceptance_form(token, world.id_of("site1"), "2026-01-01"),
                files=[("photos", ("x.jpg", jpeg(), "image/jpeg"))],
            )
            assert r.status_code == status, who
    assert await app.state.services.warranty.list_acceptances(actor_from(world, "owner"), p1) == []


async def test_resident_reports_a_claim_and_the_contractor_disputes_it(app, world) -> None:  # type: ignore[no-untyped-def]
    services = app.state.services
    out = await accept_site(world, services.warranty.today())
    item = next(i for i in out.warranty_items if i.contractor_id == world.orgs["contractor_a"].id)
    p1 = world.id_of("p1")
    leak = jpeg((30, 60, 200))
    async with browser(app) as b:
        await sign_in(b, world.users["resident"].username)
        page = await b.get(f"/portal/projects/{p1}/warranty")
        assert page.status_code == 200 and 'data-testid="claim-form"' in page.text
        token = csrf_of(page.text)
        claim = {
            "csrf_token": token,
            "warranty_item_id": str(item.id),
            "reporter_party": "resident",
            "location": "",
            "description": "顶层卧室渗水",
        }
        r = await b.post(
            f"/portal/projects/{p1}/warranty/claims", data=claim, files=[("photos", ("a.jpg", leak, "image/jpeg"))]
        )
        assert r.status_code == 422 and 'data-testid="warranty-error"' in r.text and "顶层卧室渗水" in r.text
        owner_party = {**claim, "location": "1号楼 602", "reporter_party": "owner"}
        r = await b.post(
            f"/portal/projects/{p1}/warranty/claims",
            data=owner_party,
            files=[("photos", ("a.jpg", leak, "image/jpeg"))],
        )
        assert r.status_code == 403
        claim["location"] = "1号楼 3单元 602 卧室"
        r = await b.post(
            f"/portal/projects/{p1}/warranty/claims", data=claim, files=[("photos", ("a.jpg", leak, "image/jpeg"))]
        )
        assert r.status_code == 303, r.text
        claim_url = r.headers["location"].split("?")[0]
        shown = await b.get(r.headers["location"])
        assert "报修已提交" in shown.text and "待施工单位答复" in shown.text
        assert hashlib.sha256(leak).hexdigest() in shown.text and world.site1.name in shown.text
        # the deadline is the last day to answer, in local time (kept as the instant after it)
        (reported,) = (await services.warranty.list_claims(actor_from(world, "owner"), p1)).items
        due = (reported.response_due - timedelta(microseconds=1)).astimezone(LOCAL_ZONE).date().isoformat()
        assert f"<time>{due}</time> 当天内" in shown.text
    async with browser(app) as b:
        await sign_in(b, world.users["contractor_b"].username)
        assert (await b.get(claim_url)).status_code == 404
    async with browser(app) as b:
        await sign_in(b, world.users["contractor_a"].username)
        page = await b.get(claim_url)
        assert 'data-testid="claim-answer-form"' in page.text
        r = await b.post(f"{claim_url}/answer", data={"csrf_token": csrf_of(page.text), "accept": "no", "text": ""})
        assert r.status_code == 422
        r = await b.post(
            f"{claim_url}/answer",
            data={"csrf_token": csrf_of(page.text), "accept": "no", "text": "系住户自行改造阳台所致"},
        )
        assert r.status_code == 303
        page = await b.get(r.headers["location"])
        assert "有异议" in page.text and "系住户自行改造阳台所致" in page.text
        assert 'data-testid="claim-order"' in page.text and 'data-testid="claim-answer-form"' not in page.text
        # answering twice: the state conflict in Chinese
        r = await b.post(
            f"{claim_url}/answer", data={"csrf_token": csrf_of(page.text), "accept": "yes", "text": "改为受理"}
        )
        assert r.status_code == 409 and 'data-testid="claim-error"' in r.text
    claims = (await services.warranty.list_claims(actor_from(world, "owner"), p1)).items
    assert [c.status.value for c in claims] == ["escalated"] or [c.status.value for c in claims] == ["rejected"]
    assert claims[0].order_id is not None
