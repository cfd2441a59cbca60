"""What an inspector's tablet sends, checked before anything is stored: each answer against its
item in the template version, the device's times, and the id every device gives an answer."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any
from uuid import UUID

from inspection.checklists import schemas as s
from inspection.checklists import scoring
from inspection.checklists.templates import Item, Template, canonical_unit
from inspection.errors import ValidationFailed
from inspection.messages import Message, t

ANSWER_NAMESPACE = UUID("6f1d2c1e-8a53-4b7e-9a53-1c0c4e7b2d10")


def answer_id(inspection_id: UUID, item_code: str) -> UUID:
    """The id of an item's answer in an inspection: the same on every tablet and on the server,
    so answering offline needs no round trip and two devices converge on one row."""
    return uuid.uuid5(ANSWER_NAMESPACE, f"{inspection_id}:{item_code}")


@dataclass(frozen=True)
class CheckedAnswer:
    item: Item
    values: dict[str, Any]
    photos: list[str]


def _bad(index: int, field: str, message: Message) -> ValidationFailed:
    return ValidationFailed(message, field=f"answers[{index}].{field}")


def check_answer(template: Template, index: int, a: s.AnswerIn) -> CheckedAnswer:
    """Validate one answer against its item in the template version; returns the columns to store."""
    item = template.item(a.item_code)
    if item is None:
        raise _bad(index, "item_code", t("checklists.item_not_version", item_code=a.item_code, code=template.code))
    values: dict[str, Any] = {
        "value": "",
        "deduction": None,
        "measured": "",
        "unit": "",
        "checked": None,
        "passed": None,
        "text": a.text or "",
        "note": a.note,
        "flagged": a.flagged,
        "deductions": "[]",
        "serious_defect": a.serious_defect,
    }
    kind = item.answer
    if a.serious_defect and (template.kind != "quality" or not item.scored):
        raise _bad(index, "serious_defect", t("checklists.serious_defect_on_quality_lot"))
    given = {
        name
        for name, v in (
            ("deduction", a.deduction),
            ("deductions", a.deductions),
            ("measured", a.measured),
            ("unit", a.unit),
            ("checked", a.checked),
            ("passed", a.passed),
        )
        if v is not None
    }
    allowed_extra = {
        "deduction": {"deduction", "deductions"},
        "measured": {"measured", "unit"},
        "count": {"checked", "passed"},
    }.get(kind, set())
    stray = sorted(given - allowed_extra)
    if stray:
        raise _bad(
            index, stray[0], t("checklists.item_answered_as_does_not_apply", code=item.code, kind=kind, value=stray[0])
        )
    if a.value == "na":
        if not item.scored:
            raise _bad(index, "value", t("checklists.item_question_answer_cannot_not_applicable", code=item.code))
        if given:
            raise _bad(index, "value", t("checklists.not_applicable_answer_carries_no_figures"))
        values["value"] = "na"
        return CheckedAnswer(item, values, list(a.photos))
    if kind == "pass_fail":
        if a.value not in ("pass", "fail"):
            raise _bad(index, "value", t("checklists.item_takes_pass_fail_na", code=item.code))
        values["value"] = a.value
    elif kind == "yes_no":
        if a.value not in ("yes", "no"):
            raise _bad(index, "value", t("checklists.item_takes_yes_no", code=item.code))
        values["value"] = a.value
    elif kind == "text":
        if a.value is not None or not (a.text or "").strip():
            raise _bad(index, "text", t("checklists.item_takes_text_answer", code=item.code))
    else:
        if a.value is not None:
            raise _bad(index, "value", t("checklists.item_answered_as_value_may_only", code=item.code, kind=kind))
        if kind == "deduction":
            values["deduction"], values["deductions"] = _deductions(index, item, a)
        elif kind == "measured":
            if not a.measured:
                raise _bad(index, "measured", t("checklists.item_needs_measured_values", code=item.code))
            if a.unit is None:
                raise _bad(index, "unit", t("checklists.item_measured_give_unit", code=item.code, unit=item.unit))
            if canonical_unit(a.unit) != item.unit:
                raise _bad(
                    index, "unit", t("checklists.item_measured_not", code=item.code, unit=item.unit, unit2=a.unit)
                )
            values["measured"] = json.dumps([float(v) for v in a.measured])
            values["unit"] = item.unit
        elif kind == "count":
            if a.checked is None or a.passed is None:
                raise _bad(index, "checked", t("checklists.item_needs_points_checked_passed", code=item.code))
            if a.checked == 0 or a.passed > a.checked:
                raise _bad(index, "passed", t("checklists.passed_must_at_most_checked_checked"))
            values["checked"], values["passed"] = a.checked, a.passed
    return CheckedAnswer(item, values, list(a.photos))


def _deductions(index: int, item: Item, a: s.AnswerIn) -> tuple[float, str]:
    """(the total, the itemised findings as JSON) of a JGJ 59 answer, stored as entered: a total
    above the item's points is kept (the scorer caps it), only the bound of a real record applies."""
    findings = a.deductions or []
    if not findings:
        if a.deduction is None:
            raise _bad(index, "deduction", t("checklists.item_needs_points_taken_off_0", code=item.code))
        return float(a.deduction), "[]"
    total = sum(Fraction(str(d.points)) * d.count for d in findings)
    if total > Fraction(str(s.DEDUCTION_MAX)):
        raise _bad(
            index,
            "deductions",
            t("checklists.findings_add_up_points_at_most", value=float(total), DEDUCTION_MAX=s.DEDUCTION_MAX),
        )
    if a.deduction is not None and Fraction(str(a.deduction)) != total:
        raise _bad(
            index, "deduction", t("checklists.deduction_not_findings_sum", deduction=a.deduction, value=float(total))
        )
    stored = json.dumps(
        [{"reason": d.reason, "points": d.points, "count": d.count} for d in findings], ensure_ascii=False
    )
    return float(total), stored


def rule_answer(row: dict[str, Any]) -> scoring.Answer:
    return scoring.Answer(
        item_code=row["item_code"],
        value=row["value"],
        deduction=row["deduction"],
        measured=tuple(json.loads(row["measured"])) if row["measured"] else (),
        checked=row["checked"],
        passed=row["passed"],
        text=row["text"],
        flagged=row["flagged"],
        serious_defect=bool(row.get("serious_defect")),
        deductions=tuple(
            scoring.Deduction(str(d["reason"]), float(d["points"]), int(d.get("count", 1)))
            for d in json.loads(row.get("deductions") or "[]")
        ),
    )


def _aware(moment: datetime | None, field: str) -> None:
    """Device times are evidence: without an offset they mean nothing, so they are refused."""
    if moment is not None and moment.tzinfo is None:
        raise ValidationFailed(t("checklists.give_time_zone_offset_2026_11", field=field), field=field)
