"""One fixed specimen of every report: the data each data loader hands its template, written out
by hand with the long names, long texts, many rows, missing photos, documents and pending
signatures that real projects bring. Nothing here depends on the clock, the database or the
random seed, so the pages render the same every time: the golden images and the layout checks
(tests/reports/test_layout.py) render these."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from PIL import Image, ImageDraw

from inspection.reports import rules
from inspection.reports.render import DocumentHead, Letterhead, evidence_ref, qr_svg

PUBLIC_BASE = "http://127.0.0.1:8000"
T0 = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 09:30 in Beijing

CONTRACTOR = "辽阳市政建设工程集团有限公司第三分公司（城市更新事业部）"
SUPERVISOR = "梧州工程建设监理有限公司"
OWNER = "长青区城市更新服务中心"
PROJECT = "长青区2026年老旧小区改造项目（第一批）"


def photo_bytes(seed: int) -> bytes:
    """A photo-like JPEG of the size the evidence store's 1280 px derivative has."""
    img = Image.linear_gradient("L").resize((1280, 960)).convert("RGB")
    draw = ImageDraw.Draw(img)
    for i in range(10):
        x, y = (seed * 131 + i * 97) % 1100, (seed * 71 + i * 53) % 800
        draw.rectangle((x, y, x + 150, y + 150), fill=((seed * 40 + i * 20) % 256, (i * 60) % 256, 90))
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


@dataclass
class Specimen:
    kind: str  # labels.toml's kind
    title: str
    context: dict[str, Any]
    thumbnails: dict[str, bytes]
    letterhead: Letterhead

    @property
    def template(self) -> str:
        return rules.kind_info(self.kind).template

    @property
    def number(self) -> str:
        return rules.document_number(rules.kind_info(self.kind).code, 2026, 17)

    @property
    def content_sha256(self) -> str:
        return hashlib.sha256(f"specimen {self.kind}".encode()).hexdigest()

    @property
    def verify_url(self) -> str:
        return rules.verification_url(PUBLIC_BASE, self.number, self.content_sha256)

    def head(self) -> DocumentHead:
        return DocumentHead(
            title=self.title,
            number=self.number,
            issued_at=T0 + timedelta(days=2),
            content_sha256=self.content_sha256,
            verify_url=self.verify_url,
            qr=qr_svg(self.verify_url),
            letterhead=self.letterhead,
        )


class _Photos:
    def __init__(self) -> None:
        self.thumbnails: dict[str, bytes] = {}

    def stored(self, seed: int, hours: int = 0) -> dict[str, Any]:
        sha = hashlib.sha256(f"photo {seed}".encode()).hexdigest()
        ref = evidence_ref(sha, 1280)
        self.thumbnails[ref] = photo_bytes(seed)
        taken = T0 - timedelta(hours=hours)
        return {"sha256": sha, "captured_at": taken, "ref": ref, "pending": False, "document": False}

    @staticmethod
    def pending(seed: int) -> dict[str, Any]:
        sha = hashlib.sha256(f"pending {seed}".encode()).hexdigest()
        return {"sha256": sha, "captured_at": None, "ref": "", "pending": True, "document": False}

    @staticmethod
    def document(seed: int) -> dict[str, Any]:
        sha = hashlib.sha256(f"document {seed}".encode()).hexdigest()
        return {"sha256": sha, "captured_at": None, "ref": "", "pending": False, "document": True}


def _letterhead(organisation: str) -> Letterhead:
    return Letterhead(organisation=organisation, project=PROJECT, project_code="DEMO-2026-01")


def _place() -> dict[str, Any]:
    return {
        "site": "张街新村（含东区、西区及沿街商铺）",
        "site_address": "长青区张街路 188 号",
        "building": "12号楼",
        "work_item": "屋面防水及保温层翻新改造",
        "work_type": "roof_waterproofing",
    }


ORDER = {
    "kind": "safety",
    "severity": "general",
    "source": "inspection_answer",
    "description": "12号楼屋面东侧女儿墙泛水处卷材起鼓、开裂约3.5m，搭接宽度不足80mm；"
    "檐口处临边防护栏杆缺失两段，作业人员未系安全带。请立即停止该部位作业，整改后报监理复查。",
    "issued_at": T0,
    "deadline": T0 + timedelta(days=7),
    "deadline_reason": "涉及高处作业，限期七日内完成",
    "deadline_round": 1,
}


