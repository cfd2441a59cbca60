"""Use cases of a material batch's own record: log it (进场), correct it, add certificates, and
record the disposition of a rejected batch (退场 / 销毁 / 实体检测 / 设计核算). One transaction each;
rights checked here (see access.py). Samples and results are in service.py."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from inspection.actor import Actor
from inspection.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from inspection.evidence import links
from inspection.messages import t
from inspection.projects.access import project_access
from inspection.projects.rules import OrgKind, Role
from inspection.records import Write, new_id, retry_races, write
from inspection.samples import schemas as s
from inspection.samples.access import (
    _check_contractor,
    _check_examiner,
    _where,
    batch_access,
    batch_buckets,
    check_witness,
    require_recorder,
    require_recording_role,
)
from inspection.samples.queries import BATCH_TABLE, DISPOSITION_TABLE, B, SampleQueries
from inspection.samples.rules import (
    OPEN_STATUSES,
    BatchStatus,
    Decision,
    DispositionKind,
    Portion,
    batch_problem,
    disposition_problem,
    required_sets,
)
from inspection.samples.tables import MaterialDisposition, MaterialFiling, Sample
from inspection.samples.views import _grade_value, portions_of

# a device clock a few minutes ahead is not "in the future"
CLOCK_SLACK = timedelta(minutes=10)


@retry_races
class BatchCommands(SampleQueries):
    async def create_batch(self, actor: Actor, data: s.BatchCreate) -> s.BatchDetail:
        access = await project_access(actor, data.project_id)
        require_recording_role(access)
        rule = self.rule(data.material)
        portions = _portions_in(data.portions)
        grade = data.strength_grade or (rule.grade if rule.lot is not None else "")
        problem = batch_problem(rule, data.quantity, data.unit, data.continuous_pour, portions, grade)
        if problem:
            raise ValidationFailed(problem[1], field=problem[0])
        site_id, work_contractor = await _where(data.project_id, data.site_id, data.work_item_id)
        contractor_id = data.contractor_id or work_contractor
        if contractor_id is None and access.roles & {Role.contractor}:
            contractor_id = actor.organisation_id
        if contractor_id is None:
            raise ValidationFailed(t("samples.name_contractor_material_belongs"), field="contractor_id")
        require_recorder(actor, access, contractor_id)
        await _check_contractor(data.project_id, contractor_id)
        self._check_arrival(data.arrival_date)
        async with write(actor, self.clock) as w:
            if data.id is not None and await B.exists().where(B.id == data.id):
                raise Conflict(t("samples.material_batch_id_already_exists", id=data.id), field="id")
            values: dict[str, Any] = {
                "id": data.id or new_id(),
                "project": data.project_id,
                "site": site_id,
                "work_item": data.work_item_id,
                "contractor": contractor_id,
                "material": rule.code,
                "specification": data.specification,
                "manufacturer": data.manufacturer,
                "batch_number": data.batch_number,
                "quantity": data.quantity,
                "unit": data.unit,
                "continuous_pour": data.continuous_pour,
                "portions": _portions_json(portions),
                "strength_grade": grade,
                "arrival_date": data.arrival_date,
                "required_sets": required_sets(rule, data.quantity, data.continuous_pour, portions),
                "status": BatchStatus.awaiting_sampling.value,
                "status_reason": "no sample taken yet",
                "note": data.note,
            }
            batch = await w.insert(B, values, batch_buckets(values))
            await links.attach(
                w,
                data.certificates,
                record_table=BATCH_TABLE,
                record_id=batch["id"],
                project_id=data.project_id,
                organisation_id=contractor_id,
                purpose="certificate",
                field="certificates",
            )
        return await self.get_batch(actor, batch["id"])

    async def update_batch(self, actor: Actor, batch_id: UUID, data: s.BatchUpdate) -> s.BatchDetail:
        """Correct a batch's details (version-checked); the plan follows a corrected quantity."""
        async with write(actor, self.clock) as w:
            batch = await self._batch_for_write(w, actor, batch_id)
            _require_open(batch, "correct")
            changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
            changes.pop("version")
            planning = {"quantity", "unit", "continuous_pour", "portions", "strength_grade"} & changes.keys()
            if planning and batch["status"] != BatchStatus.awaiting_sampling.value:
                raise InvalidTransition(
                    t("samples.quantity_unit_pour_portions_grade_decide"),
                    field=sorted(planning)[0],
                    current_state=batch["status"],
                )
            rule = self.rule(batch["material"])
            quantity = changes.get("quantity", Decimal(str(batch["quantity"])))
            unit = changes.get("unit", batch["unit"])
            pour = changes.get("continuous_pour", batch["continuous_pour"])
            portions = _portions_in(changes["portions"]) if "portions" in changes else portions_of(batch["portions"])
            grade = changes.get("strength_grade", batch["strength_grade"])
            problem = batch_problem(rule, quantity, unit, pour, portions, grade)
            if problem:
                raise ValidationFailed(problem[1], field=problem[0])
            if "portions" in changes:
                changes["portions"] = _portions_json(portions)
            if "arrival_date" in changes:
                self._check_arrival(changes["arrival_date"])
            if planning:
                changes["required_sets"] = required_sets(rule, quantity, pour, portions)
            await w.update(B, batch_id, changes, batch_buckets(batch), expected_version=data.version, current=batch)
        return await self.get_batch(actor, batch_id)

    def _check_arrival(self, arrival: date) -> None:
        today = self.clock.today()
        if arrival > today + timedelta(days=1):
            raise ValidationFailed(t("samples.arrival_date_future"), field="arrival_date")

    async def add_certificates(self, actor: Actor, batch_id: UUID, data: s.CertificatesBody) -> s.BatchDetail:
        async with write(actor, self.clock) as w:
            batch = await self._batch_for_write(w, actor, batch_id)
            await links.attach(
                w,
                data.certificates,
                record_table=BATCH_TABLE,
                record_id=batch_id,
                project_id=batch["project"],
                organisation_id=batch["contractor"],
                purpose="certificate",
                field="certificates",
            )
        return await self.get_batch(actor, batch_id)

    async def _batch_for_write(self, w: Write, actor: Actor, batch_id: UUID) -> dict[str, Any]:
        """Re-read the batch inside the write transaction (which holds the change counter's lock,
        so writers queue) and check the actor may record on it."""
        batch = await B.select().where(B.id == batch_id).first()
        access = await batch_access(actor, batch, batch_id)
        assert batch is not None
        require_recorder(actor, access, batch["contractor"])
        return batch  # type: ignore[no-any-return]

    async def _sample_for_write(self, w: Write, actor: Actor, sample_id: UUID) -> tuple[dict[str, Any], dict[str, Any]]:
        """The sample and its batch, checked like `_batch_for_write`. A sample the actor may not see
        is "not found" by its own id: naming its batch would tell another party the batch's id."""
        sample = await Sample.select().where((Sample.id == sample_id) & Sample.deleted.eq(False)).first()
        if sample is None:
            raise NotFound(t("samples.sample_does_not_exist", sample_id=sample_id))
        try:
            batch = await self._batch_for_write(w, actor, sample["batch"])
        except NotFound:
            raise NotFound(t("samples.sample_does_not_exist", sample_id=sample_id)) from None
        return sample, batch

    async def dispose(self, actor: Actor, batch_id: UUID, data: s.DispositionCreate) -> s.BatchDetail:
        """退场 / 销毁 of a rejected batch, with evidence and the person who saw it leave."""
        async with write(actor, self.clock) as w:
            batch = await self._batch_for_write(w, actor, batch_id)
            status = BatchStatus(batch["status"])
            if status is BatchStatus.disposed:
                raise Conflict(t("samples.batch_s_disposition_already_recorded"), field="batch_id")
            if status is not BatchStatus.rejected:
                raise InvalidTransition(
                    t("samples.only_rejected_batch_disposed_one", value=status.value),
                    field="status",
                    current_state=status.value,
                )
            await check_witness(batch["project"], batch["contractor"], data.witnessed_by_id, "witnessed_by_id")
            rule = self.rule(batch["material"])
            problem = disposition_problem(
                rule, data.kind, data.decision, data.method, data.estimated_strength, _grade_value(rule, batch)
            )
            if problem:
                raise ValidationFailed(problem[1], field=problem[0])
            if data.kind is DispositionKind.in_place_testing:
                await _check_examiner(data.examiner_id, OrgKind.lab, "the in-place test is made by a testing lab")
                if not data.report_number:
                    raise ValidationFailed(t("samples.give_test_report_s_number"), field="report_number")
            elif data.kind is DispositionKind.design_check:
                await _check_examiner(data.examiner_id, OrgKind.designer, "the design check is the designer's")
            elif data.examiner_id is not None:
                raise ValidationFailed(t("samples.returned_destroyed_batch_has_no_examiner"), field="examiner_id")
            quantity = data.quantity if data.quantity is not None else batch["quantity"]
            if not Decimal(quantity).is_finite() or Decimal(quantity) <= 0:
                raise ValidationFailed(t("samples.quantity_must_greater_than_zero"), field="quantity")
            if Decimal(quantity) > Decimal(str(batch["quantity"])):
                raise ValidationFailed(t("samples.more_than_batch_held"), field="quantity")
            if data.id is not None and await MaterialDisposition.exists().where(MaterialDisposition.id == data.id):
                raise Conflict(t("samples.disposition_id_already_exists", id=data.id), field="id")
            disposition = await w.insert(
                MaterialDisposition,
                {
                    "id": data.id or new_id(),
                    "batch": batch_id,
                    "project": batch["project"],
                    "contractor": batch["contractor"],
                    "kind": data.kind.value,
                    "quantity": quantity,
                    "disposed_at": _utc(data.disposed_at, "disposed_at", w.now),
                    "witnessed_by": data.witnessed_by_id,
                    "recorded_by": actor.user_id,
                    "note": data.note,
                    "decision": data.decision.value if data.decision else "",
                    "method": data.method.value if data.method else "",
                    "examiner": data.examiner_id,
                    "report_number": data.report_number,
                    "estimated_strength": data.estimated_strength,
                },
                batch_buckets(batch),
            )
            await links.attach(
                w,
                data.evidence,
                record_table=DISPOSITION_TABLE,
                record_id=disposition["id"],
                project_id=batch["project"],
                organisation_id=batch["contractor"],
                purpose="disposition",
                field="evidence",
            )
            status, reason = _after_disposition(data)
            await w.update(
                B,
                batch_id,
                {"status": status.value, "status_reason": reason},
                batch_buckets(batch),
                current=batch,
                action="transition",
            )
            filing = await MaterialFiling.select().where(MaterialFiling.batch == batch_id).first()
            if filing is not None:
                await w.update(
                    MaterialFiling,
                    filing["id"],
                    {"status": "disposed", "disposition": disposition["id"], "closed_at": w.now},
                    batch_buckets(batch),
                    current=filing,
                )
        return await self.get_batch(actor, batch_id)


