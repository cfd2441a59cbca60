"""检查记录表 — one submitted inspection, through the checklists service (its access rules: a
contractor reads only inspections of its own work), with the template version it was run with."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.checklists import catalogue
from inspection.checklists.access import sees
from inspection.checklists.queries import ChecklistQueries
from inspection.checklists.schemas import AnswerOut
from inspection.checklists.tables import ChecklistTemplate, Inspection
from inspection.checklists.templates import Deduction, Item, visible_items
from inspection.errors import Conflict
from inspection.messages import t
from inspection.projects.access import project_access
from inspection.projects.tables import User
from inspection.reports import rules
from inspection.reports.loaders.base import (
    Photos,
    ReportData,
    letterhead,
    place_names,
    project_row,
    site_names,
    user_names,
)

# keys of the score's details that the report prints (the rest is internal bookkeeping)
SAFETY_DETAILS = (
    "group",
    "obtained",
    "available",
    "guarantee_obtained",
    "guarantee_available",
    "guarantee_converted",
    "zeroed",
)
QUALITY_DETAILS = (
    "lot_capacity",
    "min_sample",
    "main_failed",
    "general_failed",
    "general_points",
    "general_passed",
    "required_rate",
    "material_batch_warnings",
)


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"


def deduction_text(d: Deduction) -> str:
    """One line of the JGJ 59 form's 扣分标准 column."""
    per = f"每{d.per}" if d.per else ""
    return f"{rules.zh_punct(d.text)}，{per}扣 {_fmt(d.points)} 分"


def subtotal(rows: list[dict[str, Any]]) -> dict[str, float] | None:
    """保证项目小计 / 一般项目小计: points available, deducted and obtained over a section's
    scored items; None for a section without points (概况)."""
    scored = [r for r in rows if r["points"] is not None]
    if not scored:
        return None
    available = sum(r["points"] for r in scored)
    obtained = sum(r["score"] or 0 for r in scored)
    return {"available": available, "deducted": available - obtained, "obtained": obtained}


def answer_text(item: Item, a: AnswerOut | None) -> str:
    """What was found, in words: a deduction, measured values, points checked and passed, a choice."""
    if a is None:
        return ""
    if a.value == "na":
        return "不适用"
    if item.answer == "deduction":
        return f"扣 {_fmt(a.deduction or 0)} 分"
    if item.answer == "measured":
        return "、".join(_fmt(v) for v in a.measured) + (f" {a.unit}" if a.unit else "")
    if item.answer == "count":
        return f"抽查 {a.checked or 0} 处，合格 {a.passed or 0} 处"
    if item.answer == "text":
        return a.text
    return {"pass": "符合", "fail": "不符合", "yes": "是", "no": "否"}.get(a.value, a.value)