def _order(before: list[dict[str, Any]], stops: list[dict[str, Any]]) -> dict[str, Any]:
    """What the notice and the reply both show of the order."""
    return {
        "order": ORDER,
        "place": _place(),
        "contractor": CONTRACTOR,
        "issuer": {"name": "叶倩", "organisation": SUPERVISOR},
        "before": before,
        "stops": stops,
        "cc": [OWNER],
    }


def notice() -> Specimen:
    photos = _Photos()
    context = _order([photos.stored(1, 5), photos.stored(2, 4), photos.stored(3, 3), photos.pending(4)], [])
    return Specimen("rectification_notice", "安全隐患整改通知单", context, photos.thumbnails, _letterhead(SUPERVISOR))


def notice_items() -> Specimen:
    """One 整改通知单 covering three failed items of an inspection: one number, one deadline."""
    photos = _Photos()
    second = {**_place(), "building": "13号楼"}
    context = {
        "notice": {
            "id": "0",
            "kind": "safety",
            "number": "ZGTZ-2026-00018",
            "issued_at": T0,
            "deadline": T0 + timedelta(days=7),
            "deadline_reason": "",
        },
        "items": [
            {
                "id": "1",
                "severity": "general",
                "description": ORDER["description"],
                "place": _place(),
                "before": [photos.stored(1, 5), photos.stored(2, 4)],
            },
            {
                "id": "2",
                "severity": "general",
                "description": "13号楼北侧落水管接口脱开，雨水直冲外墙面；屋面施工垃圾未及时清运。",
                "place": second,
                "before": [photos.stored(3, 3)],
            },
            {
                "id": "3",
                "severity": "major",
                "description": "卷扬机钢丝绳断丝超标，未设置防护罩。",
                "place": second,
                "before": [photos.pending(4)],
            },
        ],
        "contractor": CONTRACTOR,
        "issuer": {"name": "叶倩", "organisation": SUPERVISOR},
        "cc": [OWNER],
    }
    return Specimen("rectification_notice", "安全隐患整改通知单", context, photos.thumbnails, _letterhead(SUPERVISOR))


def reply() -> Specimen:
    photos = _Photos()
    stop = {"started_at": T0, "resumed_at": T0 + timedelta(days=3)}
    context = {
        **_order([photos.stored(1, 5), photos.stored(2, 4)], [stop]),
        "status": "closed",
        "closed_at": T0 + timedelta(days=5),
        "responses": [
            {
                "round": 1,
                "responded_at": T0 + timedelta(days=2),
                "responder": "王建国",
                "text": "已割除起鼓部位卷材并重新铺贴，搭接宽度100mm；檐口栏杆已恢复。",
                "late": False,
                "review": "rejected",
                "reviewer": "叶倩",
                "reviewed_at": T0 + timedelta(days=3),
                "review_note": "泛水高度仍不足250mm，请补足后再报。",
                "after": [photos.stored(5, 1), photos.document(6)],
            },
            {
                "round": 2,
                "responded_at": T0 + timedelta(days=4),
                "responder": "王建国",
                "text": "泛水高度已补足至260mm，附检测报告（PDF）。",
                "late": False,
                "review": "accepted",
                "reviewer": "叶倩",
                "reviewed_at": T0 + timedelta(days=5),
                "review_note": "",
                "after": [photos.stored(7, 0), photos.stored(8, 0), photos.pending(9)],
            },
        ],
    }
    return Specimen("rectification_reply", "整改回复单", context, photos.thumbnails, _letterhead(CONTRACTOR))


def _jgj_row(code: str, heading: str, criteria: list[str], points: float, deducted: float, **kw: Any) -> dict[str, Any]:
    return {
        "code": code,
        "text": f"{heading}：是否符合规范要求",
        "heading": heading,
        "question": "是否符合规范要求",
        "criteria": criteria,
        "cls": kw.get("cls", "guarantee"),
        "points": points,
        "score": points - deducted,
        "deducted": deducted,
        "found": f"扣 {deducted:g} 分",
        "result": "fail" if deducted else "pass",
        "reason": kw.get("reason", ""),
        "note": kw.get("note", ""),
        "serious": False,
        "major_hazard": "",
        "photos": kw.get("photos", []),
    }


