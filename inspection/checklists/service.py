"""Use cases for inspections: create a draft, answer, submit, revise, and the queries around them.
One transaction each; rights checked here (see `access` below).

Who may do what:
- Inspectors, supervisors, owners and the authority of a project (the roles that may issue orders)
  start inspections; only the inspector who started a draft answers and submits it. Another
  member touching it gets 403; a non-member 404.
- Every member of the project reads its inspections, drafts included, except that a user who is
  only a contractor there reads only SUBMITTED inspections of its own organisation's work items
  (the record an order cites must be readable by the contractor who answers it). Drafts are the
  inspector's working notes and stay with the project's own side.
- A submitted inspection never changes. A correction is a new revision (a new draft copying the
  answers, with the reason); submitting the revision marks the old one superseded.

Scheduled inspections (巡检计划, the alerts domain's occurrences): an inspection may name, when it is
started, the occurrence it carries out (`occurrence_id`: same project, same site, not yet
fulfilled). One that names none takes, on submission, the oldest occurrence still due on its site
whose schedule's kind is the template's kind or code and which no other draft has named. Either
way the submit transaction fulfils it, so the missed-inspection job no longer alerts for it. An
occurrence fulfilled meanwhile by someone else does not stop the submission: it is reported in
the inspection's warnings instead.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.alerts import schedules
from inspection.checklists import catalogue, scoring, supervision
from inspection.checklists import schemas as s
from inspection.checklists.tables import ChecklistTemplate, Inspection, InspectionAnswer
from inspection.checklists.templates import Item, Template, canonical_unit, visible_items
from inspection.clock import Clock
from inspection.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from inspection.evidence import links
from inspection.messages import Message, t
from inspection.projects.access import ProjectAccess, project_access, visible_project_ids
from inspection.projects.tables import Building, Site, WorkItem
from inspection.records import Write, contractor_bucket, locked_row, new_id, project_bucket, retry_races, write
from inspection.rectification.rules import ISSUING_ROLES, OrderState
from inspection.rectification.tables import RectificationOrder
from inspection.settings import Settings
from inspection.submission import Finding, SubmitHandler, Submitted

INSPECTION_TABLE = Inspection._meta.tablename
ANSWER_TABLE = InspectionAnswer._meta.tablename
OPEN_ORDER_STATES = [OrderState.draft.value, OrderState.issued.value, OrderState.responded.value, "rejected"]
ANSWER_NAMESPACE = UUID("6f1d2c1e-8a53-4b7e-9a53-1c0c4e7b2d10")

IN = Inspection
IA = InspectionAnswer


def answer_id(inspection_id: UUID, item_code: str) -> UUID:
    """The id of an item's answer in an inspection: the same on every tablet and on the server,
    so answering offline needs no round trip and two devices converge on one row."""
    return uuid.uuid5(ANSWER_NAMESPACE, f"{inspection_id}:{item_code}")


def inspection_buckets(row: dict[str, Any]) -> list[str]:
    """Drafts stay with the project's side; from submission on, the work item's contractor too."""
    buckets = [project_bucket(row["project"])]
    if row["status"] != "draft" and row.get("contractor"):
        buckets.append(contractor_bucket(row["project"], row["contractor"]))
    return buckets


def sees(access: ProjectAccess, row: dict[str, Any]) -> bool:
    if not access.contractor_only:
        return True
    return row["status"] != "draft" and row["contractor"] is not None and row["contractor"] == access.organisation_id


async def inspection_access(actor: Actor, row: dict[str, Any] | None, inspection_id: UUID) -> ProjectAccess:
    if row is None or row["deleted"]:
        raise NotFound(t("checklists.inspection_does_not_exist", inspection_id=inspection_id))
    try:
        access = await project_access(actor, row["project"])
    except NotFound:
        raise NotFound(t("checklists.inspection_does_not_exist", inspection_id=inspection_id)) from None
    if not sees(access, row):
        raise NotFound(t("checklists.inspection_does_not_exist", inspection_id=inspection_id))
    return access


async def may_read_inspection(actor: Actor, inspection_id: UUID) -> bool:
    row = await IN.select().where(IN.id == inspection_id).first()
    try:
        await inspection_access(actor, row, inspection_id)
    except NotFound:
        return False
    return True


async def may_read_answer(actor: Actor, answer_row_id: UUID) -> bool:
    row = await IA.select(IA.inspection).where(IA.id == answer_row_id).first()
    return row is not None and await may_read_inspection(actor, row["inspection"])


links.register_reader(INSPECTION_TABLE, may_read_inspection)
links.register_reader(ANSWER_TABLE, may_read_answer)


async def material_batch_warnings(inspection: dict[str, Any], template: Template) -> list[str]:
    """ "A quality lot using a material batch not yet accepted warns on submit and cannot pass":
    one warning per batch named in the inspection's `material_batch_ids` that the samples domain
    has not accepted (still being sampled, rejected, disposed, or unknown). Runs inside the submit
    transaction; any warning turns a passing lot into 不合格."""
    from uuid import UUID

    from inspection.samples.guards import batches_not_accepted

    raw = inspection.get("material_batch_ids") or []
    if isinstance(raw, str):
        import json

        raw = json.loads(raw or "[]")
    ids = [UUID(str(i)) for i in raw]
    warnings = []
    for batch in await batches_not_accepted(ids):
        label = batch.get("material_name") or batch.get("material") or "material"
        number = batch.get("batch_number") or batch["batch_id"]
        warnings.append(f"{label} batch {number} is {batch['status']}: {batch.get('reason') or 'not accepted'}")
    return warnings


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


def worked_times(row: dict[str, Any]) -> tuple[datetime, datetime | None]:
    """检查时间: when the inspector started and signed, by the tablet's clock corrected by the skew
    the server measured for it; the server's times where the device gave none (an API client)."""
    skew = timedelta(milliseconds=row.get("device_clock_skew_ms") or 0)
    start = row["started_at_device"] + skew if row.get("started_at_device") else row["started_at"]
    end = row["submitted_at_device"] + skew if row.get("submitted_at_device") else row.get("submitted_at")
    return start, end


