"""Rows of the samples tables shaped as the API shows them, and the stored fields the rules read
back (portions, grade): pure, no I/O."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from inspection.evidence import links
from inspection.samples import schemas as s
from inspection.samples.rules import MaterialRule, Portion, RuleBook, SampleFacts, evaluate_lot


def _file(info: links.EvidenceInfo) -> s.FileOut:
    return s.FileOut(
        sha256=info.sha256, status=info.status, pending=info.status != "stored", content_type=info.content_type
    )


def portions_of(raw: str | None) -> list[Portion]:
    """A batch's stored portions (JSON) as the rules read them."""
    out = []
    for p in json.loads(raw or "[]"):
        mixer = p.get("mixer_batches")
        out.append(Portion(str(p["floor"]), str(p["shift"]), Decimal(str(p["volume"])), int(mixer) if mixer else None))
    return out


def _grade_value(rule: MaterialRule, batch: dict[str, Any]) -> Decimal | None:
    if rule.lot is None:
        return None
    return rule.lot.grade_value(batch["strength_grade"] or rule.grade)


def _lot_out(rule: MaterialRule, batch: dict[str, Any], facts: list[SampleFacts]) -> s.LotOut | None:
    """The lot's evaluation once every required set has its value (before that: none)."""
    grade = _grade_value(rule, batch)
    if rule.lot is None or grade is None:
        return None
    values = [v for f in facts if not f.is_retest for v in f.lot_values]
    if not values or len(values) < batch["required_sets"]:
        return None
    v = evaluate_lot(rule.lot, grade, values)
    return s.LotOut(
        strength_grade=batch["strength_grade"] or rule.grade,
        method=v.method,
        sets=v.sets,
        mean=float(v.mean),
        minimum=float(v.minimum),
        sd=float(v.sd) if v.sd is not None else None,
        mean_required=float(v.mean_required),
        minimum_required=float(v.minimum_required),
        passed=v.passed,
        reasons=list(v.reasons),
        text=v.describe(),
    )


def materials_out(book: RuleBook) -> s.MaterialsOut:
    """The rule book's materials, test items and their sources, as GET /samples/materials lists them."""
    return s.MaterialsOut(
        witness_min_share=float(book.witness_min_share),
        materials=[
            s.MaterialOut(
                code=r.code,
                name=r.name,
                grade=r.grade,
                unit=r.unit,
                witness_required=r.witness_required,
                specimens_per_set=r.specimens_per_set,
                specimens_note=r.specimens_note,
                plan_method=r.plan.method.value,
                plan_source=r.plan.origin.source,
                plan_confidence=r.plan.origin.confidence,
                plan_unverified=r.plan.origin.unverified,
                retest_factor=r.retest_factor,
                lot_method=r.lot.method if r.lot else None,
                grades=list(r.lot.grades) if r.lot else [],
                in_structure=r.in_structure,
                items=[
                    s.TestItemOut(
                        code=i.code,
                        name=i.name,
                        unit=i.unit,
                        min=float(i.min) if i.min is not None else None,
                        max=float(i.max) if i.max is not None else None,
                        retest=i.retest,
                        source=i.origin.source,
                        confidence=i.origin.confidence,
                        unverified=i.origin.unverified,
                        by_lot=i.by_lot,
                    )
                    for i in r.items
                ],
            )
            for r in book.materials.values()
        ],
    )
