"""Inspections over HTTP, from draft to submitted, and the bad input around them."""

from __future__ import annotations

import json
from datetime import timedelta, timezone

import pytest

from inspection.audit.tables import AuditEntry
from inspection.checklists.tables import Inspection, InspectionAnswer
from inspection.checklists.templates import load_file, shipped_files
from inspection.clock import FixedClock
from tests.checklists.helpers import ROOF, SCAFFOLD, announce, answer, answers_for, draft, submit
from tests.factories import World

pytestmark = pytest.mark.usefixtures("templates")


async def test_draft_to_submitted_with_photos_opens_draft_orders(world: World, clock: FixedClock) -> None:
    d = await draft(world, template_code=ROOF, lot_size=40, gps={"lat": 43.84, "lng": 126.55, "accuracy_m": 5})
    iid = d["inspection"]["id"]
    assert d["inspection"]["status"] == "draft" and d["inspection"]["template_version"] == 1
    leak = await announce(world, clock, "roof-leak.jpg")
    lap = await announce(world, clock, "lap-width.jpg")
    r = await answer(
        world,
        iid,
        answers_for(
            ROOF,
            M2={"value": "fail", "photos": [leak], "note": "3号楼北侧檐沟积水"},
            N3={"checked": 5, "passed": 5, "flagged": True, "photos": [lap], "note": "收头密封胶开裂一处"},
        ),
    )
    assert r.status_code == 200, r.text
    assert {a["item_code"]: a["photos"] for a in r.json()["answers"]}["M2"] == [leak]
    # the client's own score is ignored: the server scores from the answers
    r = await submit(world, clock, iid, score={"total": 100, "grade": "优良"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["inspection"]["status"] == "submitted" and body["inspection"]["grade"] == "不合格"
    assert body["score"]["details"]["main_failed"] == ["M2"]
    assert body["inspection"]["signature_sha256"]
    orders = {o["source_id"]: o for o in body["orders"]}
    by_item = {a["item_code"]: a for a in body["answers"]}
    assert set(orders) == {by_item["M2"]["id"], by_item["N3"]["id"]}
    assert all(o["status"] == "draft" and o["kind"] == "quality" for o in orders.values())
    # the orders are real rectification orders, with the answer's photos, for the work item's contractor
    order_id = orders[by_item["M2"]["id"]]["id"]
    order = (await world.get("inspector", f"/api/v1/rectification/orders/{order_id}")).json()
    assert order["order"]["contractor_id"] == str(world.orgs["contractor_a"].id)
    assert order["order"]["source_table"] == "inspection_answer"
    assert [p["sha256"] for p in order["order"]["photos"]] == [leak]
    # contractor A reads the submitted inspection of its work item (but not the draft orders);
    # contractor B does not see it at all
    mine = await world.get("contractor_a", f"/api/v1/inspections/{iid}")
    assert mine.status_code == 200 and mine.json()["orders"] == []
    assert (await world.get("contractor_b", f"/api/v1/inspections/{iid}")).status_code == 404
    # immutable afterwards: answering and submitting again are refused
    again = await answer(world, iid, answers_for(ROOF))
    assert again.status_code == 409 and again.json()["field"] == "status"
    assert (await submit(world, clock, iid)).status_code == 409


async def test_major_hazard_failure_proposes_a_stop_work_order(world: World, clock: FixedClock) -> None:
    d = await draft(world, template_code=SCAFFOLD)
    iid = d["inspection"]["id"]
    ties = await announce(world, clock, "ties-missing.jpg")
    r = await answer(world, iid, answers_for(SCAFFOLD, G3={"deduction": 10, "photos": [ties]}))
    assert r.status_code == 200, r.text
    body = (await submit(world, clock, iid)).json()
    assert body["inspection"]["total"] == 0 and body["inspection"]["grade"] == "不合格"
    kinds = sorted((o["kind"], o["severity"]) for o in body["orders"])
    assert kinds == [("safety", "general"), ("stop_work", "major")]
    assert "建质规〔2024〕5号" in next(o["description"] for o in body["orders"] if o["kind"] == "stop_work")


async def test_a_failed_item_that_needs_a_photo_cannot_be_submitted_without(world: World, clock: FixedClock) -> None:
    d = await draft(world, template_code=SCAFFOLD)
    iid = d["inspection"]["id"]
    assert (await answer(world, iid, answers_for(SCAFFOLD, G2={"deduction": 5}))).status_code == 200
    r = await submit(world, clock, iid)
    assert r.status_code == 422 and r.json()["field"] == "answers.G2.photos"
    assert (await Inspection.select(Inspection.status).first())["status"] == "draft"


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"item_code": "Z9", "value": "pass"}, "answers[1].item_code"),
        ({"item_code": "N2", "measured": [1.0], "unit": "cm"}, "answers[1].unit"),
        ({"item_code": "N2", "measured": [1.0]}, "answers[1].unit"),
        ({"item_code": "M1", "value": "yes"}, "answers[1].value"),
        ({"item_code": "M1", "deduction": 3}, "answers[1].deduction"),
        ({"item_code": "N1", "checked": 3, "passed": 4}, "answers[1].passed"),
        ({"item_code": "M1", "value": "fail", "photos": ["0" * 64]}, "answers[1].photos"),
    ],
)
async def test_bad_answers_name_the_field_and_store_nothing(
    world: World, clock: FixedClock, bad: dict[str, object], field: str
) -> None:
    d = await draft(world, template_code=ROOF)
    r = await answer(world, d["inspection"]["id"], [{"item_code": "M2", "value": "pass"}, bad])
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert await InspectionAnswer.count().where(InspectionAnswer.inspection == d["inspection"]["id"]) == 0


