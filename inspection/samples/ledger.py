"""The material ledger (原材料进场及见证取样台账): `ledger_rows`, the one query behind both the CSV
(`render`, here) and the PDF (inspection/reports/loaders/ledger.py), and the CSV itself: one line
per sample, a batch without samples on a line of its own, UTF-8 with a byte-order mark so that
Excel shows the Chinese, and no cell a spreadsheet would run as a formula (inspection/csvsafe.py)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, tzinfo
from decimal import Decimal
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.csvsafe import SafeWriter
from inspection.samples.access import project_batches_where
from inspection.samples.facts import result_facts, test_item_codes
from inspection.samples.rules import RuleBook, failed_items
from inspection.samples.tables import MaterialBatch, Sample

B = MaterialBatch

HEADER = [
    "进场日期", "材料名称", "规格型号", "生产厂家", "批号", "进场数量", "单位", "施工单位", "使用部位",
    "应取组数", "批次状态", "样品编号", "取样日期", "组数", "取样人", "见证人", "检测机构",
    "报告编号", "是否复验", "复验对应样品", "检测结论", "不合格项目",
]  # fmt: skip
BATCH_COLUMNS = 11
STATUS_ZH = {
    "awaiting_sampling": "待取样",
    "sampling": "检验中",
    "accepted": "合格",
    "rejected": "不合格",
    "disposed": "已退场",
    "treated": "已处理",
}
VERDICT_ZH = {"pending": "待出报告", "pass": "合格", "fail": "不合格"}


async def ledger_rows(
    actor: Actor, project_id: UUID, book: RuleBook, arrived_from: date | None = None, arrived_to: date | None = None
) -> list[dict[str, Any]]:
    """The project's material batches `actor` may read (a contractor: its own; NotFound unless a
    member) that arrived in the range, in arrival order, each with its samples in the order taken:
    names and verdicts as printed, failed test items by their names in the rule book."""
    where = await project_batches_where(actor, project_id)
    if arrived_from is not None:
        where &= B.arrival_date >= arrived_from
    if arrived_to is not None:
        where &= B.arrival_date <= arrived_to
    batches = await (
        B.select(
            *B.all_columns(), B.contractor.name.as_alias("contractor_name"), B.work_item.name.as_alias("work_item_name")
        )
        .where(where)
        .order_by(B.arrival_date)
        .order_by(B.id)
    )
    ids = [b["id"] for b in batches]
    samples = (
        await Sample.select(
            *Sample.all_columns(),
            Sample.lab.name.as_alias("lab_name"),
            Sample.taken_by.display_name.as_alias("taken_by_name"),
            Sample.witness.display_name.as_alias("witness_name"),
        )
        .where(Sample.batch.is_in(ids) & Sample.deleted.eq(False))
        .order_by(Sample.taken_at)
        .order_by(Sample.id)
        if ids
        else []
    )
    facts = await result_facts([x["id"] for x in samples])
    labels = {x["id"]: x["label_code"] for x in samples}
    material_of = {b["id"]: b["material"] for b in batches}
    by_batch: dict[UUID, list[dict[str, Any]]] = {}
    for x in samples:
        rule = book.material(material_of[x["batch"]])
        failed = failed_items(test_item_codes(x["test_items"]), facts[x["id"]])
        by_batch.setdefault(x["batch"], []).append(
            {
                "label": x["label_code"],
                "taken_at": x["taken_at"],
                "sets": x["sets"],
                "taken_by": x["taken_by_name"] or "",
                "witness": x["witness_name"] or "",
                "lab": x["lab_name"] or "",
                "report_number": x["lab_report_number"],
                "is_retest": x["is_retest"],
                "retest_of": labels.get(x["retest_of"], "") if x["retest_of"] else "",
                "verdict": VERDICT_ZH.get(x["verdict"], x["verdict"]),
                "failed": x["verdict"] == "fail",
                "failed_items": [item.name if rule and (item := rule.item(code)) else code for code in failed],
            }
        )
    rows = []
    for b in batches:
        rule = book.material(b["material"])
        rows.append(
            {
                "arrival_date": b["arrival_date"],
                "material": rule.name if rule else b["material"],
                "specification": b["specification"],
                "manufacturer": b["manufacturer"],
                "batch_number": b["batch_number"],
                "quantity": f"{Decimal(str(b['quantity'])).normalize():f}",
                "unit": b["unit"],
                "contractor": b["contractor_name"] or "",
                "work_item": b["work_item_name"] or "",
                "required_sets": b["required_sets"],
                "status": STATUS_ZH.get(b["status"], b["status"]),
                "rejected": b["status"] in ("rejected", "disposed", "treated"),
                "samples": by_batch.get(b["id"], []),
            }
        )
    return rows


def render(rows: Sequence[dict[str, Any]], timezone: tzinfo) -> bytes:
    """The CSV of `ledger_rows`; sampling days in `timezone` (the rule book's)."""
    buf = io.StringIO()
    out = SafeWriter(buf, lineterminator="\r\n")
    out.writerow(HEADER)
    for b in rows:
        head = [
            b["arrival_date"].isoformat(),
            b["material"],
            b["specification"],
            b["manufacturer"],
            b["batch_number"],
            b["quantity"],
            b["unit"],
            b["contractor"],
            b["work_item"],
            b["required_sets"],
            b["status"],
        ]
        if not b["samples"]:
            out.writerow([*head, *[""] * (len(HEADER) - BATCH_COLUMNS)])
        for x in b["samples"]:
            out.writerow(
                [
                    *head,
                    x["label"],
                    x["taken_at"].astimezone(timezone).date().isoformat(),
                    x["sets"],
                    x["taken_by"],
                    x["witness"],
                    x["lab"],
                    x["report_number"],
                    "是" if x["is_retest"] else "否",
                    x["retest_of"],
                    x["verdict"],
                    "、".join(x["failed_items"]),
                ]
            )
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