def safety_inspection() -> Specimen:
    photos = _Photos()
    criteria = [
        "架体搭设未编制专项施工方案或未按规定审核、审批，扣 10 分",
        "架体结构设计未进行设计计算，扣 10 分",
        "架体搭设超过规范允许高度，专项施工方案未按规定组织专家论证，扣 10 分",
    ]
    guarantee = [
        _jgj_row("G1", "施工方案", criteria, 10, 0),
        _jgj_row(
            "G2",
            "立杆基础",
            ["立杆基础不平、不实，不符合专项施工方案要求，扣 5～10 分", "未按规范设置纵、横向扫地杆，扣 5～10 分"],
            10,
            5,
            note="东侧立杆底座下垫板缺失三处，基础有积水。",
            photos=[photos.stored(11, 2), photos.stored(12, 2)],
        ),
        _jgj_row("G3", "架体与建筑结构拉结", ["连墙件数量、间距不符合规范，每处扣 2 分"], 10, 4, photos=[]),
        _jgj_row("G4", "杆件间距与剪刀撑", ["立杆、纵向水平杆、横向水平杆间距超过规范要求，每处扣 2 分"], 10, 0),
        _jgj_row(
            "G5", "脚手板与防护栏杆", ["脚手板未满铺或铺设不牢、不稳，扣 5～10 分"], 10, 3, photos=[photos.pending(13)]
        ),
        _jgj_row("G6", "交底与验收", ["架体搭设前未进行交底或交底未有文字记录，扣 5～10 分"], 10, 0),
    ]
    general = [
        _jgj_row(f"N{i}", name, ["不符合规范要求，每处扣 2 分"], 10 if i < 4 else 5, 2 if i % 2 else 0, cls="general")
        for i, name in enumerate(["横向水平杆设置", "杆件连接", "层间防护", "构配件材质", "通道"], start=1)
    ]
    about = {
        **_jgj_row("A1", "", [], 0, 0, cls="info"),
        "text": "架体搭设高度是否达到或超过24m（需专项方案；双排架需刚性连墙件）",
        "points": None,
        "score": None,
        "deducted": None,
        "found": "否",
        "result": "",
    }
    sections = [
        {"title": "架体概况", "code": "about", "rows": [about], "subtotal": None},
        {"title": "保证项目", "code": "guarantee", "rows": guarantee, "subtotal": _subtotal(guarantee)},
        {"title": "一般项目", "code": "general", "rows": general, "subtotal": _subtotal(general)},
    ]
    context = {
        "inspection": {
            "kind": "safety",
            "template_title": "扣件式钢管脚手架检查评分表",
            "template_code": "jgj59-fastener-scaffold",
            "template_version": 3,
            "standard": "JGJ 59-2011",
            "revision": 1,
            "revision_reason": "",
            "supervision_point": "",
            "inspector": "叶倩",
            "started_at": T0,
            "submitted_at": T0 + timedelta(hours=2),
            # the inspector's times on the tablet (检查时间), before it synced
            "inspected_from": T0 + timedelta(minutes=5),
            "inspected_to": T0 + timedelta(hours=1, minutes=40),
            "device_time": True,
            "gps": {"lat": 31.2304, "lng": 121.4737, "accuracy_m": 8.0},
            "lot_size": None,
            "note": "",
        },
        "place": _place(),
        "sections": sections,
        "score": {
            "total": 82.0,
            "grade": "合格",
            "details": {
                "group": "scaffold",
                "obtained": 82.0,
                "available": 100.0,
                "guarantee_obtained": 48.0,
                "guarantee_available": 60.0,
                "guarantee_converted": None,
                "zeroed": "",
            },
            "major_hazards": [],
        },
        "orders": [
            {"kind": "safety", "severity": "general", "status": "issued", "description": ORDER["description"]},
        ],
        "signature": _Photos.pending(99),
    }
    return Specimen("inspection", "扣件式钢管脚手架检查评分表", context, photos.thumbnails, _letterhead(SUPERVISOR))


def _subtotal(rows: list[dict[str, Any]]) -> dict[str, float]:
    available = sum(r["points"] for r in rows)
    obtained = sum(r["score"] for r in rows)
    return {"available": available, "deducted": available - obtained, "obtained": obtained}