async def test_deductions_are_stored_as_entered_and_capped_in_scoring(world: World, clock: FixedClock) -> None:
    # JGJ 59: N4 (构配件材质) is worth 5 points. The inspector finds two bent tubes at 2 points
    # each and a cracked clamp at 3: 7 points are recorded with their reasons; the item scores
    # 0 (扣减分数不得超过该项应得分数), the record keeps 7.
    d = await draft(world, template_code=SCAFFOLD)
    iid = d["inspection"]["id"]
    findings = [{"reason": "钢管弯曲变形", "points": 2, "count": 2}, {"reason": "扣件有裂纹", "points": 3}]
    r = await answer(world, iid, answers_for(SCAFFOLD, N4={"deductions": findings}))
    assert r.status_code == 200, r.text
    n4 = next(a for a in r.json()["answers"] if a["item_code"] == "N4")
    assert n4["deduction"] == 7 and [f["reason"] for f in n4["deductions"]] == ["钢管弯曲变形", "扣件有裂纹"]
    # a plain figure above the item's points is stored too; only the record's bound is refused
    r = await answer(world, iid, [{"item_code": "N5", "deduction": 6}])
    assert r.status_code == 200, r.text
    r = await answer(world, iid, [{"item_code": "N5", "deduction": 1001}])
    assert r.status_code == 400
    r = await answer(world, iid, [{"item_code": "N5", "deductions": [{"reason": "通道", "points": 600, "count": 2}]}])
    assert r.status_code == 422 and r.json()["field"] == "answers[0].deductions"
    r = await answer(world, iid, [{"item_code": "N5", "deduction": 5, "deductions": [{"reason": "通道", "points": 4}]}])
    assert r.status_code == 422 and r.json()["field"] == "answers[0].deduction"
    r = await submit(world, clock, iid)
    assert r.status_code == 200, r.text
    items = r.json()["score"]["items"]
    # 100 − 5 (N4 capped) − 5 (N5 capped) = 90
    assert r.json()["inspection"]["total"] == 90.0
    assert (items["N4"]["score"], items["N4"]["entered"]) == (0.0, 7.0)
    assert "钢管弯曲变形（2 分 × 2）" in items["N4"]["reason"] and "按本项应得 5 分封顶" in items["N4"]["reason"]


async def test_a_serious_defect_fails_a_lot_and_belongs_to_quality_items(world: World, clock: FixedClock) -> None:
    # GB 50300 §5.0.1: N1 passes 10 of 10 points, but the inspector marks a serious defect on it
    d = await draft(world, template_code=ROOF)
    iid = d["inspection"]["id"]
    r = await answer(world, iid, answers_for(ROOF, N1={"checked": 10, "passed": 10, "serious_defect": True}))
    assert r.status_code == 200, r.text
    r = await submit(world, clock, iid)
    body = r.json()
    assert body["inspection"]["grade"] == "不合格" and body["score"]["items"]["N1"]["serious"] is True
    assert "严重缺陷" in body["score"]["items"]["N1"]["reason"]
    s = await draft(world, template_code=SCAFFOLD)
    r = await answer(world, s["inspection"]["id"], [{"item_code": "N4", "deduction": 0, "serious_defect": True}])
    assert r.status_code == 422 and r.json()["field"] == "answers[0].serious_defect"


