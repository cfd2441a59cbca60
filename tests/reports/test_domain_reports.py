"""The reports of the domains built beside this one: the inspection report (JGJ 59 sub-table and
GB 50300 lot), the material ledger, the warranty register and the acceptance record. Each renders,
shows its Chinese text, embeds thumbnails only, and follows the records' access rules."""

from __future__ import annotations

from datetime import date

from inspection.checklists.catalogue import import_shipped
from tests.checklists.helpers import ROOF, SCAFFOLD, answer, answers_for, draft
from tests.factories import World
from tests.rectification.helpers import actor_of
from tests.reports.helpers import pdf_images, pdf_text, squeeze, upload_photo
from tests.samples.helpers import REBAR_PASS, new_batch, results, sample_on, svc
from tests.warranty.helpers import accept_site

BASE = "/api/v1/reports"


async def _submitted(world: World, clock, code: str, answers: list[dict], **body) -> str:  # type: ignore[no-untyped-def]
    await import_shipped(clock)
    inspection = await draft(world, template_code=code, **body)
    iid = inspection["inspection"]["id"]
    r = await answer(world, iid, answers)
    assert r.status_code == 200, r.text
    signature = await upload_photo(world.services, actor_of(world, "inspector"), world.id_of("p1"), 900)
    r = await world.post(
        "inspector",
        f"/api/v1/inspections/{iid}/submit",
        {"signature_sha256": signature, "gps": {"lat": 31.2304, "lng": 121.4737, "accuracy_m": 8}},
    )
    assert r.status_code == 200, r.text
    return str(iid)