def quality_inspection() -> Specimen:
    photos = _Photos()

    def row(code: str, text: str, cls: str, found: str, result: str, **kw: Any) -> dict[str, Any]:
        return {
            "code": code,
            "text": text,
            "heading": "",
            "question": text,
            "criteria": [],
            "cls": cls,
            "points": None,
            "score": None,
            "deducted": None,
            "found": found,
            "result": result,
            "reason": kw.get("reason", ""),
            "note": kw.get("note", ""),
            "serious": kw.get("serious", False),
            "major_hazard": "",
            "photos": kw.get("photos", []),
        }

    main = [
        row(
            "M1",
            "防水卷材及其配套材料的质量应符合设计要求（检查出厂合格证、质量检验报告和进场检验报告）",
            "main",
            "符合",
            "pass",
        ),
        row(
            "M2",
            "卷材防水层不得有渗漏和积水现象（雨后观察或淋水、蓄水试验）",
            "main",
            "不符合",
            "fail",
            note="天沟排水坡度不足，东段积水深约15mm。",
            photos=[photos.stored(21, 1), photos.stored(22, 1), photos.stored(23, 1)],
            serious=True,
        ),
        row(
            "M3",
            "卷材防水层在檐口、檐沟、天沟、水落口、泛水、变形缝和伸出屋面管道的防水构造应符合设计要求",
            "main",
            "符合",
            "pass",
        ),
    ]
    general = [
        row(f"G{i}", text, "general", f"抽查 10 处，合格 {9 - i % 2} 处", "pass")
        for i, text in enumerate(
            [
                "卷材的搭接缝应粘结或焊接牢固，密封应严密，不得扭曲、皱折和翘边",
                "卷材防水层的收头应与基层粘结，钉压应牢固，密封应严密",
                "卷材防水层的铺贴方向应正确，卷材搭接宽度的允许偏差为-10mm",
                "屋面排汽构造的排汽道应纵横贯通，不得堵塞；排汽管应安装牢固，位置应正确",
            ],
            start=1,
        )
    ]
    context = {
        "inspection": {
            "kind": "quality",
            "template_title": "屋面卷材防水层检验批质量验收记录",
            "template_code": "gb50300-roof-waterproofing",
            "template_version": 2,
            "standard": "GB 50300-2013、GB 50207-2012",
            "revision": 2,
            "revision_reason": "补录一般项目抽查数量",
            "supervision_point": "屋面防水层隐蔽前验收（停止点）",
            "inspector": "叶倩",
            "started_at": T0,
            "submitted_at": T0 + timedelta(hours=3),
            "inspected_from": T0 + timedelta(minutes=10),
            "inspected_to": T0 + timedelta(hours=2, minutes=15),
            "device_time": False,
            "gps": None,
            "lot_size": 5,
            "note": "检验批范围：12号楼屋面，约 860 m²。",
        },
        "place": _place(),
        "sections": [
            {"title": "主控项目", "code": "main", "rows": main, "subtotal": None},
            {"title": "一般项目", "code": "general", "rows": general, "subtotal": None},
        ],
        "score": {
            "total": 87.5,
            "grade": "不合格",
            "details": {
                "lot_capacity": 5,
                "min_sample": 3,
                "main_failed": ["M2"],
                "general_failed": [],
                "general_points": 40,
                "general_passed": 35,
                "required_rate": 0.8,
                "material_batch_warnings": [],
            },
            "major_hazards": [],
        },
        "orders": [],
        "signature": None,
    }
    return Specimen(
        "inspection", "屋面卷材防水层检验批质量验收记录", context, photos.thumbnails, _letterhead(SUPERVISOR)
    )


