"""材料进场及取样送检台账 — a project's material batches arrived in a date range, each with its samples,
witnesses, labs, reports and verdicts, and the witness share per material. Read through the samples
domain's own visibility rule (a contractor sees its own batches only) and its rule book."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.errors import ValidationFailed
from inspection.reports import rules
from inspection.reports.loaders.base import ReportData, letterhead, project_row
from inspection.samples.access import project_batches_where
from inspection.samples.ledger import STATUS_ZH, VERDICT_ZH
from inspection.samples.rules import ResultFact, failed_items
from inspection.samples.service import SamplesService
from inspection.samples.tables import MaterialBatch, Sample, SampleResult

B = MaterialBatch


def _codes(text: str) -> list[str]:
    return [c for c in (text or "").split(",") if c]


async def _failed(samples: list[dict[str, Any]]) -> dict[UUID, list[str]]:
    ids = [x["id"] for x in samples]
    facts: dict[UUID, list[ResultFact]] = {i: [] for i in ids}
    if ids:
        rows = await SampleResult.select(
            SampleResult.sample, SampleResult.test_item, SampleResult.set_no, SampleResult.passed
        ).where(SampleResult.sample.is_in(ids) & SampleResult.deleted.eq(False))
        for r in rows:
            facts[r["sample"]].append(ResultFact(r["test_item"], r["set_no"], bool(r["passed"])))
    return {x["id"]: failed_items(_codes(x["test_items"]), facts[x["id"]]) for x in samples}


async def load_ledger(
    service: SamplesService, actor: Actor, project_id: UUID, date_from: date | None, date_to: date | None
) -> ReportData:
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed("from is after to", field="from")
    where = await project_batches_where(actor, project_id)  # NotFound unless a member
    if date_from is not None:
        where &= B.arrival_date >= date_from
    if date_to is not None:
        where &= B.arrival_date <= date_to
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
    failed = await _failed(samples)
    labels = {x["id"]: x["label_code"] for x in samples}
    material_of = {b["id"]: b["material"] for b in batches}
    by_batch: dict[UUID, list[dict[str, Any]]] = {}
    for x in samples:
        rule = service.book.material(material_of[x["batch"]])
        by_batch.setdefault(x["batch"], []).append(
            {
                "label": x["label_code"],
                "taken_at": x["taken_at"],
                "sets": x["sets"],
                "taken_by": x["taken_by_name"] or "",
                "witness": x["witness_name"] or "",
                "lab": x["lab_name"] or "",
                "report_number": x["lab_report_number"],
                "retest_of": labels.get(x["retest_of"], "") if x["is_retest"] else "",
                "verdict": VERDICT_ZH.get(x["verdict"], x["verdict"]),
                "failed": x["verdict"] == "fail",
                "failed_items": [
                    item.name if rule and (item := rule.item(code)) else code for code in failed.get(x["id"], [])
                ],
            }
        )
    rows = []
    for b in batches:
        rule = service.book.material(b["material"])
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
                "rejected": b["status"] in ("rejected", "disposed"),
                "samples": by_batch.get(b["id"], []),
            }
        )
    witness = await service.witness_ratio(actor, project_id)
    project = await project_row(project_id)
    context = {
        "range": {"from": date_from, "to": date_to},
        "batches": rows,
        "witness": {
            "min_share": witness.min_share,
            "materials": [
                {
                    "material": w.material_name,
                    "required": w.required,
                    "taken": w.taken,
                    "witnessed": w.witnessed,
                    "ratio": w.ratio,
                    "met": w.met,
                    "witness_required": w.witness_required,
                }
                for w in witness.materials
            ],
        },
    }
    return ReportData(
        kind="ledger",
        subject_id=project_id,
        project_id=project_id,
        title=rules.kind_info("ledger").title,
        letterhead=await letterhead(project, actor.organisation_id),
        context=context,
    )


async def failed_samples_part(
    service: SamplesService, actor: Actor, project_ids: list[UUID], start: Any, end: Any
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for project_id in project_ids:
        batches = await MaterialBatch.select(
            MaterialBatch.id,
            MaterialBatch.material,
            MaterialBatch.specification,
            MaterialBatch.batch_number,
            MaterialBatch.status,
            MaterialBatch.contractor.name.as_alias("contractor_name"),
        ).where(await project_batches_where(actor, project_id))
        by_id = {b["id"]: b for b in batches}
        if not by_id:
            continue
        samples = await (
            Sample.select(
                Sample.id,
                Sample.batch,
                Sample.label_code,
                Sample.test_items,
                Sample.is_retest,
                Sample.judged_at,
                Sample.lab.name.as_alias("lab_name"),
            )
            .where(
                Sample.batch.is_in(list(by_id))
                & (Sample.verdict == "fail")
                & Sample.deleted.eq(False)
                & (Sample.judged_at >= start)
                & (Sample.judged_at < end)
            )
            .order_by(Sample.judged_at)
            .order_by(Sample.id)
        )
        results = (
            await SampleResult.select(
                SampleResult.sample, SampleResult.test_item, SampleResult.set_no, SampleResult.passed
            ).where(SampleResult.sample.is_in([x["id"] for x in samples]) & SampleResult.deleted.eq(False))
            if samples
            else []
        )
        facts: dict[UUID, list[ResultFact]] = {}
        for r in results:
            facts.setdefault(r["sample"], []).append(ResultFact(r["test_item"], r["set_no"], bool(r["passed"])))
        for x in samples:
            b = by_id[x["batch"]]
            rule = service.book.material(b["material"])
            codes = [c for c in (x["test_items"] or "").split(",") if c]
            failed = failed_items(codes, facts.get(x["id"], []))
            out.append(
                {
                    "judged_at": x["judged_at"],
                    "material": rule.name if rule else b["material"],
                    "specification": b["specification"],
                    "batch_number": b["batch_number"],
                    "contractor": b["contractor_name"] or "",
                    "label": x["label_code"],
                    "retest": x["is_retest"],
                    "lab": x["lab_name"] or "",
                    "failed_items": [i.name if rule and (i := rule.item(c)) else c for c in failed],
                    "batch_status": b["status"],
                }
            )
    return out
