"""The material ledger (原材料进场及见证取样台账) as CSV: one line per sample, a batch without
samples on a line of its own. UTF-8 with a byte-order mark, so that Excel shows the Chinese."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from inspection.samples.rules import RuleBook

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
}
VERDICT_ZH = {"pending": "待出报告", "pass": "合格", "fail": "不合格"}


def render(
    book: RuleBook,
    batches: Sequence[Mapping[str, Any]],
    samples: Sequence[Mapping[str, Any]],
    failed: Mapping[UUID, Sequence[str]],
) -> bytes:
    """`batches` with contractor_name and work_item_name; `samples` with lab_name, taken_by_name and
    witness_name, in the order to print; `failed`: the failed item codes of each sample."""
    by_batch: dict[UUID, list[Mapping[str, Any]]] = {}
    for x in samples:
        by_batch.setdefault(x["batch"], []).append(x)
    labels = {x["id"]: x["label_code"] for x in samples}
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    out.writerow(HEADER)
    for b in batches:
        rule = book.material(b["material"])
        head = [
            b["arrival_date"].isoformat(),
            rule.name if rule else b["material"],
            b["specification"],
            b["manufacturer"],
            b["batch_number"],
            f"{Decimal(str(b['quantity'])).normalize():f}",
            b["unit"],
            b["contractor_name"] or "",
            b["work_item_name"] or "",
            b["required_sets"],
            STATUS_ZH.get(b["status"], b["status"]),
        ]
        rows = by_batch.get(b["id"], [])
        if not rows:
            out.writerow([*head, *[""] * (len(HEADER) - BATCH_COLUMNS)])
        for x in rows:
            names = [item.name if rule and (item := rule.item(code)) else code for code in failed.get(x["id"], [])]
            out.writerow(
                [
                    *head,
                    x["label_code"],
                    x["taken_at"].astimezone(book.timezone).date().isoformat(),
                    x["sets"],
                    x["taken_by_name"] or "",
                    x["witness_name"] or "",
                    x["lab_name"] or "",
                    x["lab_report_number"],
                    "是" if x["is_retest"] else "否",
                    labels.get(x["retest_of"], "") if x["retest_of"] else "",
                    VERDICT_ZH.get(x["verdict"], x["verdict"]),
                    "、".join(names),
                ]
            )
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