async def test_a_lot_beyond_table_3_0_9_is_refused(world: World) -> None:
    # GB 50300 table 3.0.9 ends at 3,200: a larger lot has no sample size and must be split
    body = {"project_id": str(world.id_of("p1")), "template_code": ROOF, "lot_size": 3201}
    r = await world.post("inspector", "/api/v1/inspections/", body)
    assert r.status_code == 422 and r.json()["field"] == "lot_size"
    assert r.json()["detail"] == "检验批容量超出 GB 50300 表 3.0.9 范围，请划分检验批"
    assert (await world.post("inspector", "/api/v1/inspections/", {**body, "lot_size": 3200})).status_code == 201


async def test_someone_elses_draft(world: World, clock: FixedClock) -> None:
    d = await draft(world, template_code=ROOF)
    iid = d["inspection"]["id"]
    # another member of the project: 403; a stranger to the project: 404
    assert (await answer(world, iid, answers_for(ROOF), who="supervisor")).status_code == 403
    assert (await answer(world, iid, answers_for(ROOF), who="outsider")).status_code == 404
    assert (await submit(world, clock, iid, who="supervisor")).status_code == 403
    # a contractor does not see drafts, and may not start inspections
    assert (await world.get("contractor_a", f"/api/v1/inspections/{iid}")).status_code == 404
    r = await world.post(
        "contractor_a",
        "/api/v1/inspections/",
        {"project_id": str(world.id_of("p1")), "template_code": ROOF, "work_item_id": str(world.id_of("work_a"))},
    )
    assert r.status_code == 403


async def test_creating_with_a_taken_id_or_unknown_template(world: World) -> None:
    d = await draft(world, template_code=ROOF)
    body = {"id": d["inspection"]["id"], "project_id": str(world.id_of("p1")), "template_code": ROOF}
    assert (await world.post("inspector", "/api/v1/inspections/", body)).status_code == 409
    body = {"project_id": str(world.id_of("p1")), "template_code": "no-such-template"}
    r = await world.post("inspector", "/api/v1/inspections/", body)
    assert r.status_code == 404 and r.json()["field"] == "template_code"
    body = {"project_id": str(world.id_of("p1")), "template_code": ROOF, "started_at_device": "2026-11-01T08:00:00"}
    r = await world.post("inspector", "/api/v1/inspections/", body)
    assert r.status_code == 422 and r.json()["field"] == "started_at_device"
    body["started_at_device"] = "2026-11-01T08:00:00+08:00"
    assert (await world.post("inspector", "/api/v1/inspections/", body)).status_code == 201
    body = {"project_id": str(world.id_of("p1")), "template_code": ROOF, "work_item_id": str(world.id_of("p2"))}
    r = await world.post("inspector", "/api/v1/inspections/", body)
    assert r.status_code == 422 and r.json()["field"] == "work_item_id"


async def test_missing_answers_block_submission(world: World, clock: FixedClock) -> None:
    d = await draft(world, template_code=ROOF)
    iid = d["inspection"]["id"]
    await answer(world, iid, answers_for(ROOF)[:3])
    r = await submit(world, clock, iid)
    assert r.status_code == 422 and r.json()["field"] == "answers"
    assert "N1" in r.json()["detail"]


async def test_revision_keeps_the_old_one_and_the_reason(world: World, clock: FixedClock) -> None:
    d = await draft(world, template_code=ROOF)
    iid = d["inspection"]["id"]
    await answer(world, iid, answers_for(ROOF))
    assert (await submit(world, clock, iid)).json()["inspection"]["grade"] == "合格"
    r = await world.post("inspector", f"/api/v1/inspections/{iid}/revise", {"reason": "N2 实测值录入有误"})
    assert r.status_code == 201, r.text
    new = r.json()
    nid = new["inspection"]["id"]
    assert new["inspection"]["revision"] == 2 and new["inspection"]["previous_revision"] == iid
    assert len(new["answers"]) == 7
    assert (await world.post("inspector", f"/api/v1/inspections/{iid}/revise", {"reason": "again"})).status_code == 409
    short = await announce(world, clock, "lap-short.jpg")
    r = await answer(
        world, nid, [{"item_code": "N2", "measured": [-20, -20, -20, -20, -20], "unit": "mm", "photos": [short]}]
    )
    assert r.status_code == 200
    r = await submit(world, clock, nid)
    assert r.status_code == 200, r.text
    assert r.json()["inspection"]["grade"] == "不合格"
    old = (await world.get("inspector", f"/api/v1/inspections/{iid}")).json()
    assert old["inspection"]["status"] == "superseded" and old["inspection"]["grade"] == "合格"
    entry = await AuditEntry.select().where(AuditEntry.record_id == new["inspection"]["id"]).first()
    assert "N2 实测值录入有误" in json.dumps(entry, default=str, ensure_ascii=False)