async def test_safety_inspection_report(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    inspector = actor_of(world, "inspector")
    shots = [await upload_photo(world.services, inspector, world.id_of("p1"), seed) for seed in (11, 12)]
    answers = answers_for(SCAFFOLD, G1={"deduction": 5, "note": "立杆基础积水<b>未处理</b>", "photos": shots})
    iid = await _submitted(world, clock, SCAFFOLD, answers)
    r = await world.get("inspector", f"{BASE}/inspections/{iid}.pdf")
    assert r.status_code == 200, r.text
    assert r.headers["x-document-number"].startswith("JCJL-")
    text = squeeze(pdf_text(r.content))
    for expected in [
        "检查结果汇总",
        "保证项目小计",
        "评分（百分制）",
        "立杆基础积水<b>未处理</b>",
        "北纬31.230400",
        "检查人（签字）",
        # JGJ 59's form: its columns and a subtotal per group of items
        "序号检查项目扣分标准应得分扣减分实得分",
        "一般项目小计",
        "检查项目合计",
        # the criteria of the standard, with full-width punctuation
        "架体搭设未编制专项施工方案或未按规定审核、审批，扣10分",
    ]:
        assert squeeze(expected) in text, expected
    # the failed item's photos are printed under it, before the next item
    g1 = text.index("G1施工方案")
    assert g1 < text.index("拍摄", g1) < text.index("G2立杆基础")
    images = pdf_images(r.content)
    assert len(images) == 3  # two defect photos and the signature
    assert all(max(w, h) == 1280 for w, h in images)  # the 1280 px derivative, never the original
    assert (await world.get("contractor_b", f"{BASE}/inspections/{iid}.pdf")).status_code == 404
    assert (await world.get("outsider", f"{BASE}/inspections/{iid}.pdf")).status_code == 404
    # a draft has no report
    other = await draft(world, template_code=SCAFFOLD)
    r = await world.get("inspector", f"{BASE}/inspections/{other['inspection']['id']}.pdf")
    assert r.status_code == 409


async def test_quality_lot_report(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    shot = await upload_photo(world.services, actor_of(world, "inspector"), world.id_of("p1"), 21)
    answers = answers_for(ROOF, M2={"value": "fail", "note": "天沟排水坡度不足", "photos": [shot]})
    iid = await _submitted(world, clock, ROOF, answers, lot_size=5)
    r = await world.get("supervisor", f"{BASE}/inspections/{iid}.pdf")
    assert r.status_code == 200, r.text
    text = squeeze(pdf_text(r.content))
    for expected in ["检验批结论", "主控项目", "M2不合格", "天沟排水坡度不足", "不合格"]:
        assert squeeze(expected) in text, expected


async def test_material_ledger(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    batch = (await new_batch(world)).batch
    sample = (await sample_on(world, batch.id)).sample
    await svc(world).record_results(
        actor_of(world, "contractor_a"), sample.id, results(REBAR_PASS, tensile_strength="530")
    )
    await new_batch(
        world, "contractor_b", arrival_date=date(2026, 11, 5), work_item_id=world.id_of("work_b"), batch_number="B-77"
    )
    url = f"{BASE}/projects/{world.id_of('p1')}/ledger.pdf"
    r = await world.get("supervisor", url, params={"from": "2026-11-01", "to": "2026-11-30"})
    assert r.status_code == 200, r.text
    assert r.headers["x-document-number"].startswith("CLTZ-")
    text = squeeze(pdf_text(r.content))
    for expected in [
        "材料进场及取样送检台账",
        "见证取样比例",
        "HRB400EΦ16",
        "L24-0815",
        "B-77",
        sample.label_code,
        "不合格",
    ]:
        assert squeeze(expected) in text, expected
    # contractor B sees its own batch only
    r = await world.get("contractor_b", url)
    text = squeeze(pdf_text(r.content))
    assert "B-77" in text and "L24-0815" not in text
    assert (await world.get("outsider", url)).status_code == 404
    r = await world.get("supervisor", url, params={"from": "2026-12-01", "to": "2026-11-01"})
    assert r.status_code == 422


async def test_warranty_register_and_acceptance(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    acceptance = await accept_site(world, date(2026, 6, 15))
    r = await world.get("owner", f"{BASE}/projects/{world.id_of('p1')}/warranty.pdf")
    assert r.status_code == 200, r.text
    text = squeeze(pdf_text(r.content))
    assert "保修登记表" in text and "剩余天数" in text and "屋面防水改造" in text and "雨污分流改造" in text
    r = await world.get("contractor_b", f"{BASE}/projects/{world.id_of('p1')}/warranty.pdf")
    text = squeeze(pdf_text(r.content))
    assert "雨污分流改造" in text and "屋面防水改造" not in text
    r = await world.get("owner", f"{BASE}/acceptances/{acceptance.id}.pdf")
    assert r.status_code == 200, r.text
    text = squeeze(pdf_text(r.content))
    for expected in [
        "竣工联合验收记录",
        "验收合格",
        "资料齐全，观感质量好",
        "业主监督员甲",
        "总监理工程师",
        "参加验收单位及人员",
    ]:
        assert squeeze(expected) in text, expected
    assert (await world.get("outsider", f"{BASE}/acceptances/{acceptance.id}.pdf")).status_code == 404


async def test_weekly_with_inspections_and_failed_samples(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    shot = await upload_photo(world.services, actor_of(world, "inspector"), world.id_of("p1"), 31)
    answers = answers_for(SCAFFOLD, G2={"deduction": 10, "photos": [shot]})
    await _submitted(world, clock, SCAFFOLD, answers)
    batch = (await new_batch(world)).batch
    sample = (await sample_on(world, batch.id)).sample
    await svc(world).record_results(
        actor_of(world, "contractor_a"), sample.id, results(REBAR_PASS, tensile_strength="530")
    )
    url = f"{BASE}/projects/{world.id_of('p1')}/weekly.pdf"
    r = await world.get("supervisor", url)
    assert r.status_code == 200, r.text
    text = squeeze(pdf_text(r.content))
    for expected in [
        "四、检查及评分",
        "扣件式钢管脚手架",
        "五、材料检测不合格",
        "热轧带肋钢筋",
        sample.label_code,
        "六、各小区进度",
    ]:
        assert squeeze(expected) in text, expected
    # contractor B sees neither A's inspection nor A's sample
    text = squeeze(pdf_text((await world.get("contractor_b", url)).content))
    assert "扣件式钢管脚手架" not in text and sample.label_code not in text
