"""Programme supervision over HTTP: who reads and changes what, problems naming the field, the
public credit lists, and the weekly and monthly bulletins as numbered, verifiable PDFs."""

from __future__ import annotations

import re

from inspection.clock import FixedClock
from tests.programme.helpers import Programme, answer, bj, order, respond
from tests.programme.test_evaluation import march
from tests.reports.helpers import pdf_text, squeeze


async def test_structure_and_offices_over_http(programme: Programme) -> None:
    p, w = programme, programme.world
    r = await w.get("contractor_a", "/api/v1/areas")
    assert r.status_code == 200 and {a["name"] for a in r.json()} >= {"长青区", "东街道"}
    assert (await w.get("contractor_a", "/api/v1/programmes")).json() == []
    listed = (await w.get("office", "/api/v1/programmes")).json()
    assert [(x["name"], x["access"], x["projects"]) for x in listed] == [
        ("长青区2026年度老旧小区改造计划", "manage", 2)
    ]
    east = (await w.get("east", f"/api/v1/programmes/{p.id}/projects")).json()
    assert [x["project_name"] for x in east["items"]] == ["一号改造项目"]
    assert (await w.get("outsider", f"/api/v1/programmes/{p.id}")).status_code == 404
    r = await w.post(
        "office", "/api/v1/areas", {"name": "东二社区", "level": "province", "parent_id": str(p.areas["east"])}
    )
    assert r.status_code == 400 or r.status_code == 422
    assert "level" in r.text
    r = await w.client.put(
        f"/api/v1/projects/{w.id_of('p2')}/placement",
        json={"programme_id": str(p.id), "area_id": str(p.areas["city"])},
        headers=w.headers("office"),
    )
    assert r.status_code == 422 and r.json()["field"] == "area_id"
    r = await w.client.put(
        f"/api/v1/projects/{w.id_of('p2')}/placement",
        json={"programme_id": str(p.id), "area_id": str(p.areas["east"])},
        headers=w.headers("east"),
    )
    assert r.status_code == 403
    offices = (await w.get("office", "/api/v1/offices")).json()
    assert {o["area_name"] for o in offices} == {"东街道", "长青区", "西街道"}
    west = next(o for o in offices if o["area_name"] == "西街道")
    assert (await w.delete("east", f"/api/v1/offices/{west['id']}")).status_code == 404
    assert (await w.delete("office", f"/api/v1/offices/{west['id']}")).status_code == 204


async def test_evaluation_over_http(programme: Programme, clock: FixedClock) -> None:
    p, w = programme, programme.world
    await march(p, clock)
    clock.set(bj(4, 10))
    from tests.alerts.helpers import relogin

    await relogin(w, "office", "east", "contractor_a", "outsider")
    base = f"/api/v1/programmes/{p.id}/evaluation"
    r = await w.get("office", base, params={"month": "2026-3"})
    assert r.status_code == 400 and "month" in r.text
    r = await w.get("office", base, params={"month": "2026-05"})
    assert r.status_code == 422 and r.json()["field"] == "month"
    live = (await w.get("office", base, params={"month": "2026-03"})).json()
    assert live["status"] == "live" and live["indicators"][0]["code"] == "safety_score"
    assert (await w.get("contractor_a", base, params={"month": "2026-03"})).status_code == 404
    r = await w.post("east", f"{base}/finalise?month=2026-03", {})
    assert r.status_code == 403
    r = await w.post("office", f"{base}/finalise?month=2026-03", {"note": "3月考评"})
    assert r.status_code == 200 and r.json()["revision"] == 1
    r = await w.post("office", f"{base}/revisions?month=2026-03", {"reason": ""})
    assert r.status_code == 400 and "reason" in r.text
    r = await w.post("office", f"{base}/revisions?month=2026-03", {"reason": "补录"})
    assert r.status_code == 200 and r.json()["revision"] == 2
    first = (await w.get("office", base, params={"month": "2026-03", "revision": 1})).json()
    assert (first["revision"], first["status"]) == (1, "finalised")
    assert len((await w.get("office", f"{base}/revisions", params={"month": "2026-03"})).json()) == 2
    a = w.orgs["contractor_a"].id
    drill = await w.get(
        "east",
        f"{base}/records",
        params={"month": "2026-03", "kind": "contractor", "subject_id": str(a), "indicator": "stop_work"},
    )
    assert drill.status_code == 200 and drill.json()["rows"][0]["label"].startswith("停工通知")
    r = await w.get(
        "east",
        f"{base}/records",
        params={"month": "2026-03", "kind": "contractor", "subject_id": str(a), "indicator": "nope"},
    )
    assert r.status_code == 422 and r.json()["field"] == "indicator"
    weekly = (await w.get("office", f"/api/v1/programmes/{p.id}/weekly", params={"week": "2026-03-04"})).json()
    assert (weekly["monday"], weekly["sunday"]) == ("2026-03-02", "2026-03-08")

    # the bulletins: numbered, verifiable, with the ranking and the commendations and criticisms
    r = await w.get("office", f"/api/v1/reports/programmes/{p.id}/evaluation.pdf", params={"month": "2026-03"})
    assert r.status_code == 200 and r.content[:5] == b"%PDF-", r.text[:300]
    text = squeeze(pdf_text(r.content))
    assert "老旧小区改造月度考评通报" in text and "2026年3月" in text and "通报批评" in text
    assert squeeze(w.orgs["contractor_a"].name) in text and "第2版" in text
    number = r.headers["x-document-number"]
    assert re.fullmatch(r"KPTB-\d{4}-\d{5}", number)
    again = await w.client.get(
        f"/api/v1/reports/programmes/{p.id}/evaluation.pdf",
        params={"month": "2026-03"},
        headers={**w.headers("office"), "If-None-Match": r.headers["etag"]},
    )
    assert again.status_code == 304
    r = await w.get("office", f"/api/v1/reports/programmes/{p.id}/evaluation.pdf", params={"month": "2026-02"})
    assert r.status_code == 409 and r.json()["field"] == "month"
    r = await w.get("office", f"/api/v1/reports/programmes/{p.id}/bulletin.pdf", params={"week": "2026-03-04"})
    assert r.status_code == 200 and r.headers["x-document-number"].startswith("ZTB-2026-")
    text = squeeze(pdf_text(r.content))
    assert "老旧小区改造工作周通报" in text and "施工单位排名" in text and "得分最高" in text
    assert (await w.get("outsider", f"/api/v1/reports/programmes/{p.id}/bulletin.pdf")).status_code == 404