async def test_list_filters_and_project_summary(world: World, clock: FixedClock) -> None:
    passed = await draft(world, template_code=SCAFFOLD, site_id=world.id_of("site1"))
    await answer(world, passed["inspection"]["id"], answers_for(SCAFFOLD, N1={"deduction": 4}))
    await submit(world, clock, passed["inspection"]["id"])
    clock.advance(timedelta(minutes=10))
    photo = await announce(world, clock, "torque.jpg")
    failed = await draft(world, template_code=SCAFFOLD)
    await answer(world, failed["inspection"]["id"], answers_for(SCAFFOLD, G2={"deduction": 10, "photos": [photo]}))
    await submit(world, clock, failed["inspection"]["id"])
    await draft(world, template_code=ROOF)
    p1 = str(world.id_of("p1"))

    async def ids(**query: object) -> list[str]:
        r = await world.get("inspector", "/api/v1/inspections/", params={"project_id": p1, **query})
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert await ids(grade="优良") == [passed["inspection"]["id"]]
    # a deduction is a defect found: both submitted inspections opened orders, the draft none
    assert set(await ids(has_open_orders=True)) == {passed["inspection"]["id"], failed["inspection"]["id"]}
    assert len(await ids(has_open_orders=False)) == 1
    assert len(await ids(status="draft")) == 1
    since = (clock.now() - timedelta(minutes=5)).isoformat()
    assert await ids(submitted_from=since) == [failed["inspection"]["id"]]
    assert len(await ids(inspector_id=str(world.users["inspector"].id))) == 3
    assert await ids(inspector_id=str(world.users["supervisor"].id)) == []
    r = await world.get("inspector", "/api/v1/inspections/", params={"grade": "excellent"})
    assert r.status_code == 400
    r = await world.get("inspector", "/api/v1/inspections/", params={"submitted_from": "2026-01-01T00:00:00"})
    assert r.status_code == 422 and r.json()["field"] == "submitted_from"
    local = (clock.now() - timedelta(minutes=5)).astimezone(timezone(timedelta(hours=8))).isoformat()
    assert await ids(submitted_from=local) == [failed["inspection"]["id"]]

    r = await world.get("inspector", "/api/v1/inspections/summary", params={"project_id": p1})
    assert r.status_code == 200, r.text
    summary = r.json()
    assert summary["by_status"] == {"submitted": 2, "draft": 1}
    assert summary["by_grade"] == {"优良": 1, "不合格": 1}
    assert [t["total"] for t in summary["trend"]] == [96.0, 0.0]
    assert summary["failures_by_hazard"]["脚手架"] == 2 and summary["major_hazard_failures"] == 1
    site = summary["site_safety"][0]
    assert site["grade"] == "不合格" and site["lines"]["scaffold"]["subtables"] == 1
    assert (
        await world.get("contractor_a", "/api/v1/inspections/summary", params={"project_id": p1})
    ).status_code == 403
    # a contractor lists only submitted inspections of its own work items
    r = await world.get("contractor_a", "/api/v1/inspections/", params={"project_id": p1})
    assert r.json()["total"] == 2
    assert (await world.get("contractor_b", "/api/v1/inspections/", params={"project_id": p1})).json()["total"] == 0


async def test_templates_over_http(world: World) -> None:
    r = await world.get("contractor_a", "/api/v1/checklists/templates", params={"kind": "quality"})
    quality = sum(1 for f in shipped_files() if load_file(f).kind == "quality")
    assert r.status_code == 200 and len(r.json()) == quality
    one = (await world.get("inspector", f"/api/v1/checklists/templates/{r.json()[0]['id']}")).json()
    assert one["content"]["items"] and one["kind"] == "quality"
    plans = (await world.get("inspector", "/api/v1/checklists/plans")).json()
    assert {p["work_type"] for p in plans} >= {"roof_waterproofing", "drainage", "external_wall_insulation"}


async def test_list_scope_for_strangers_and_administrators(world: World) -> None:
    d = await draft(world, template_code=ROOF)
    p1 = str(world.id_of("p1"))
    assert (await world.get("outsider", "/api/v1/inspections/", params={"project_id": p1})).status_code == 404
    assert (await world.get("outsider", "/api/v1/inspections/")).json()["total"] == 0
    everything = (await world.get("admin", "/api/v1/inspections/")).json()
    assert [i["id"] for i in everything["items"]] == [d["inspection"]["id"]]
    assert (await world.get("resident", "/api/v1/inspections/", params={"project_id": p1})).json()["total"] == 1