def _utc(value: datetime | None, field: str, now: datetime) -> datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        raise ValidationFailed(t("samples.give_time_time_zone_offset_2026"), field=field)
    if value > now + CLOCK_SLACK:
        raise ValidationFailed(t("samples.time_future"), field=field)
    return value.astimezone(UTC)


def _portions_in(data: list[s.PortionIn]) -> list[Portion]:
    return [Portion(p.floor, p.shift, p.volume, p.mixer_batches) for p in data]


def _portions_json(portions: list[Portion]) -> str:
    return json.dumps(
        [
            {"floor": p.floor, "shift": p.shift, "volume": str(p.volume), "mixer_batches": p.mixer_batches}
            for p in portions
        ],
        ensure_ascii=False,
    )


def _after_disposition(data: s.DispositionCreate) -> tuple[BatchStatus, str]:
    """Where a rejected batch stands once its disposition is recorded: gone from the site
    (returned, destroyed, demolished), or in the structure and accepted as built or strengthened."""
    if data.kind in (DispositionKind.returned, DispositionKind.destroyed):
        return BatchStatus.disposed, f"{data.kind.value} under witness"
    how = "实体检测" if data.kind is DispositionKind.in_place_testing else "原设计单位核算"
    if data.decision is Decision.demolished:
        return BatchStatus.disposed, f"{how}后拆除"
    if data.decision is Decision.strengthened:
        return BatchStatus.treated, f"{how}后返修加固，按技术处理方案验收"
    return BatchStatus.treated, f"{how}满足要求，予以验收"


def _require_open(batch: dict[str, Any], what: str) -> None:
    status = BatchStatus(batch["status"])
    if status not in OPEN_STATUSES:
        raise InvalidTransition(
            t("samples.cannot_batch", what=what, value=status.value), field="status", current_state=status.value
        )