def _inspection_out(row: dict[str, Any]) -> s.InspectionOut:
    skip = ("material_batch_ids", "inspected_from", "inspected_to")
    fields = {k: row[k] for k in s.InspectionOut.__struct_fields__ if k in row and k not in skip}
    start, end = worked_times(row)
    return s.InspectionOut(
        **fields,
        material_batch_ids=[UUID(x) for x in json.loads(row["material_batch_ids"] or "[]")],
        inspected_from=start,
        inspected_to=end,
    )


def _answer_out(row: dict[str, Any], photos: Sequence[links.EvidenceInfo]) -> s.AnswerOut:
    skip = ("measured", "photos", "deductions")
    fields = {k: row[k] for k in s.AnswerOut.__struct_fields__ if k in row and k not in skip}
    return s.AnswerOut(
        **fields,
        measured=json.loads(row["measured"]) if row["measured"] else [],
        deductions=[s.DeductionIn(**d) for d in json.loads(row.get("deductions") or "[]")],
        photos=[p.sha256 for p in photos],
    )


@retry_races
class ChecklistsService:
    def __init__(self, settings: Settings, clock: Clock, on_submit: Sequence[SubmitHandler] | None = None) -> None:
        self.settings = settings
        self.clock = clock
        if on_submit is None:
            # the application's list, looked up at run time: the domains it names depend on this one
            from inspection.submit_handlers import SUBMIT_HANDLERS

            on_submit = SUBMIT_HANDLERS
        self.on_submit = list(on_submit)

    # Templates

    async def list_templates(
        self, actor: Actor, kind: str | None = None, all_versions: bool = False
    ) -> list[s.TemplateOut]:
        rows = await catalogue.list_versions(kind, latest_only=not all_versions)
        return [s.TemplateOut(**r) for r in rows]

    async def get_template(self, actor: Actor, template_id: UUID) -> s.TemplateDetail:
        row = await catalogue.get_version(template_id)
        return s.TemplateDetail(
            **{k: row[k] for k in s.TemplateOut.__struct_fields__}, content=json.loads(row["content"])
        )

    # Inspections: writes

    async def _placement(self, data: s.InspectionCreate) -> tuple[UUID | None, UUID | None, UUID | None]:
        """(site, building, contractor): check the site, building and work item belong together."""
        site_id, building_id, contractor = data.site_id, data.building_id, None
        if data.work_item_id is not None:
            item = (
                await WorkItem.select().where((WorkItem.id == data.work_item_id) & WorkItem.deleted.eq(False)).first()
            )
            if item is None or item["project"] != data.project_id:
                raise ValidationFailed(t("checklists.work_item_not_part_project"), field="work_item_id")
            if site_id is not None and site_id != item["site"]:
                raise ValidationFailed(t("checklists.work_item_not_site"), field="work_item_id")
            if building_id is not None and item["building"] is not None and building_id != item["building"]:
                raise ValidationFailed(t("checklists.work_item_not_building"), field="work_item_id")
            site_id, building_id, contractor = item["site"], building_id or item["building"], item["contractor"]
        if building_id is not None:
            b = await Building.select().where((Building.id == building_id) & Building.deleted.eq(False)).first()
            if b is None or b["project"] != data.project_id:
                raise ValidationFailed(t("checklists.building_not_part_project"), field="building_id")
            if site_id is not None and site_id != b["site"]:
                raise ValidationFailed(t("checklists.building_not_site"), field="building_id")
            site_id = b["site"]
        if site_id is not None:
            site = await Site.select(Site.project).where((Site.id == site_id) & Site.deleted.eq(False)).first()
            if site is None or site["project"] != data.project_id:
                raise ValidationFailed(t("checklists.site_not_part_project"), field="site_id")
        return site_id, building_id, contractor

    async def create(self, actor: Actor, data: s.InspectionCreate) -> s.InspectionDetail:
        _aware(data.started_at_device, "started_at_device")
        access = await project_access(actor, data.project_id)
        if not access.roles & ISSUING_ROLES:
            raise Forbidden(t("checklists.only_project_s_inspectors_supervisors_owners"))
        if data.id is not None and await IN.exists().where(IN.id == data.id):
            raise Conflict(t("checklists.inspection_id_already_exists", id=data.id), field="id")
        if (data.template_id is None) == (data.template_code is None):
            raise ValidationFailed(t("checklists.give_template_id_template_code_latest"), field="template_id")
        template_row = (
            await catalogue.get_version(data.template_id)
            if data.template_id is not None
            else await catalogue.latest_version(data.template_code or "")
        )
        problem = scoring.lot_capacity_problem(catalogue.template_of(template_row), data.lot_size)
        if problem:
            raise ValidationFailed(problem, field="lot_size")
        site_id, building_id, contractor = await self._placement(data)
        if data.occurrence_id is not None:
            occurrence = await schedules.linkable_occurrence(data.occurrence_id, data.project_id, site_id)
            site_id = occurrence["site"]
        if data.supervision_point and data.work_item_id is None:
            raise ValidationFailed(t("checklists.supervision_point_belongs_work_item"), field="supervision_point")
        async with write(actor, self.clock) as w:
            if data.supervision_point:
                await supervision.check_point_template(data.work_item_id, data.supervision_point, template_row["code"])
            values = {
                "id": data.id or new_id(),
                "project": data.project_id,
                "site": site_id,
                "building": building_id,
                "work_item": data.work_item_id,
                "contractor": contractor,
                "template": template_row["id"],
                "template_code": template_row["code"],
                "template_version": template_row["version_number"],
                "kind": template_row["kind"],
                "supervision_point": data.supervision_point,
                "inspector": actor.user_id,
                "status": "draft",
                "revision": 1,
                "started_at_device": data.started_at_device,
                "started_at": w.now,
                "device_clock_skew_ms": actor.clock_skew_ms,
                "gps_lat": data.gps.lat if data.gps else None,
                "gps_lng": data.gps.lng if data.gps else None,
                "gps_accuracy_m": data.gps.accuracy_m if data.gps else None,
                "lot_size": data.lot_size,
                "material_batch_ids": json.dumps([str(b) for b in data.material_batch_ids]),
                "occurrence_id": data.occurrence_id,
                "note": data.note,
            }
            row = await w.insert(IN, values, inspection_buckets(values))
        return await self.get(actor, row["id"])

    async def _own_draft(self, actor: Actor, inspection_id: UUID, *, exclusive: bool = False) -> dict[str, Any]:
        """The actor's draft, locked to the end of the write: answers hold it shared, so a submit
        (exclusive) waits for them and scores what they wrote, and an answer arriving after a
        submit finds the inspection submitted."""
        row = await locked_row(IN, inspection_id, exclusive=exclusive)
        await inspection_access(actor, row, inspection_id)
        assert row is not None
        if row["status"] != "draft":
            raise InvalidTransition(
                t(
                    "checklists.inspection_can_no_longer_change_revise",
                    inspection_id=inspection_id,
                    status=row["status"],
                ),
                field="status",
                current_state=row["status"],
            )
        if row["inspector"] != actor.user_id:
            raise Forbidden(t("checklists.draft_belongs_another_inspector"))
        return row  # type: ignore[no-any-return]

    async def set_answers(self, actor: Actor, inspection_id: UUID, answers: Sequence[s.AnswerIn]) -> s.InspectionDetail:
        await self.store_answers(actor, inspection_id, answers)
        return await self.get(actor, inspection_id)

    async def answer_for_edit(self, actor: Actor, inspection_id: UUID, item_code: str) -> s.AnswerOut | None:
        """An item's answer as an offline edit merges against it (None: not answered yet), once
        the actor may change the draft."""
        await self._own_draft(actor, inspection_id)
        row = await IA.select().where(IA.id == answer_id(inspection_id, item_code)).first()
        if row is None:
            return None
        photos = await links.linked(ANSWER_TABLE, [row["id"]])
        return _answer_out(row, photos.get(row["id"], []))

    async def store_answers(
        self, actor: Actor, inspection_id: UUID, answers: Sequence[s.AnswerIn]
    ) -> list[dict[str, Any]]:
        """Check every answer first, then store them all in one write: nothing partial."""
        async with write(actor, self.clock) as w:
            return await self._write_answers(w, actor, inspection_id, answers)

    async def _write_answers(
        self, w: Write, actor: Actor, inspection_id: UUID, answers: Sequence[s.AnswerIn]
    ) -> list[dict[str, Any]]:
        row = await self._own_draft(actor, inspection_id)
        template = catalogue.template_of(await catalogue.get_version(row["template"]))
        checked = [check_answer(template, i, a) for i, a in enumerate(answers)]
        codes = [c.item.code for c in checked]
        if len(set(codes)) != len(codes):
            raise ValidationFailed(t("checklists.item_answered_twice_one_request"), field="answers")
        existing = {
            r["item_code"]: r
            for r in await IA.select().where((IA.inspection == inspection_id) & IA.item_code.is_in(codes))
        }
        buckets = inspection_buckets(row)
        stored = []
        for index, c in enumerate(checked):
            rid = answer_id(inspection_id, c.item.code)
            old = existing.get(c.item.code)
            if old is None:
                stored.append(
                    await w.insert(
                        IA,
                        {
                            "id": rid,
                            "inspection": inspection_id,
                            "project": row["project"],
                            "item_code": c.item.code,
                            **c.values,
                        },
                        buckets,
                    )
                )
            else:
                stored.append(await w.update(IA, rid, c.values, buckets, current=old))
            await links.attach(
                w,
                c.photos,
                record_table=ANSWER_TABLE,
                record_id=rid,
                project_id=row["project"],
                field=f"answers[{index}].photos",
            )
        return stored

    async def submit(self, actor: Actor, inspection_id: UUID, data: s.SubmitBody) -> s.InspectionDetail:
        await self.submit_record(actor, inspection_id, data)
        return await self.get(actor, inspection_id)

    async def submit_record(self, actor: Actor, inspection_id: UUID, data: s.SubmitBody) -> dict[str, Any]:
        """Score and submit the draft in one write; returns the submitted row."""
        async with write(actor, self.clock) as w:
            return await self._submit(w, actor, inspection_id, data)

    async def _submit(self, w: Write, actor: Actor, inspection_id: UUID, data: s.SubmitBody) -> dict[str, Any]:
        _aware(data.submitted_at_device, "submitted_at_device")
        row = await self._own_draft(actor, inspection_id, exclusive=True)
        template_row = await catalogue.get_version(row["template"])
        template = catalogue.template_of(template_row)
        rows = await IA.select().where((IA.inspection == inspection_id) & IA.deleted.eq(False))
        by_code = {r["item_code"]: r for r in rows}
        answers = {r["item_code"]: rule_answer(r) for r in rows}
        shown = visible_items(template, {c: a.value for c, a in answers.items()})
        # free-text remarks are optional; every other item shown needs its answer (na where it
        # does not apply), so a forgotten item is never scored as "no deduction"
        missing = [i.code for i in template.items if i.code in shown and i.code not in by_code and i.answer != "text"]
        if missing:
            raise ValidationFailed(
                t("checklists.answer_every_item_shown_before_submitting", items=", ".join(missing)),
                field="answers",
                missing=missing,
            )
        try:
            result = scoring.score(template, answers, row["lot_size"])
        except scoring.LotCapacityError as exc:  # a draft made before the check, or synced from an old tablet
            raise ValidationFailed(exc.message, field="lot_size") from None
        short = result.details.get("sample_short") or []
        if short:
            raise ValidationFailed(
                t(
                    "checklists.items_checked_fewer_points_than_table",
                    items=", ".join(short),
                    lot_size=row["lot_size"],
                    min_sample=result.details["min_sample"],
                ),
                field=f"answers.{short[0]}",
            )
        answer_photos = await links.linked(ANSWER_TABLE, [r["id"] for r in rows])
        for code in result.failed:
            if template.by_code[code].photo_on_failure and not answer_photos.get(by_code[code]["id"]):
                raise ValidationFailed(
                    t("checklists.item_failed_needs_photo", code=code), field=f"answers.{code}.photos"
                )
        if row["supervision_point"] and row["work_item"] and not any(answer_photos.values()):
            if (await supervision.point_of(row["work_item"], row["supervision_point"])).photos_required:
                raise ValidationFailed(
                    t(
                        "checklists.supervision_point_requires_photos_attach_at",
                        supervision_point=row["supervision_point"],
                    ),
                    field="answers.photos",
                )
        warnings = await material_batch_warnings(row, template) if template.kind == "quality" else []
        if warnings and result.grade == scoring.PASSED:
            result.grade = scoring.FAILED
        result.details["material_batch_warnings"] = warnings
        occurrence, schedule_warnings = await self._occurrence_to_fulfil(row, w.now)
        result.details["schedule_warnings"] = schedule_warnings
        photos = await links.linked(ANSWER_TABLE, [r["id"] for r in rows])
        findings, not_opened = self._findings(row, template, result, by_code, photos)
        if not_opened:
            result.details["orders_not_opened"] = not_opened
        links.check_sha256(data.signature_sha256, "signature_sha256")
        changes: dict[str, Any] = {
            "status": "submitted",
            "submitted_at": w.now,
            "submitted_at_device": data.submitted_at_device,
            "signature_sha256": data.signature_sha256,
            "score": json.dumps(result.as_json(), ensure_ascii=False),
            "total": result.total,
            "grade": result.grade,
        }
        if data.gps is not None:
            changes |= {"gps_lat": data.gps.lat, "gps_lng": data.gps.lng, "gps_accuracy_m": data.gps.accuracy_m}
        if actor.clock_skew_ms is not None:
            # the latest measurement of this tablet's clock corrects both its times
            changes["device_clock_skew_ms"] = actor.clock_skew_ms
        if occurrence is not None:
            changes["occurrence_id"] = occurrence
        submitted = await w.update(
            IN, inspection_id, changes, inspection_buckets({**row, **changes}), current=row, action="submit"
        )
        await links.attach(
            w,
            [data.signature_sha256],
            record_table=INSPECTION_TABLE,
            record_id=inspection_id,
            project_id=row["project"],
            purpose="signature",
            field="signature_sha256",
        )
        buckets = inspection_buckets(submitted)
        for r in rows:
            item_result = result.items.get(r["item_code"])
            verdict = item_result.result if item_result else "info"
            await w.update(
                IA,
                r["id"],
                {"result": verdict, "serious": bool(item_result and item_result.serious)},
                buckets,
                current=r,
            )
        if row["previous_revision"] is not None:
            old = await IN.select().where(IN.id == row["previous_revision"]).first()
            if old is not None and old["status"] == "submitted":
                await w.update(
                    IN, old["id"], {"status": "superseded"}, inspection_buckets(old), current=old, action="supersede"
                )
        # what submitting sets off in other domains (orders, the supervision point, the scheduled
        # occurrence): inspection/submit_handlers.py, in this transaction
        event = Submitted(
            inspection=submitted,
            kind=template.kind,
            findings=findings,
            occurrence=occurrence,
            replaces=row["previous_revision"],
        )
        for handler in self.on_submit:
            await handler(w, actor, event)
        return submitted

    async def _occurrence_to_fulfil(self, row: dict[str, Any], now: datetime) -> tuple[UUID | None, list[str]]:
        """The scheduled occurrence submitting `row` fulfils (see the module docstring), and the
        warnings when the one it names can no longer be fulfilled by it."""
        if row["occurrence_id"] is not None:
            found = await schedules.IO.select().where(schedules.IO.id == row["occurrence_id"]).first()
            if found is None or found["deleted"]:
                return None, ["the scheduled inspection this one was started for no longer exists"]
            done_by = found["inspection_id"]
            if found["status"] == "fulfilled" and done_by not in (row["id"], row["previous_revision"]):
                return None, [
                    f"the scheduled inspection due on {found['due_on'].isoformat()} was already done "
                    f"by inspection {done_by}"
                ]
            return row["occurrence_id"], []  # type: ignore[no-any-return]
        if row["site"] is None:
            return None, []
        today = self.clock.today()
        candidates = await schedules.open_occurrences(
            row["project"], row["site"], [row["kind"], row["template_code"]], today
        )
        if not candidates:
            return None, []
        named = await IN.select(IN.occurrence_id).where(
            IN.occurrence_id.is_in([c["id"] for c in candidates])
            & (IN.id != row["id"])
            & (IN.status == "draft")
            & IN.deleted.eq(False)
        )
        taken = {n["occurrence_id"] for n in named}
        free = [c["id"] for c in candidates if c["id"] not in taken]
        return (free[0] if free else None), []

    @staticmethod
    def _findings(
        row: dict[str, Any],
        template: Template,
        result: scoring.Score,
        answers: dict[str, dict[str, Any]],
        photos: dict[UUID, list[links.EvidenceInfo]],
    ) -> tuple[list[Finding], list[str]]:
        """Failures become work: every failed item that asks for an order and every flagged item
        is a finding (the rectification handler opens a draft order for each; a major-hazard
        failure proposes a stop-work order too). Without a contractor (no work item) no order can
        be addressed: those items are returned second, for the score's `orders_not_opened`."""
        findings: list[Finding] = []
        skipped: list[str] = []
        for code, ans in answers.items():
            item = template.by_code.get(code)
            if item is None:
                continue
            item_result = result.items.get(code)
            failed = item_result is not None and item_result.result == "fail"
            if not ((failed and item.requires_order) or ans["flagged"]):
                continue
            if row["contractor"] is None:
                skipped.append(code)
                continue
            reason = (
                item_result.reason if item_result and item_result.reason else ("检查不合格" if failed else "检查员标记")
            )
            description = f"{template.title} {code} {item.text}:{reason}"
            if ans["note"]:
                description += f"。{ans['note']}"
            findings.append(
                Finding(
                    code=code,
                    answer_id=ans["id"],
                    description=description,
                    photos=[p.sha256 for p in photos.get(ans["id"], [])],
                    major_hazard=item.major_hazard if failed and item.major_hazard else None,
                )
            )
        return findings, skipped

    async def revise(self, actor: Actor, inspection_id: UUID, data: s.ReviseBody) -> s.InspectionDetail:
        async with write(actor, self.clock) as w:
            row = await IN.select().where(IN.id == inspection_id).first()
            access = await inspection_access(actor, row, inspection_id)
            assert row is not None
            if not access.has(*ISSUING_ROLES):
                raise Forbidden(t("checklists.only_project_s_inspectors_supervisors_owners_2"))
            if row["status"] != "submitted":
                raise InvalidTransition(
                    t("checklists.only_submitted_inspection_can_revised_one", status=row["status"]),
                    field="status",
                    current_state=row["status"],
                )
            if await IN.exists().where(
                (IN.previous_revision == inspection_id) & (IN.status == "draft") & IN.deleted.eq(False)
            ):
                raise Conflict(t("checklists.revision_inspection_already_being_drafted"), field="id")
            if data.id is not None and await IN.exists().where(IN.id == data.id):
                raise Conflict(t("checklists.inspection_id_already_exists", id=data.id), field="id")
            skip = {"id", "version", "updated_at", "deleted", "created_by", "device_id"}
            copy = {k: v for k, v in row.items() if k not in skip}
            copy |= {
                "id": data.id or new_id(),
                "inspector": actor.user_id,
                "status": "draft",
                "revision": row["revision"] + 1,
                "previous_revision": inspection_id,
                "revision_reason": data.reason,
                "started_at": w.now,
                "submitted_at": None,
                "submitted_at_device": None,
                "started_at_device": None,
                "device_clock_skew_ms": actor.clock_skew_ms,
                "signature_sha256": "",
                "score": "",
                "total": None,
                "grade": "",
            }
            new = await w.insert(IN, copy, inspection_buckets(copy))
            old_answers = await IA.select().where((IA.inspection == inspection_id) & IA.deleted.eq(False))
            photos = await links.linked(ANSWER_TABLE, [a["id"] for a in old_answers])
            for a in old_answers:
                rid = answer_id(new["id"], a["item_code"])
                values = {k: v for k, v in a.items() if k not in skip | {"inspection", "result", "serious"}}
                await w.insert(IA, {**values, "id": rid, "inspection": new["id"]}, inspection_buckets(new))
                await links.attach(
                    w,
                    [p.sha256 for p in photos.get(a["id"], [])],
                    record_table=ANSWER_TABLE,
                    record_id=rid,
                    project_id=row["project"],
                )
        return await self.get(actor, new["id"])

    # Inspections: reads

    async def get(self, actor: Actor, inspection_id: UUID) -> s.InspectionDetail:
        row = await IN.select().where(IN.id == inspection_id).first()
        await inspection_access(actor, row, inspection_id)
        assert row is not None
        answers = (
            await IA.select().where((IA.inspection == inspection_id) & IA.deleted.eq(False)).order_by(IA.item_code)
        )
        photos = await links.linked(ANSWER_TABLE, [a["id"] for a in answers])
        orders = []
        if answers:
            found = await RectificationOrder.select(
                RectificationOrder.id,
                RectificationOrder.kind,
                RectificationOrder.severity,
                RectificationOrder.status,
                RectificationOrder.source_id,
                RectificationOrder.description,
                RectificationOrder.contractor,
            ).where(
                (RectificationOrder.source_table == ANSWER_TABLE)
                & RectificationOrder.source_id.is_in([a["id"] for a in answers])
                & RectificationOrder.deleted.eq(False)
            )
            access = await project_access(actor, row["project"])
            orders = [
                s.OrderRef(**{k: o[k] for k in s.OrderRef.__struct_fields__})
                for o in found
                if not access.contractor_only or (o["contractor"] == access.organisation_id and o["status"] != "draft")
            ]
        score = json.loads(row["score"]) if row["score"] else None
        details = (score or {}).get("details", {})
        warnings = details.get("material_batch_warnings", []) + details.get("schedule_warnings", [])
        return s.InspectionDetail(
            inspection=_inspection_out(row),
            answers=[_answer_out(a, photos.get(a["id"], [])) for a in answers],
            score=score,
            orders=orders,
            warnings=warnings,
        )

    async def _with_open_orders(self, project_ids: list[UUID] | None) -> set[UUID]:
        query = RectificationOrder.select(RectificationOrder.source_id).where(
            (RectificationOrder.source_table == ANSWER_TABLE)
            & RectificationOrder.status.is_in(OPEN_ORDER_STATES)
            & RectificationOrder.deleted.eq(False)
        )
        if project_ids is not None:
            query = query.where(RectificationOrder.project.is_in(project_ids or [UUID(int=0)]))
        answer_ids = [r["source_id"] for r in await query]
        if not answer_ids:
            return set()
        rows = await IA.select(IA.inspection).where(IA.id.is_in(answer_ids))
        return {r["inspection"] for r in rows}

    async def _visible(self, actor: Actor, project_id: UUID | None) -> Any | None:
        """A where-clause limiting inspections to what `actor` may read (see the module
        docstring); None when nothing is visible."""
        projects = [project_id] if project_id is not None else await visible_project_ids(actor)
        if projects is None:  # an administrator without a project filter
            return IN.project.is_not_null()
        full: list[UUID] = []
        own: list[UUID] = []
        for p in projects:
            access = await project_access(actor, p)
            (own if access.contractor_only else full).append(p)
        clause: Any = IN.project.is_in(full) if full else None
        if own and actor.organisation_id is not None:
            mine = IN.project.is_in(own) & (IN.contractor == actor.organisation_id) & (IN.status != "draft")
            clause = mine if clause is None else (clause | mine)
        return clause

    async def list(
        self,
        actor: Actor,
        *,
        project_id: UUID | None = None,
        site_id: UUID | None = None,
        work_item_id: UUID | None = None,
        inspector_id: UUID | None = None,
        status: str | None = None,
        kind: str | None = None,
        template_code: str | None = None,
        grade: str | None = None,
        submitted_from: datetime | None = None,
        submitted_to: datetime | None = None,
        has_open_orders: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> s.InspectionPage:
        _aware(submitted_from, "submitted_from")
        _aware(submitted_to, "submitted_to")
        visible = await self._visible(actor, project_id)
        if visible is None:
            return s.InspectionPage(items=[], total=0, limit=limit, offset=offset)
        clause: Any = IN.deleted.eq(False) & visible
        for column, value in (
            (IN.site, site_id),
            (IN.work_item, work_item_id),
            (IN.inspector, inspector_id),
            (IN.status, status),
            (IN.kind, kind),
            (IN.template_code, template_code),
            (IN.grade, grade),
        ):
            if value is not None:
                clause = clause & (column == value)
        if submitted_from is not None:
            clause = clause & (IN.submitted_at >= submitted_from.astimezone(UTC))
        if submitted_to is not None:
            clause = clause & (IN.submitted_at < submitted_to.astimezone(UTC))
        if has_open_orders is not None:
            with_orders = await self._with_open_orders([project_id] if project_id else None)
            ids_list = list(with_orders) or [UUID(int=0)]
            clause = clause & (IN.id.is_in(ids_list) if has_open_orders else IN.id.not_in(ids_list))
        total = await IN.count().where(clause)
        rows = await IN.select().where(clause).order_by(IN.started_at, ascending=False).limit(limit).offset(offset)
        return s.InspectionPage(items=[_inspection_out(r) for r in rows], total=total, limit=limit, offset=offset)

    async def project_summary(self, actor: Actor, project_id: UUID) -> s.ProjectSummary:
        """Counts by status, grade and kind; the score trend; failures by hazard tag; and each
        site's JGJ 59 summary from the latest submitted inspection of every sub-table there."""
        access = await project_access(actor, project_id)
        if access.contractor_only:
            raise Forbidden(t("checklists.project_summary_project_s_own_side"))
        rows = await IN.select(
            IN.id,
            IN.site,
            IN.status,
            IN.grade,
            IN.kind,
            IN.template,
            IN.template_code,
            IN.submitted_at,
            IN.total,
            IN.score,
        ).where((IN.project == project_id) & IN.deleted.eq(False))
        submitted = sorted((r for r in rows if r["status"] == "submitted"), key=lambda r: r["submitted_at"])
        failures: Counter[str] = Counter()
        majors = 0
        templates: dict[UUID, Template] = {}
        for r in submitted:
            if r["template"] not in templates:
                templates[r["template"]] = catalogue.template_of(await catalogue.get_version(r["template"]))
            template = templates[r["template"]]
            score = json.loads(r["score"]) if r["score"] else {"items": {}}
            for code, item_result in score["items"].items():
                if item_result["result"] == "fail" and code in template.by_code:
                    item = template.by_code[code]
                    failures.update(item.hazard_tags or ("(未分类)",))
                    majors += bool(item.major_hazard)
        latest: dict[tuple[UUID, str], dict[str, Any]] = {}
        for r in submitted:
            if r["kind"] == "safety" and r["site"] is not None and r["total"] is not None:
                latest[(r["site"], r["template_code"])] = r
        per_site: dict[UUID, list[scoring.SubtableScore]] = {}
        for (site, code), r in latest.items():
            group = templates[r["template"]].scoring.get("group", "")
            per_site.setdefault(site, []).append(scoring.SubtableScore(group, code, r["total"]))
        site_safety = []
        for site, subtables in per_site.items():
            summary = scoring.jgj59_summary(subtables)
            site_safety.append(s.SiteSafety(site=site, total=summary.total, grade=summary.grade, lines=summary.lines))
        return s.ProjectSummary(
            project=project_id,
            by_status=dict(Counter(r["status"] for r in rows)),
            by_grade=dict(Counter(r["grade"] for r in submitted if r["grade"])),
            by_kind=dict(Counter(r["kind"] for r in rows)),
            trend=[
                s.TrendPoint(
                    inspection=r["id"],
                    template_code=r["template_code"],
                    submitted_at=r["submitted_at"],
                    total=r["total"],
                    grade=r["grade"],
                )
                for r in submitted
            ],
            failures_by_hazard=dict(failures.most_common()),
            major_hazard_failures=majors,
            site_safety=site_safety,
        )


__all__ = ["ChecklistTemplate", "ChecklistsService", "answer_id", "material_batch_warnings"]