def weekly() -> Specimen:
    contractors = [CONTRACTOR, "济南建工集团有限公司", "辽阳市安装工程有限公司"]
    new = [
        {
            "issued_at": T0 + timedelta(hours=i * 7),
            "site": ["张街新村", "李街花园", "王家湾小区（二期）"][i % 3],
            "kind": ["safety", "quality", "civilised"][i % 3],
            "severity": "major" if i == 2 else "general",
            "description": ORDER["description"][: 20 + (i * 13) % 60],
            "contractor": contractors[i % 3],
            "deadline": T0 + timedelta(days=3 + i),
            "status": ["issued", "responded", "closed"][i % 3],
        }
        for i in range(9)
    ]
    overdue = [
        {
            "site": "张街新村",
            "description": "楼道综合整治：消防栓箱门缺失，未按期整改。",
            "contractor": contractors[1],
            "deadline": T0 - timedelta(days=4),
            "overdue_days": 4,
        }
    ]
    context = {
        "week": {"monday": date(2026, 11, 23), "sunday": date(2026, 11, 29), "as_of": T0 + timedelta(days=6)},
        "scope": {"programme": "", "projects": [PROJECT]},
        "orders": {
            "totals": {"new": 9, "closed": 3, "overdue": 1, "open": 12},
            "contractors": [
                {"contractor": c, "new": 3, "closed": 1, "overdue": int(i == 1), "open": 4}
                for i, c in enumerate(contractors)
            ],
            "new": new,
            "overdue": overdue,
        },
        "inspections": {
            "count": 3,
            "grades": {"优良": 1, "合格": 1, "不合格": 1},
            "items": [
                {
                    "submitted_at": T0 + timedelta(days=i),
                    "site": "张街新村",
                    "template": t,
                    "kind": "safety",
                    "inspector": "叶倩",
                    "total": s,
                    "grade": g,
                }
                for i, (t, s, g) in enumerate(
                    [
                        ("扣件式钢管脚手架检查评分表", 91.0, "优良"),
                        ("施工用电检查评分表", 78.5, "合格"),
                        ("屋面卷材防水层检验批质量验收记录", None, "不合格"),
                    ]
                )
            ],
        },
        "samples": [
            {
                "judged_at": T0 + timedelta(days=2),
                "material": "热轧带肋钢筋",
                "specification": "HRB400E φ12",
                "batch_number": "B2026-1123-07",
                "contractor": contractors[0],
                "label": "GJ-2026-0042-01",
                "retest": True,
                "failed_items": ["屈服强度", "断后伸长率"],
                "lab": "长青区建设工程质量检测中心",
            }
        ],
        "progress": [
            {
                "project": PROJECT,
                "site": site,
                "total": 12,
                "by_status": {"planned": 2, "in_progress": 6, "completed": 3, "accepted": 1},
                "done_share": "33%",
                "stops": int(site == "张街新村"),
            }
            for site in ["张街新村", "李街花园", "王家湾小区（二期）", "长青路 12 号院"]
        ],
    }
    return Specimen("weekly", "工程质量安全周报", context, {}, _letterhead(SUPERVISOR))


def warranty_register() -> Specimen:
    kinds = [
        ("road_paving", "小区道路及铺装改造", 5, "years"),
        ("roof_waterproofing", "屋面防水改造", 5, "years"),
        ("heating", "供热管网改造", 2, "seasons"),
        ("electrical", "电动自行车充电设施", 2, "years"),
        ("accessibility", "无障碍坡道及扶手", 10, "years"),
    ]
    items = []
    for i in range(14):
        work_type, name, amount, unit = kinds[i % len(kinds)]
        starts = date(2021 + i % 4, 12, 8)
        ends = rules.add_years(starts, amount if unit == "years" else 2)
        left = (ends - date(2026, 11, 25)).days
        items.append(
            {
                "site": ["张街新村", "李街花园", "王家湾小区（二期）"][i % 3],
                "work_item": name,
                "work_type": work_type,
                "contractor": CONTRACTOR if i % 2 else "济南建工集团有限公司",
                "period_unit": unit,
                "period_amount": amount,
                "by_contract": i % 5 == 0,
                "starts_on": starts,
                "ends_on": ends,
                "days_left": left,
                "expired": left < 0,
                "retention": "37800.00",
                "retention_release_on": starts + timedelta(days=730) if i % 3 else None,
                "retention_released_on": starts + timedelta(days=731) if i % 4 == 0 else None,
            }
        )
    items.sort(key=lambda x: x["ends_on"])
    context = {
        "today": date(2026, 11, 25),
        "items": items,
        "counts": {
            "total": len(items),
            "expired": sum(1 for x in items if x["expired"]),
            "within_90": sum(1 for x in items if not x["expired"] and x["days_left"] <= 90),
        },
    }
    return Specimen("warranty_register", "保修登记表", context, {}, _letterhead(OWNER))