async def test_credit_lists_are_public_and_history_is_not(programme: Programme, clock: FixedClock) -> None:
    p, w = programme, programme.world
    r = await w.client.get("/api/v1/credit/lists")  # no token
    assert r.status_code == 200 and r.json()["as_of"] is None and "连续 3 个月" in r.json()["recommended_rule"]
    ob = await order(p, clock, bj(1, 3), project="p2", work="B3", deadline=bj(1, 5, 18))
    await respond(p, clock, bj(1, 4), ob, "contractor_b")
    await answer(p, clock, bj(1, 4), "S3", "101", 5)
    clock.set(bj(2, 2))
    from tests.alerts.helpers import relogin

    await relogin(w, "office", "contractor_a", "contractor_b")
    assert (
        await w.post("office", f"/api/v1/programmes/{p.id}/evaluation/finalise?month=2026-01", {})
    ).status_code == 200
    public = (await w.client.get("/api/v1/credit/lists")).json()
    assert public["as_of"] == "2026-01" and public["recommended"] == []  # one month is not three
    b = w.orgs["contractor_b"].id
    mine = await w.get("contractor_b", f"/api/v1/credit/organisations/{b}")
    assert mine.status_code == 200 and mine.json()[0]["month"] == "2026-01"
    assert (await w.get("contractor_a", f"/api/v1/credit/organisations/{b}")).status_code == 404


async def test_survey_and_digest_over_http(programme: Programme, clock: FixedClock) -> None:
    p, w = programme, programme.world
    site = p.sites["S1"]
    body = {"building_id": str(p.buildings["S1"]), "unit": 1, "room": "301", "overall": 5, "form_number": "东-7"}
    r = await w.post("east", f"/api/v1/survey/sites/{site}/paper", body)
    assert r.status_code == 200 and r.json()["replaced"] is False
    r = await w.post("east", f"/api/v1/survey/sites/{site}/paper", {**body, "overall": 9})
    assert r.status_code == 400 and "overall" in r.text
    r = await w.post("east", f"/api/v1/survey/sites/{site}/paper", {**body, "unit": 1, "room": "901"})
    assert r.status_code == 422 and r.json()["field"] == "room"
    assert (await w.post("contractor_a", f"/api/v1/survey/sites/{site}/paper", body)).status_code == 404
    results = (await w.get("contractor_a", f"/api/v1/survey/sites/{site}")).json()
    assert (results["answers"], results["satisfied_share"]) == (1, "100.0")
    assert (await w.get("contractor_a", f"/api/v1/survey/sites/{site}/answers")).status_code == 404
    answers = (await w.get("east", f"/api/v1/survey/sites/{site}/answers")).json()
    assert [a["form_number"] for a in answers["items"]] == ["东-7"]
    digest = await w.get("east", "/api/v1/digest/", params={"area_id": str(p.areas["east"])})
    assert digest.status_code == 200 and digest.json()["message"].startswith("【日督导】东街道")
    assert (await w.get("east", "/api/v1/digest/", params={"area_id": str(p.areas["west"])})).status_code == 404