async def test_a_lot_citing_a_batch_the_samples_domain_rejected_fails(world: World, clock: FixedClock) -> None:
    """End to end through the samples domain, nothing replaced: rebar that fails its bend test and
    its double retest is rejected, and a roof lot that cites it is 不合格 however well it was
    answered; a lot citing a batch whose samples passed is 合格."""
    from decimal import Decimal

    from inspection.samples import schemas as ss
    from tests.rectification.helpers import actor_of
    from tests.samples import helpers as sh

    def rebar(**override: str) -> ss.ResultsBody:
        # two specimens per test item (GB 1499.2 §9), the weight deviation measured once
        values = {**sh.REBAR_PASS, **override}
        weight = values.pop("weight_deviation")
        pairs = sh.results(values, sets=2).results
        return ss.ResultsBody(results=[*pairs, ss.ResultIn(test_item="weight_deviation", value=Decimal(weight))])

    samples, contractor = sh.svc(world), actor_of(world, "contractor_a")
    rejected = (await sh.new_batch(world, batch_number="L24-0101")).batch
    # sampled a set at a time: the first set's bend specimen cracks, the second set passes
    sample = (await sh.sample_on(world, rejected.id)).sample
    await samples.record_results(contractor, sample.id, sh.results(sh.REBAR_PASS, bend="0"))
    second = (await sh.sample_on(world, rejected.id, witness=None)).sample
    await samples.record_results(contractor, second.id, sh.results(sh.REBAR_PASS))
    retest = await samples.take_retest(contractor, sample.id, ss.RetestCreate(lab_id=await sh.lab(world)))
    bends = [ss.ResultIn(test_item="bend", value=Decimal(1)), ss.ResultIn(test_item="bend", value=Decimal(0), set_no=2)]
    await samples.record_results(actor_of(world, "supervisor"), retest.sample.id, ss.ResultsBody(results=bends))
    accepted = (await sh.new_batch(world, batch_number="L24-0102")).batch
    sample = (await sh.sample_on(world, accepted.id, sets=2)).sample
    await samples.record_results(contractor, sample.id, rebar())
    status = {b: (await samples.get_batch(contractor, b)).batch.status.value for b in (rejected.id, accepted.id)}
    assert status == {rejected.id: "rejected", accepted.id: "accepted"}

    d = await draft(world, template_code=ROOF, material_batch_ids=[str(rejected.id)])
    await answer(world, d["inspection"]["id"], answers_for(ROOF))
    body = (await submit(world, clock, d["inspection"]["id"])).json()
    assert body["inspection"]["grade"] == "不合格"
    assert len(body["warnings"]) == 1 and "L24-0101" in body["warnings"][0] and "rejected" in body["warnings"][0]

    d = await draft(world, template_code=ROOF, material_batch_ids=[str(accepted.id)])
    await answer(world, d["inspection"]["id"], answers_for(ROOF))
    body = (await submit(world, clock, d["inspection"]["id"])).json()
    assert body["inspection"]["grade"] == "合格" and body["warnings"] == []


async def test_a_lot_citing_a_batch_the_samples_domain_has_not_accepted_cannot_pass(
    world: World, clock: FixedClock
) -> None:
    unknown = "01a2077f-0000-7000-8000-000000000002"
    d = await draft(world, template_code=ROOF, material_batch_ids=[unknown])
    await answer(world, d["inspection"]["id"], answers_for(ROOF))
    body = (await submit(world, clock, d["inspection"]["id"])).json()
    assert body["inspection"]["grade"] == "不合格"
    assert len(body["warnings"]) == 1 and "missing" in body["warnings"][0]
    clean = await draft(world, template_code=ROOF)
    await answer(world, clean["inspection"]["id"], answers_for(ROOF))
    body = (await submit(world, clock, clean["inspection"]["id"])).json()
    assert body["inspection"]["grade"] == "合格" and body["warnings"] == []


async def test_cancelled_orders_no_longer_count_as_open(world: World, clock: FixedClock) -> None:
    photo = await announce(world, clock, "missing-rail.jpg")
    d = await draft(world, template_code=SCAFFOLD)
    iid = d["inspection"]["id"]
    await answer(world, iid, answers_for(SCAFFOLD, G5={"deduction": 5, "photos": [photo]}))
    orders = (await submit(world, clock, iid)).json()["orders"]
    assert len(orders) == 1
    params = {"project_id": str(world.id_of("p1")), "has_open_orders": True}
    assert (await world.get("inspector", "/api/v1/inspections/", params=params)).json()["total"] == 1
    r = await world.post("inspector", f"/api/v1/rectification/orders/{orders[0]['id']}/cancel", {"reason": "误报"})
    assert r.status_code == 200, r.text
    assert (await world.get("inspector", "/api/v1/inspections/", params=params)).json()["total"] == 0