def acceptance() -> Specimen:
    photos = _Photos()
    parties = [
        ("owner", OWNER, "李明"),
        ("contractor", CONTRACTOR, "王建国"),
        ("supervisor", SUPERVISOR, "叶倩"),
        ("designer", "长青市建筑设计研究院有限公司", "赵丽"),
        ("community", "长青街道办事处", "孙强"),
        ("property", "长青物业服务有限公司", "周敏"),
        ("resident_supervisor", "", "钱大爷"),
        ("resident_supervisor", "", "吴阿姨"),
    ]
    participants = [
        {
            "party": party,
            "name": name,
            "organisation": org,
            "signed": i != 5,
            "opinion": "同意验收。" if i % 2 == 0 else "",
            "signature": photos.stored(40 + i) if i in (0, 2) else (_Photos.pending(50) if i == 3 else None),
        }
        for i, (party, org, name) in enumerate(parties)
    ]
    context = {
        "acceptance": {
            "site": "张街新村",
            "accepted_on": date(2026, 11, 24),
            "result": "passed",
            "remarks": "各方一致同意通过竣工联合验收，遗留的两处绿化补植于十二月十五日前完成。",
            "recorded_by": "李明",
        },
        "participants": participants,
        "photos": [photos.stored(60), photos.stored(61)],
        "satisfaction": {
            "answers": 286,
            "households": 412,
            "response_rate": "69.4",
            "satisfied_share": "91.3",
            "overall_average": "4.36",
        },
        "items": [
            {
                "work_item": name,
                "contractor": CONTRACTOR,
                "period_unit": unit,
                "period_amount": amount,
                "starts_on": date(2026, 11, 24),
                "ends_on": rules.add_years(date(2026, 11, 24), amount if unit == "years" else 2),
            }
            for name, amount, unit in [("屋面防水改造", 5, "years"), ("供热管网改造", 2, "seasons")]
        ],
    }
    return Specimen("acceptance", "竣工联合验收记录", context, photos.thumbnails, _letterhead(OWNER))


def ledger() -> Specimen:
    batches = []
    for i in range(7):
        samples = [
            {
                "label": f"GJ-2026-00{40 + i}-0{j + 1}",
                "retest_of": f"GJ-2026-00{40 + i}-01" if j == 1 else "",
                "taken_at": T0 + timedelta(days=i),
                "sets": 2 if j else 1,
                "taken_by": "王建国",
                "witness": "叶倩" if (i + j) % 3 else "",
                "lab": "长青区建设工程质量检测中心",
                "report_number": f"JC-2026-{1000 + i * 3 + j}",
                "verdict": "不合格" if j == 0 and i == 2 else "合格",
                "failed": j == 0 and i == 2,
                "failed_items": ["屈服强度"] if j == 0 and i == 2 else [],
            }
            for j in range(2 if i == 2 else 1)
        ]
        batches.append(
            {
                "arrival_date": date(2026, 11, 20 + i % 5),
                "material": ["热轧带肋钢筋", "SBS改性沥青防水卷材", "普通硅酸盐水泥"][i % 3],
                "specification": ["HRB400E φ12", "Ⅱ型 4mm PY", "P·O 42.5"][i % 3],
                "manufacturer": "辽宁省某某钢铁集团股份有限公司" if i % 3 == 0 else "山东某某防水材料有限公司",
                "batch_number": f"B2026-11{20 + i}-0{i}",
                "quantity": "60",
                "unit": ["t", "m²", "t"][i % 3],
                "required_sets": 1,
                "contractor": CONTRACTOR,
                "work_item": "屋面防水及保温层翻新改造",
                "status": "已退场" if i == 2 else "合格",
                "samples": samples if i != 5 else [],
            }
        )
    context = {
        "range": {"from": date(2026, 11, 1), "to": date(2026, 11, 30)},
        "witness": {
            "min_share": 0.3,
            "materials": [
                {"material": m, "required": 3, "taken": 3, "witnessed": w, "witness_required": True, "met": w >= 1}
                for m, w in [("热轧带肋钢筋", 2), ("SBS改性沥青防水卷材", 0), ("普通硅酸盐水泥", 1)]
            ],
        },
        "batches": batches,
    }
    return Specimen("ledger", "材料进场及取样送检台账", context, {}, _letterhead(SUPERVISOR))


