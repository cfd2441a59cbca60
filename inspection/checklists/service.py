"""Use cases for inspections: create a draft, answer, submit, revise. One transaction each; rights
checked here (access.py); answers checked in answers.py; the reads are in queries.py.

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
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.alerts import schedules
from inspection.checklists import catalogue, scoring, supervision
from inspection.checklists import schemas as s
from inspection.checklists.access import ANSWER_TABLE, IA, IN, INSPECTION_TABLE, inspection_access, inspection_buckets
from inspection.checklists.answers import _aware, answer_id, check_answer, rule_answer
from inspection.checklists.queries import ChecklistQueries, _answer_out, material_batch_warnings
from inspection.checklists.tables import ChecklistTemplate
from inspection.checklists.templates import Template, visible_items
from inspection.clock import Clock
from inspection.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed
from inspection.evidence import links
from inspection.messages import t
from inspection.projects.access import project_access
from inspection.records import Write, locked_row, new_id, retry_races, write
from inspection.rectification.rules import ISSUING_ROLES
from inspection.settings import Settings
from inspection.submission import Finding, SubmitHandler, Submitted


@retry_races
class ChecklistsService(ChecklistQueries):
    def __init__(self, settings: Settings, clock: Clock, on_submit: Sequence[SubmitHandler] | None = None) -> None:
        super().__init__(settings, clock)
        if on_submit is None:
            # the application's list, looked up at run time: the domains it names depend on this one
            from inspection.submit_handlers import SUBMIT_HANDLERS

            on_submit = SUBMIT_HANDLERS
        self.on_submit = list(on_submit)

    # Inspections: writes

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
        photos = await links.linked(ANSWER_TABLE, [r["id"] for r in rows])
        for code in result.failed:
            if template.by_code[code].photo_on_failure and not photos.get(by_code[code]["id"]):
                raise ValidationFailed(
                    t("checklists.item_failed_needs_photo", code=code), field=f"answers.{code}.photos"
                )
        if row["supervision_point"] and row["work_item"] and not any(photos.values()):
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
        if row["supervision_point"] and row["work_item"]:
            await supervision.record_inspection(w, submitted, result.grade)
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


__all__ = ["ChecklistTemplate", "ChecklistsService", "answer_id", "material_batch_warnings"]
