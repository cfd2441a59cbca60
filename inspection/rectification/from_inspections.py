"""Failures become work: the rectification side of an inspection's submission (a submit handler)."""

from __future__ import annotations

from inspection.actor import Actor
from inspection.records import Write
from inspection.rectification.rules import OrderKind, Severity, Source
from inspection.rectification.service import OrderSpec, open_order
from inspection.submission import ANSWER_TABLE, Submitted


async def on_inspection_submitted(w: Write, actor: Actor, submitted: Submitted) -> None:
    """A DRAFT order for every finding, linked to its answer and photos; a major-hazard failure also
    proposes a draft stop-work order. Without a contractor (no work item) no order can be
    addressed: checklists lists those items in the score as `orders_not_opened`."""
    row = submitted.inspection
    if row["contractor"] is None:
        return
    kind = OrderKind.quality if submitted.kind == "quality" else OrderKind.safety
    for finding in submitted.findings:
        spec = OrderSpec(
            project_id=row["project"],
            kind=kind,
            severity=Severity.general,
            source=Source.inspection_answer,
            source_table=ANSWER_TABLE,
            source_id=finding.answer_id,
            description=finding.description,
            site_id=row["site"],
            building_id=row["building"],
            work_item_id=row["work_item"],
            contractor_id=row["contractor"],
            photos=list(finding.photos),
        )
        await open_order(w, actor, spec)
        if finding.major_hazard and row["site"] is not None:
            spec.kind = OrderKind.stop_work
            spec.severity = Severity.major
            spec.description = f"重大事故隐患({finding.major_hazard}):{finding.description}"
            await open_order(w, actor, spec)