PROGRAMME = "长青区2026年度老旧小区改造计划"
INDICATORS = [
    ("safety_score", "安全得分", "20"),
    ("first_pass", "一次合格率", "15"),
    ("on_time", "按期闭合率", "15"),
    ("overdue_days", "逾期单日", "10"),
    ("stop_work", "停工", "10"),
    ("failed_samples", "送检不合格", "10"),
    ("complaints_upheld", "投诉属实", "5"),
    ("satisfaction", "满意率", "15"),
]


def _ranking(kind: str, name: str, names: list[str]) -> dict[str, Any]:
    rows = []
    for i, subject in enumerate(names):
        score = 96.4 - 9.7 * i
        grade = "优秀" if score >= 90 else "良好" if score >= 80 else "合格" if score >= 60 else "不合格"
        points = [f"{max(0.0, 100 - 7.5 * i - 3 * j):.1f}" for j in range(len(INDICATORS))]
        if i == 1:
            points[1] = None  # no lots that month
        rows.append(
            {
                "rank": i + 1,
                "name": subject,
                "sites": 8 + i,
                "score": f"{score:.1f}",
                "grade": grade,
                "capped": i == 2,
                "points": points,
            }
        )
    rows.append(
        {
            "rank": None,
            "name": "长青区新华街道（不参评）",
            "sites": 0,
            "score": None,
            "grade": "不参评",
            "capped": False,
            "points": [None] * 8,
        }
    )
    return {"kind": kind, "name": name, "rows": rows, "best": names[0], "worst": names[-1]}


def _programme_tables() -> list[dict[str, Any]]:
    return [
        _ranking("area", "街道（社区）", ["长青街道", "新华街道", "东风街道"]),
        _ranking(
            "project",
            "项目",
            [PROJECT, "长青区2026年老旧小区改造项目（第二批）", "长青区2026年老旧小区改造项目（第三批）"],
        ),
        _ranking(
            "contractor",
            "施工单位",
            [CONTRACTOR, "东莞安装工程有限公司", "济南建工集团有限公司", "长青市政工程有限公司", "某某建设有限公司"],
        ),
        _ranking("supervisor", "监理单位", [SUPERVISOR, "长青工程咨询有限公司"]),
    ]


def _programme_letterhead() -> Letterhead:
    return Letterhead(organisation="长青区老旧小区改造工作领导小组办公室", project=PROGRAMME, project_code="")


def programme_weekly() -> Specimen:
    context = {
        "programme": PROGRAMME,
        "week": {"monday": date(2026, 11, 16), "sunday": date(2026, 11, 22), "as_of": T0},
        "indicators": [{"code": c, "name": n, "weight": w} for c, n, w in INDICATORS],
        "tables": _programme_tables(),
    }
    return Specimen("programme_weekly", "老旧小区改造工作周通报", context, {}, _programme_letterhead())


def programme_monthly() -> Specimen:
    context = {
        "programme": PROGRAMME,
        "month": "2026年10月",
        "revision": 2,
        "reason": "新华街道补录10月31日纸质问卷十二份，满意率更正",
        "finalised_at": T0,
        "finalised_by": "赵旧改",
        "indicators": [{"code": c, "name": n, "weight": w} for c, n, w in INDICATORS],
        "tables": _programme_tables(),
        "praised": [
            {"kind": "施工单位", "name": CONTRACTOR, "score": "96.4"},
            {"kind": "街道（社区）", "name": "长青街道", "score": "96.4"},
        ],
        "criticised": [
            {
                "kind": "施工单位",
                "name": "某某建设有限公司",
                "score": "57.6",
                "weakest": ["整改按期闭合率", "居民满意率"],
            },
        ],
        "contractor_grades": {"优秀": 1, "良好": 2, "合格": 1, "不合格": 1},
    }
    return Specimen("programme_monthly", "老旧小区改造月度考评通报", context, {}, _programme_letterhead())


SPECIMENS = {
    "notice": notice,
    "grouped-notice": notice_items,
    "reply": reply,
    "inspection-safety": safety_inspection,
    "inspection-quality": quality_inspection,
    "weekly": weekly,
    "warranty": warranty_register,
    "acceptance": acceptance,
    "ledger": ledger,
    "programme-weekly": programme_weekly,
    "programme-monthly": programme_monthly,
}
