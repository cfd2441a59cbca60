"""材料进场及取样送检台账 — a project's material batches arrived in a date range, each with its samples,
witnesses, labs, reports and verdicts (the samples domain's `ledger_rows`, the same rows as its CSV),
and the witness share per material."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.errors import ValidationFailed
from inspection.messages import t
from inspection.reports import rules
from inspection.reports.loaders.base import ReportData, letterhead, project_row
from inspection.samples.access import project_batches_where
from inspection.samples.facts import result_facts, test_item_codes
from inspection.samples.ledger import ledger_rows
from inspection.samples.queries import SampleQueries
from inspection.samples.rules import failed_items
from inspection.samples.tables import MaterialBatch, Sample


async def load_ledger(
    service: SampleQueries, actor: Actor, project_id: UUID, date_from: date | None, date_to: date | None
) -> ReportData:
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed(t("reports.from_after"), field="from")
    rows = await ledger_rows(actor, project_id, service.book, date_from, date_to)
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
    service: SampleQueries, actor: Actor, project_ids: list[UUID], start: Any, end: Any
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
        facts = await result_facts([x["id"] for x in samples])
        for x in samples:
            b = by_id[x["batch"]]
            rule = service.book.material(b["material"])
            failed = failed_items(test_item_codes(x["test_items"]), facts[x["id"]])
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