async def load_inspection(service: ChecklistQueries, actor: Actor, inspection_id: UUID) -> ReportData:
    detail = await service.get(actor, inspection_id)  # NotFound unless the actor may read it
    i = detail.inspection
    if i.status == "draft":
        raise Conflict(t("reports.draft_inspection_has_no_report_yet"), field="inspection_id")
    template = catalogue.template_of(await catalogue.get_version(i.template))
    project = await project_row(i.project)
    people = await user_names([i.inspector])
    inspector = await User.select(User.organisation).where(User.id == i.inspector).first()
    answers = {a.item_code: a for a in detail.answers}
    score = detail.score or {}
    results: dict[str, Any] = score.get("items", {})
    shown = visible_items(template, {c: a.value for c, a in answers.items()})
    photos = Photos(actor)
    await photos.load(
        [*(sha for a in detail.answers for sha in a.photos), *([i.signature_sha256] if i.signature_sha256 else [])]
    )
    sections = []
    for section in template.sections:
        rows = []
        # items a condition leaves out (动火作业 when there is none) are not part of the record
        for item in (it for it in template.items if it.section == section.code and it.code in shown):
            a = answers.get(item.code)
            r = results.get(item.code, {})
            verdict = r.get("result") or (a.result if a else "")
            heading, question = rules.item_heading(item.text)
            score_of = r.get("score")
            rows.append(
                {
                    "code": item.code,
                    "text": rules.zh_punct(item.text),
                    "heading": heading,
                    "question": question,
                    "criteria": [deduction_text(d) for d in item.deductions],
                    "cls": item.cls,
                    "points": item.points if template.kind == "safety" and item.scored else None,
                    "score": score_of,
                    "deducted": item.points - score_of
                    if template.kind == "safety" and item.scored and score_of is not None
                    else None,
                    "found": rules.zh_punct(answer_text(item, a)),
                    "result": verdict,
                    "reason": rules.zh_punct(r.get("reason", "")),
                    "note": a.note if a else "",
                    "serious": bool(r.get("serious")),
                    "major_hazard": item.major_hazard,
                    # a failed item carries its photos, printed under it
                    "photos": [photos.show(sha) for sha in (a.photos if a else [])] if verdict == "fail" else [],
                }
            )
        if rows:
            sections.append({"title": section.title, "code": section.code, "rows": rows, "subtotal": subtotal(rows)})
    details = score.get("details", {})
    keep = (
        SAFETY_DETAILS if template.kind == "safety" else QUALITY_DETAILS if template.kind == "quality" else ("failed",)
    )
    orders = [
        {"kind": o.kind, "severity": o.severity, "status": o.status, "description": o.description}
        for o in detail.orders
    ]
    context = {
        "inspection": {
            "kind": template.kind,
            "template_title": template.title,
            "template_code": i.template_code,
            "template_version": i.template_version,
            "standard": template.standard,
            "revision": i.revision,
            "revision_reason": i.revision_reason,
            "supervision_point": i.supervision_point,
            "inspector": people.get(i.inspector, ""),
            # 检查时间 is when the inspector worked (the tablet's clock, corrected by the skew the
            # server measured), never when the record reached the server
            "inspected_from": i.inspected_from,
            "inspected_to": i.inspected_to,
            "device_time": i.started_at_device is not None or i.submitted_at_device is not None,
            "submitted_at": i.submitted_at,
            "gps": {"lat": i.gps_lat, "lng": i.gps_lng, "accuracy_m": i.gps_accuracy_m}
            if i.gps_lat is not None
            else None,
            "lot_size": i.lot_size,
            "note": i.note,
        },
        "place": await place_names(i.site, i.building, i.work_item),
        "sections": sections,
        "score": {
            "total": score.get("total"),
            "grade": score.get("grade", i.grade),
            "details": {k: details.get(k) for k in keep},
            "major_hazards": details.get("major_hazards", []),
        },
        "orders": orders,
        "signature": photos.show(i.signature_sha256) if i.signature_sha256 else None,
    }
    return ReportData(
        kind="inspection",
        subject_id=i.id,
        project_id=i.project,
        title=template.title or rules.kind_info("inspection").title,
        letterhead=await letterhead(project, inspector["organisation"] if inspector else None),
        context=context,
        thumbnails=photos.thumbnails(),
    )


GRADES = ("优良", "合格", "不合格")


async def inspections_part(actor: Actor, project_ids: list[UUID], start: Any, end: Any) -> dict[str, Any]:
    IN = Inspection
    rows = (
        await IN.select(
            IN.id,
            IN.project,
            IN.site,
            IN.contractor,
            IN.status,
            IN.template,
            IN.kind,
            IN.submitted_at,
            IN.total,
            IN.grade,
            IN.inspector.display_name.as_alias("inspector_name"),
        )
        .where(
            IN.project.is_in(project_ids)
            & (IN.status == "submitted")
            & IN.deleted.eq(False)
            & (IN.submitted_at >= start)
            & (IN.submitted_at < end)
        )
        .order_by(IN.submitted_at)
        .order_by(IN.id)
        if project_ids
        else []
    )
    access = {p: await project_access(actor, p) for p in {r["project"] for r in rows}}
    rows = [r for r in rows if sees(access[r["project"]], r)]
    titles: dict[UUID, str] = {}
    if rows:
        found = await ChecklistTemplate.select(ChecklistTemplate.id, ChecklistTemplate.title).where(
            ChecklistTemplate.id.is_in(list({r["template"] for r in rows}))
        )
        titles = {t["id"]: t["title"] for t in found}
    sites = await site_names({r["site"] for r in rows if r["site"]})
    grades = {g: sum(1 for r in rows if r["grade"] == g) for g in GRADES}
    return {
        "count": len(rows),
        "grades": grades,
        "items": [
            {
                "submitted_at": r["submitted_at"],
                "site": sites.get(r["site"], ""),
                "template": titles.get(r["template"], ""),
                "kind": r["kind"],
                "inspector": r["inspector_name"] or "",
                "total": r["total"],
                "grade": r["grade"],
            }
            for r in rows
        ],
    }
