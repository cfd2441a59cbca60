"""Use cases for material sampling: log a batch (进场), take samples (witnessed or not), record lab
results, take a double retest, record a rejected batch's disposition, and the plan, witness-share
and ledger views. One transaction each; rights checked here (see access.py).

The verdict of a sample and the status of a batch are never written by a caller: after every
sample or result the service recomputes them from the results and rules.toml (rules.py). When a
batch turns rejected, the same transaction opens a rectification order against its contractor
(issued when the acting user may issue orders, else a draft for the supervisor to issue), files a
record for the quality station (material_filing) and notifies the station; the batch stays flagged
until its disposition is recorded.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from inspection.actor import SYSTEM, Actor
from inspection.clock import Clock
from inspection.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from inspection.evidence import links
from inspection.messages import t
from inspection.notifications import outbox
from inspection.notifications.kinds import Kind
from inspection.notifications.outbox import Event, notify, portal_link
from inspection.notifications.recipients import contractor_managers, people
from inspection.projects.access import project_access
from inspection.projects.names import place_names
from inspection.projects.rules import WORK_PARTY_KINDS, OrgKind, Role
from inspection.projects.tables import Membership, Organisation, Site, WorkItem
from inspection.records import Write, new_id, retry_races, write
from inspection.rectification.rules import ISSUING_ROLES, OrderKind, Severity, Source
from inspection.rectification.service import OrderSpec, open_order
from inspection.samples import ledger
from inspection.samples import schemas as s
from inspection.samples.access import (
    batch_access,
    batch_buckets,
    check_lab,
    check_member,
    check_witness,
    may_read_batch,
    may_read_disposition,
    may_read_sample,
    project_batches_where,
    require_recorder,
    require_recording_role,
    visible_batches_where,
)
from inspection.samples.queries import result_facts, test_item_codes
from inspection.samples.rulebook import default_rulebook
from inspection.samples.rules import (
    CONFORM_UNIT,
    OPEN_STATUSES,
    BatchStatus,
    Decision,
    DispositionKind,
    LotVerdict,
    MaterialRule,
    Portion,
    ResultFact,
    RuleBook,
    SampleFacts,
    Verdict,
    batch_outcome,
    batch_problem,
    disposition_problem,
    evaluate_lot,
    failed_items,
    is_large_continuous,
    plan_summary,
    portion_sets,
    required_sets,
    retest_need,
    sample_verdict,
    set_minimum,
    specimen_counts,
    witness_check,
)
from inspection.samples.tables import MaterialBatch, MaterialDisposition, MaterialFiling, Sample, SampleResult
from inspection.settings import Settings

BATCH_TABLE = MaterialBatch._meta.tablename
SAMPLE_TABLE = Sample._meta.tablename
DISPOSITION_TABLE = MaterialDisposition._meta.tablename
FILING_TABLE = MaterialFiling._meta.tablename

B = MaterialBatch
# a device clock a few minutes ahead is not "in the future"
CLOCK_SLACK = timedelta(minutes=10)


def _utc(value: datetime | None, field: str, now: datetime) -> datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        raise ValidationFailed(t("samples.give_time_time_zone_offset_2026"), field=field)
    if value > now + CLOCK_SLACK:
        raise ValidationFailed(t("samples.time_future"), field=field)
    return value.astimezone(UTC)


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


def _grade_value(rule: MaterialRule, batch: dict[str, Any]) -> Decimal | None:
    if rule.lot is None:
        return None
    return rule.lot.grade_value(batch["strength_grade"] or rule.grade)


@retry_races
class SamplesService:
    def __init__(self, settings: Settings, clock: Clock, book: RuleBook | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.book = book or default_rulebook()

    def rule(self, material: str, field: str = "material") -> MaterialRule:
        rule = self.book.material(material)
        if rule is None:
            raise ValidationFailed(
                t("samples.unknown_material_known", material=material, items=", ".join(self.book.materials)),
                field=field,
            )
        return rule

    # Batches

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

    # Samples

    async def take_sample(self, actor: Actor, batch_id: UUID, data: s.SampleCreate) -> s.SampleDetail:
        async with write(actor, self.clock) as w:
            batch = await self._batch_for_write(w, actor, batch_id)
            _require_open(batch, "take a sample from")
            rule = self.rule(batch["material"])
            sample = await self._insert_sample(
                w,
                batch,
                data,
                sets=data.sets,
                items=list(rule.item_codes),
                retest_of=None,
            )
            await self._settle(w, actor, batch)
        return await self.get_sample(actor, sample["id"])

    async def take_retest(self, actor: Actor, sample_id: UUID, data: s.RetestCreate) -> s.SampleDetail:
        """复验: twice as many sets as the failed sample, on the failed items only."""
        async with write(actor, self.clock) as w:
            original, batch = await self._sample_for_write(w, actor, sample_id)
            if original["is_retest"]:
                raise InvalidTransition(t("samples.retest_not_retested_again_failed_retest"), field="sample_id")
            verdict = Verdict(original["verdict"])
            if verdict is Verdict.passed:
                raise InvalidTransition(t("samples.sample_passed_only_failed_sample_retested"), field="sample_id")
            if verdict is Verdict.pending:
                raise InvalidTransition(t("samples.sample_s_results_not_all_yet"), field="sample_id")
            _require_open(batch, "retest")
            rule = self.rule(batch["material"])
            results = await result_facts([sample_id])
            need = retest_need(
                rule, failed_items(test_item_codes(original["test_items"]), results[sample_id]), original["sets"]
            )
            if not need.allowed:
                raise InvalidTransition(
                    t("samples.may_not_retested_batch_rejected", items=", ".join(need.never_retested)),
                    field="sample_id",
                )
            if await Sample.exists().where((Sample.retest_of == sample_id) & Sample.deleted.eq(False)):
                raise Conflict(t("samples.sample_already_has_retest"), field="sample_id")
            sets = data.sets if data.sets is not None else need.sets
            if sets < need.sets:
                raise ValidationFailed(
                    t("samples.retest_takes_at_least_set_s", sets=need.sets, retest_factor=rule.retest_factor),
                    field="sets",
                )
            sample = await self._insert_sample(w, batch, data, sets=sets, items=list(need.items), retest_of=sample_id)
            await self._settle(w, actor, batch)
        return await self.get_sample(actor, sample["id"])

    async def _insert_sample(
        self,
        w: Write,
        batch: dict[str, Any],
        data: s.SampleCreate | s.RetestCreate,
        *,
        sets: int,
        items: list[str],
        retest_of: UUID | None,
    ) -> dict[str, Any]:
        project_id = batch["project"]
        taken_at = _utc(data.taken_at, "taken_at", w.now)
        await check_lab(data.lab_id)
        if data.witness_id is not None:
            await check_witness(project_id, batch["contractor"], data.witness_id, "witness_id")
        taken_by = data.taken_by_id or w.actor.user_id
        if data.taken_by_id is not None:
            await check_member(project_id, data.taken_by_id, "taken_by_id")
        if data.id is not None and await Sample.exists().where(Sample.id == data.id):
            raise Conflict(t("samples.sample_id_already_exists", id=data.id), field="id")
        sample_id = data.id or new_id()
        label = data.label_code or _label(sample_id, taken_at, retest_of is not None)
        if await Sample.exists().where((Sample.project == project_id) & (Sample.label_code == label)):
            raise Conflict(t("samples.label_code_already_used_project", label=label), field="label_code")
        values = {
            "id": sample_id,
            "batch": batch["id"],
            "project": project_id,
            "contractor": batch["contractor"],
            "label_code": label,
            "sets": sets,
            "test_items": ",".join(items),
            "taken_at": taken_at,
            "taken_by": taken_by,
            "witness": data.witness_id,
            "lab": data.lab_id,
            "lab_report_number": data.lab_report_number,
            "is_retest": retest_of is not None,
            "retest_of": retest_of,
            "verdict": Verdict.pending.value,
            "note": data.note,
        }
        sample = await w.insert(Sample, values, batch_buckets(batch))
        await self._attach_report(w, batch, sample_id, data.report)
        return sample

    async def _attach_report(self, w: Write, batch: dict[str, Any], sample_id: UUID, report: str | None) -> None:
        if report is None:
            return
        await links.attach(
            w,
            [report],
            record_table=SAMPLE_TABLE,
            record_id=sample_id,
            project_id=batch["project"],
            organisation_id=batch["contractor"],
            purpose="lab_report",
            field="report",
        )

    # Results

    async def record_results(self, actor: Actor, sample_id: UUID, data: s.ResultsBody) -> s.SampleDetail:
        """Lab results for some or all items and sets; each (item, set) once. The verdict follows."""
        async with write(actor, self.clock) as w:
            sample, batch = await self._sample_for_write(w, actor, sample_id)
            _require_open(batch, "record results on")
            rule = self.rule(batch["material"])
            covered = test_item_codes(sample["test_items"])
            existing = await SampleResult.select(SampleResult.test_item, SampleResult.set_no).where(
                (SampleResult.sample == sample_id) & SampleResult.deleted.eq(False)
            )
            seen = {(r["test_item"], r["set_no"]) for r in existing}
            lot_minimum = await self._lot_set_minimum(batch, rule)
            rows: list[dict[str, Any]] = []
            for i, res in enumerate(data.results):
                at = f"results[{i}]"
                item = rule.item(res.test_item)
                if item is None:
                    raise ValidationFailed(
                        t(
                            "samples.has_no_test_item_has",
                            name=rule.name,
                            test_item=res.test_item,
                            items=", ".join(rule.item_codes),
                        ),
                        field=f"{at}.test_item",
                    )
                if item.code not in covered:
                    raise ValidationFailed(
                        t("samples.retest_covers_only", items=", ".join(covered)), field=f"{at}.test_item"
                    )
                if res.set_no > sample["sets"]:
                    raise ValidationFailed(t("samples.sample_has_set_s", sets=sample["sets"]), field=f"{at}.set_no")
                if res.set_no > rule.result_sets(item.code, sample["sets"]):
                    raise ValidationFailed(
                        t("samples.has_one_result_per_sample_whatever", name=item.name),
                        field=f"{at}.set_no",
                    )
                if res.unit is not None and res.unit != item.unit:
                    raise ValidationFailed(t("samples.given", name=item.name, unit=item.unit), field=f"{at}.unit")
                if not res.value.is_finite() or abs(res.value) >= Decimal(10) ** 12:
                    raise ValidationFailed(t("samples.value_not_finite_number_range"), field=f"{at}.value")
                if item.unit == CONFORM_UNIT and res.value not in (0, 1):
                    raise ValidationFailed(t("samples.give_1_conforms_0_does_not"), field=f"{at}.value")
                key = (item.code, res.set_no)
                if key in seen:
                    raise Conflict(
                        t("samples.set_already_recorded_sample", code=item.code, set_no=res.set_no),
                        field=f"{at}.test_item",
                    )
                seen.add(key)
                rows.append(
                    {
                        "sample": sample_id,
                        "project": batch["project"],
                        "test_item": item.code,
                        "set_no": res.set_no,
                        "value": res.value,
                        "unit": item.unit,
                        # a lot item's single set against the lot's minimum condition for its size
                        "passed": res.value >= lot_minimum
                        if item.by_lot and lot_minimum is not None
                        else item.passes(res.value),
                        "recorded_at": w.now,
                        "recorded_by": actor.user_id,
                    }
                )
            for row in rows:
                await w.insert(SampleResult, row, batch_buckets(batch))
            changes: dict[str, Any] = {}
            if data.lab_report_number is not None:
                changes["lab_report_number"] = data.lab_report_number
            await self._attach_report(w, batch, sample_id, data.report)
            facts = (await result_facts([sample_id]))[sample_id]
            verdict = sample_verdict(covered, sample["sets"], facts, rule.once_items)
            if verdict.value != sample["verdict"]:
                changes.update(
                    {"verdict": verdict.value, "judged_at": w.now if verdict is not Verdict.pending else None}
                )
            if changes:
                await w.update(Sample, sample_id, changes, batch_buckets(batch), current=sample)
            await self._settle(w, actor, batch)
        return await self.get_sample(actor, sample_id)

    async def _lot_values(self, rule: MaterialRule, sample_ids: list[UUID]) -> dict[UUID, tuple[Decimal, ...]]:
        """The lot item's value per set of each sample, in set order (concrete and mortar cubes)."""
        if rule.lot is None or not sample_ids:
            return {}
        rows = await SampleResult.select(SampleResult.sample, SampleResult.set_no, SampleResult.value).where(
            SampleResult.sample.is_in(sample_ids)
            & (SampleResult.test_item == rule.lot.item)
            & SampleResult.deleted.eq(False)
        )
        out: dict[UUID, list[tuple[int, Decimal]]] = {}
        for r in rows:
            out.setdefault(r["sample"], []).append((r["set_no"], Decimal(str(r["value"]))))
        return {k: tuple(v for _, v in sorted(vs)) for k, vs in out.items()}

    async def _facts(self, batch_id: UUID, rule: MaterialRule | None = None) -> list[SampleFacts]:
        samples = await Sample.select().where((Sample.batch == batch_id) & Sample.deleted.eq(False))
        results = await result_facts([x["id"] for x in samples])
        values = await self._lot_values(rule, [x["id"] for x in samples if not x["is_retest"]]) if rule else {}
        return [
            SampleFacts(
                id=x["id"],
                sets=x["sets"],
                is_retest=x["is_retest"],
                retest_of=x["retest_of"],
                verdict=Verdict(x["verdict"]),
                failed=tuple(failed_items(test_item_codes(x["test_items"]), results[x["id"]])),
                witnessed=x["witness"] is not None,
                lot_values=values.get(x["id"], ()),
            )
            for x in samples
        ]

    async def _lot_set_minimum(self, batch: dict[str, Any], rule: MaterialRule) -> Decimal | None:
        """What one set of this batch's lot must reach: by the grade and the lot's size so far (the
        required sets, or more when more were taken: 10 sets switch concrete to the statistical
        method and its own minimum condition)."""
        grade = _grade_value(rule, batch)
        if rule.lot is None or grade is None:
            return None
        taken = await Sample.select(Sample.sets).where(
            (Sample.batch == batch["id"]) & Sample.deleted.eq(False) & Sample.is_retest.eq(False)
        )
        size = max(batch["required_sets"], sum(x["sets"] for x in taken))
        return set_minimum(rule.lot, grade, size)

    async def _settle(self, w: Write, actor: Actor, batch: dict[str, Any]) -> dict[str, Any]:
        """Move the batch to the status its samples give; on rejection open the order and filing."""
        rule = self.rule(batch["material"])
        facts = await self._facts(batch["id"], rule)
        outcome = batch_outcome(rule, batch["required_sets"], facts, _grade_value(rule, batch))
        if outcome.status.value == batch["status"] and outcome.reason == batch["status_reason"]:
            return batch
        changes: dict[str, Any] = {"status": outcome.status.value, "status_reason": outcome.reason}
        if outcome.status in (BatchStatus.accepted, BatchStatus.rejected):
            changes["decided_at"] = w.now
        if outcome.status is BatchStatus.rejected:
            changes["rectification_order"] = await self._reject(
                w, actor, batch, rule, outcome.deciding_sample, outcome.lot
            )
        return await w.update(B, batch["id"], changes, batch_buckets(batch), current=batch, action="transition")

    async def _reject(
        self,
        w: Write,
        actor: Actor,
        batch: dict[str, Any],
        rule: MaterialRule,
        sample_id: UUID | None,
        lot: LotVerdict | None = None,
    ) -> UUID:
        """不合格: a rectification order to the contractor and a filing for the quality station."""
        failed: list[str] = []
        if sample_id is not None:
            sample = await Sample.select(Sample.test_items).where(Sample.id == sample_id).first()
            facts = (await result_facts([sample_id]))[sample_id]
            failed = failed_items(test_item_codes(sample["test_items"] if sample else ""), facts)
        elif lot is not None and rule.lot is not None:
            failed = [rule.lot.item]
        names = "、".join(item.name if (item := rule.item(c)) else c for c in failed)
        what = "验收批强度评定不合格" if lot is not None else "进场材料检验不合格"
        description = (
            f"{what}：{rule.name}（{batch['strength_grade'] or batch['specification'] or rule.grade}），"
            f"生产厂家 {batch['manufacturer'] or '—'}，批号 {batch['batch_number'] or '—'}，"
            f"数量 {batch['quantity']} {batch['unit']}；不合格项目：{names or '—'}。"
        )
        if lot is not None:
            description += lot.describe() + "。"
        if rule.in_structure:
            # it is already built in: returning or destroying it is not possible (GB 50204 §7.1.3,
            # GB 50300 §5.0.6)
            description += (
                "该批已浇筑（砌筑）在结构中：须委托有资质的检测机构进行实体检测（回弹法、钻芯法等），"
                "或经原设计单位核算，按结论验收、返修加固或拆除，并报送检测报告和处理记录。"
            )
        else:
            description += "该批材料不得使用，须在见证下退场或销毁，并报送处理记录。"
        access = await project_access(actor, batch["project"])
        may_issue = bool(access.roles & ISSUING_ROLES)
        spec = OrderSpec(
            project_id=batch["project"],
            kind=OrderKind.quality,
            severity=Severity.general,
            source=Source.failed_sample,
            source_table=SAMPLE_TABLE if sample_id is not None else BATCH_TABLE,
            source_id=sample_id or batch["id"],
            description=description,
            site_id=batch["site"] if batch["work_item"] is None else None,
            work_item_id=batch["work_item"],
            contractor_id=batch["contractor"],
            issue=may_issue,
        )
        # a contractor recording its own failed result opens a draft the supervisor issues
        order = await open_order(w, actor if may_issue else SYSTEM, spec)
        authority = await _authority_of(batch["project"])
        filing = await w.insert(
            MaterialFiling,
            {
                "batch": batch["id"],
                "project": batch["project"],
                "contractor": batch["contractor"],
                "authority": authority,
                "material": rule.code,
                "failed_items": ",".join(failed),
                "sample": sample_id,
                "rectification_order": order["id"],
                "filed_at": w.now,
                "status": "open",
                "description": description,
            },
            batch_buckets(batch),
        )
        if authority is not None:
            await outbox.notify_once(
                ("org", authority),
                kind="material_rejected",
                subject_table=FILING_TABLE,
                subject_id=filing["id"],
                rule="material_rejected",
                occurrence=0,
                threshold=0,
                project_id=batch["project"],
                message=description,
                at=w.now,
            )
        # the contractor who must take it away and the supervisor who witnesses that, as each chose
        await notify(
            w,
            Event(
                kind=Kind.sample_failed,
                project_id=batch["project"],
                subject_table=BATCH_TABLE,
                subject_id=batch["id"],
                text=t(
                    "notify.sample_failed",
                    place=(await place_names([batch]))[0],
                    material=rule.name,
                    items=names or "—",
                    at=w.now,
                    link=portal_link(f"/portal/orders/{order['id']}"),
                ),
                users=[
                    *await contractor_managers(batch["project"], batch["contractor"]),
                    *await people(batch["project"], [Role.supervisor]),
                ],
                actor=actor.user_id,
                fallback_org=batch["contractor"],
            ),
        )
        return order["id"]  # type: ignore[no-any-return]

    # Disposition

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

    # Queries

    async def _batch_rows(self, where: Any, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        query = (
            B.select(*B.all_columns(), B.contractor.name.as_alias("contractor_name"))
            .where(where)
            .order_by(B.arrival_date, ascending=False)
            .order_by(B.id)
        )
        if limit is not None:
            query = query.limit(limit).offset(offset)
        return await query  # type: ignore[no-any-return]

    def _batch_out(self, row: dict[str, Any], certificates: list[links.EvidenceInfo]) -> s.BatchOut:
        rule = self.book.material(row["material"])
        return s.from_row(  # type: ignore[no-any-return]
            row,
            s.BatchOut,
            portions=self._portions_out(row, rule),
            quantity=float(row["quantity"]),
            material_name=rule.name if rule else row["material"],
            flagged=row["status"] == BatchStatus.rejected.value,
            certificates=[_file(c) for c in certificates],
        )

    @staticmethod
    def _portions_out(row: dict[str, Any], rule: MaterialRule | None) -> list[s.PortionOut]:
        portions = portions_of(row.get("portions"))
        large = rule is not None and is_large_continuous(
            rule.plan, Decimal(str(row["quantity"])), row["continuous_pour"]
        )
        return [
            s.PortionOut(
                floor=p.floor,
                shift=p.shift,
                volume=float(p.volume),
                mixer_batches=p.mixer_batches,
                sets=portion_sets(rule.plan, p, large) if rule is not None and rule.plan.max_per_set else 0,
            )
            for p in portions
        ]

    async def _one_batch(self, actor: Actor, batch_id: UUID) -> dict[str, Any]:
        rows = await self._batch_rows(B.id == batch_id)
        await batch_access(actor, rows[0] if rows else None, batch_id)
        return rows[0]

    async def get_batch(self, actor: Actor, batch_id: UUID) -> s.BatchDetail:
        row = await self._one_batch(actor, batch_id)
        certificates = await links.linked(BATCH_TABLE, [batch_id])
        samples = (
            await Sample.select(*Sample.all_columns(), Sample.lab.name.as_alias("lab_name"))
            .where((Sample.batch == batch_id) & Sample.deleted.eq(False))
            .order_by(Sample.taken_at)
            .order_by(Sample.id)
        )
        disposition = await MaterialDisposition.select().where(MaterialDisposition.batch == batch_id).first()
        filing = await MaterialFiling.select().where(MaterialFiling.batch == batch_id).first()
        disposition_files = await links.linked(DISPOSITION_TABLE, [disposition["id"]]) if disposition else {}
        return s.BatchDetail(
            batch=self._batch_out(row, certificates.get(batch_id, [])),
            plan=await self._plan(row),
            samples=await self._samples_out(row, samples),
            disposition=s.from_row(
                disposition,
                s.DispositionOut,
                quantity=float(disposition["quantity"]),
                estimated_strength=float(disposition["estimated_strength"])
                if disposition["estimated_strength"] is not None
                else None,
                evidence=[_file(e) for e in disposition_files.get(disposition["id"], [])],
            )
            if disposition
            else None,
            filing=s.from_row(filing, s.FilingOut, failed_items=test_item_codes(filing["failed_items"]))
            if filing
            else None,
        )

    async def _samples_out(self, batch: dict[str, Any], samples: list[dict[str, Any]]) -> list[s.SampleOut]:
        rule = self.book.material(batch["material"])
        ids = [x["id"] for x in samples]
        reports = await links.linked(SAMPLE_TABLE, ids)
        results: list[dict[str, Any]] = (
            await SampleResult.select()
            .where(SampleResult.sample.is_in(ids) & SampleResult.deleted.eq(False))
            .order_by(SampleResult.set_no)
            .order_by(SampleResult.version)
            if ids
            else []
        )
        by_sample: dict[UUID, list[dict[str, Any]]] = {i: [] for i in ids}
        for r in results:
            by_sample[r["sample"]].append(r)
        out = []
        for x in samples:
            rows = by_sample[x["id"]]
            facts = [ResultFact(r["test_item"], r["set_no"], bool(r["passed"])) for r in rows]
            result_out = []
            for r in rows:
                item = rule.item(r["test_item"]) if rule else None
                result_out.append(
                    s.from_row(
                        r,
                        s.ResultOut,
                        value=float(r["value"]),
                        test_item_name=item.name if item else r["test_item"],
                        limits=item.limits_text() if item else "",
                    )
                )
            out.append(
                s.from_row(
                    x,
                    s.SampleOut,
                    test_items=test_item_codes(x["test_items"]),
                    witnessed=x["witness"] is not None,
                    failed_items=failed_items(test_item_codes(x["test_items"]), facts),
                    report=[_file(f) for f in reports.get(x["id"], [])],
                    results=result_out,
                )
            )
        return out

    async def _plan(self, batch: dict[str, Any]) -> s.PlanOut:
        rule = self.rule(batch["material"])
        facts = await self._facts(batch["id"], rule)
        summary = plan_summary(rule, batch["required_sets"], facts)
        return s.PlanOut(
            specimens=[
                s.SpecimenOut(code=c.code, name=c.name, count=c.count, test_items=list(c.items))
                for c in specimen_counts(rule, batch["required_sets"])
            ],
            portions=self._portions_out(batch, rule),
            lot=_lot_out(rule, batch, facts),
            batch_id=batch["id"],
            material=rule.code,
            quantity=float(batch["quantity"]),
            unit=batch["unit"],
            continuous_pour=batch["continuous_pour"],
            required=summary.required,
            taken=summary.taken,
            missing=summary.missing,
            witnessed=summary.witnessed,
            witness_required=rule.witness_required,
            retests=[
                s.RetestNeedOut(
                    failed_sample_id=sid,
                    allowed=need.allowed,
                    items=list(need.items),
                    never_retested=list(need.never_retested),
                    sets_required=need.sets,
                    sets_taken=taken,
                )
                for sid, need, taken in summary.retests
            ],
            status=BatchStatus(batch["status"]),
            status_reason=batch["status_reason"],
            plan_source=rule.plan.origin.source,
            plan_unverified=rule.plan.origin.unverified,
        )

    async def plan(self, actor: Actor, batch_id: UUID) -> s.PlanOut:
        return await self._plan(await self._one_batch(actor, batch_id))

    async def get_sample(self, actor: Actor, sample_id: UUID) -> s.SampleDetail:
        sample = await (
            Sample.select(*Sample.all_columns(), Sample.lab.name.as_alias("lab_name"))
            .where((Sample.id == sample_id) & Sample.deleted.eq(False))
            .first()
        )
        if sample is None:
            raise NotFound(t("samples.sample_does_not_exist", sample_id=sample_id))
        try:
            batch = await self._one_batch(actor, sample["batch"])
        except NotFound:
            raise NotFound(t("samples.sample_does_not_exist", sample_id=sample_id)) from None
        certificates = await links.linked(BATCH_TABLE, [batch["id"]])
        (out,) = await self._samples_out(batch, [sample])
        return s.SampleDetail(sample=out, batch=self._batch_out(batch, certificates.get(batch["id"], [])))

    async def list_batches(
        self,
        actor: Actor,
        *,
        project_id: UUID | None = None,
        material: str | None = None,
        status: BatchStatus | None = None,
        lab_id: UUID | None = None,
        contractor_id: UUID | None = None,
        arrived_from: date | None = None,
        arrived_to: date | None = None,
        flagged: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> s.BatchPage:
        """Newest arrivals first. `flagged`: rejected and not yet disposed of."""
        if not 1 <= limit <= 500:
            raise ValidationFailed(t("samples.limit_must_from_1_500"), field="limit")
        if offset < 0:
            raise ValidationFailed(t("samples.offset_must_not_negative"), field="offset")
        if arrived_from and arrived_to and arrived_from > arrived_to:
            raise ValidationFailed(t("samples.arrived_from_after_arrived"), field="arrived_from")
        where = await visible_batches_where(actor, project_id)
        if where is None:
            return s.BatchPage(items=[], total=0, limit=limit, offset=offset)
        if material is not None:
            self.rule(material)
            where &= B.material == material
        if status is not None:
            where &= B.status == status.value
        if flagged is not None:
            where &= (B.status == BatchStatus.rejected.value) if flagged else (B.status != BatchStatus.rejected.value)
        if contractor_id is not None:
            where &= B.contractor == contractor_id
        if arrived_from is not None:
            where &= B.arrival_date >= arrived_from
        if arrived_to is not None:
            where &= B.arrival_date <= arrived_to
        if lab_id is not None:
            sampled = await Sample.select(Sample.batch).where((Sample.lab == lab_id) & Sample.deleted.eq(False))
            if not sampled:
                return s.BatchPage(items=[], total=0, limit=limit, offset=offset)
            where &= B.id.is_in(list({r["batch"] for r in sampled}))
        total = await B.count().where(where)
        rows = await self._batch_rows(where, limit, offset)
        certificates = await links.linked(BATCH_TABLE, [r["id"] for r in rows])
        return s.BatchPage(
            items=[self._batch_out(r, certificates.get(r["id"], [])) for r in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    async def witness_ratio(self, actor: Actor, project_id: UUID) -> s.WitnessRatioOut:
        """Per material: sets the batches require, sets witnessed, and the shortfall against 30 %."""
        where = await project_batches_where(actor, project_id)
        batches = await B.select(B.id, B.material, B.required_sets).where(where)
        samples = (
            await Sample.select(Sample.batch, Sample.sets, Sample.witness).where(
                Sample.batch.is_in([b["id"] for b in batches]) & Sample.deleted.eq(False) & Sample.is_retest.eq(False)
            )
            if batches
            else []
        )
        taken: dict[UUID, tuple[int, int]] = {}
        for x in samples:
            t, wit = taken.get(x["batch"], (0, 0))
            taken[x["batch"]] = (t + x["sets"], wit + (x["sets"] if x["witness"] is not None else 0))
        per: dict[str, list[int]] = {}
        for b in batches:
            acc = per.setdefault(b["material"], [0, 0, 0, 0])
            t, wit = taken.get(b["id"], (0, 0))
            acc[0] += 1
            acc[1] += b["required_sets"]
            acc[2] += t
            acc[3] += wit
        rows = []
        for code, (n, required, t, wit) in sorted(per.items()):
            rule = self.book.material(code)
            witness_required = rule.witness_required if rule else True
            check = witness_check(required, wit, self.book.witness_min_share, witness_required)
            rows.append(
                s.WitnessRow(
                    material=code,
                    material_name=rule.name if rule else code,
                    witness_required=witness_required,
                    batches=n,
                    required=required,
                    taken=t,
                    witnessed=wit,
                    needed=check.needed,
                    ratio=check.ratio,
                    shortfall=check.shortfall,
                    met=check.met,
                )
            )
        return s.WitnessRatioOut(
            project_id=project_id,
            min_share=float(self.book.witness_min_share),
            materials=rows,
            shortfalls=[r.material for r in rows if not r.met],
        )

    async def summary(self, actor: Actor, project_id: UUID) -> s.SummaryOut:
        """Batches by status, those still flagged, samples without a verdict and witness shortfalls."""
        where = await project_batches_where(actor, project_id)
        rows = await B.select(B.id, B.status).where(where)
        by_status = {st.value: 0 for st in BatchStatus}
        for r in rows:
            by_status[r["status"]] = by_status.get(r["status"], 0) + 1
        open_ids = [r["id"] for r in rows if BatchStatus(r["status"]) in OPEN_STATUSES]
        pending = (
            await Sample.count().where(
                Sample.batch.is_in(open_ids) & (Sample.verdict == Verdict.pending.value) & Sample.deleted.eq(False)
            )
            if open_ids
            else 0
        )
        ratio = await self.witness_ratio(actor, project_id)
        return s.SummaryOut(
            project_id=project_id,
            batches=len(rows),
            by_status=by_status,
            flagged=by_status[BatchStatus.rejected.value],
            samples_awaiting_result=pending,
            witness_shortfalls=ratio.shortfalls,
        )

    async def ledger_csv(
        self, actor: Actor, project_id: UUID, arrived_from: date | None = None, arrived_to: date | None = None
    ) -> bytes:
        """原材料进场及见证取样台账: one line per sample (a batch without samples gets one line),
        UTF-8 with a byte-order mark so that Excel reads the Chinese correctly."""
        if arrived_from and arrived_to and arrived_from > arrived_to:
            raise ValidationFailed(t("samples.arrived_from_after_arrived"), field="arrived_from")
        rows = await ledger.ledger_rows(actor, project_id, self.book, arrived_from, arrived_to)
        return ledger.render(rows, self.book.timezone)

    def materials(self) -> s.MaterialsOut:
        return s.MaterialsOut(
            witness_min_share=float(self.book.witness_min_share),
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
                for r in self.book.materials.values()
            ],
        )


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


async def _check_examiner(org_id: UUID | None, kind: OrgKind, why: str) -> None:
    if org_id is None:
        raise ValidationFailed(t("samples.name_organisation", why=why), field="examiner_id")
    org = (
        await Organisation.select(Organisation.kind)
        .where((Organisation.id == org_id) & Organisation.deleted.eq(False))
        .first()
    )
    if org is None:
        raise ValidationFailed(t("samples.no_such_organisation"), field="examiner_id")
    if org["kind"] != kind.value:
        raise ValidationFailed(t("samples.organisation", kind=org["kind"], why=why), field="examiner_id")


def _require_open(batch: dict[str, Any], what: str) -> None:
    status = BatchStatus(batch["status"])
    if status not in OPEN_STATUSES:
        raise InvalidTransition(
            t("samples.cannot_batch", what=what, value=status.value), field="status", current_state=status.value
        )


def _label(sample_id: UUID, taken_at: datetime, retest: bool) -> str:
    """A printable label: kind, date, and the tail of the sample's id (unique in practice; the
    unique index on (project, label) settles the rest)."""
    prefix = "FY" if retest else "QY"  # 复验 / 取样
    return f"{prefix}-{taken_at:%Y%m%d}-{sample_id.hex[-8:].upper()}"


async def _where(project_id: UUID, site_id: UUID | None, work_item_id: UUID | None) -> tuple[UUID | None, UUID | None]:
    """(site, the work item's contractor), checking both belong to the project."""
    contractor = None
    if work_item_id is not None:
        item = (
            await WorkItem.select(WorkItem.project, WorkItem.site, WorkItem.contractor)
            .where((WorkItem.id == work_item_id) & WorkItem.deleted.eq(False))
            .first()
        )
        if item is None or item["project"] != project_id:
            raise ValidationFailed(t("samples.work_item_not_part_project"), field="work_item_id")
        if site_id is not None and site_id != item["site"]:
            raise ValidationFailed(t("samples.work_item_not_site"), field="work_item_id")
        site_id, contractor = item["site"], item["contractor"]
    if site_id is not None:
        site = await Site.select(Site.project).where((Site.id == site_id) & Site.deleted.eq(False)).first()
        if site is None or site["project"] != project_id:
            raise ValidationFailed(t("samples.site_not_part_project"), field="site_id")
    return site_id, contractor


async def _check_contractor(project_id: UUID, org_id: UUID) -> None:
    org = (
        await Organisation.select(Organisation.kind)
        .where((Organisation.id == org_id) & Organisation.deleted.eq(False))
        .first()
    )
    if org is None:
        raise ValidationFailed(t("samples.no_such_organisation"), field="contractor_id")
    if org["kind"] not in {k.value for k in WORK_PARTY_KINDS}:
        raise ValidationFailed(
            t("samples.organisation_not_contractor_utility_operator", kind=org["kind"]), field="contractor_id"
        )
    member = await Membership.exists().where(
        (Membership.project == project_id)
        & (Membership.role == Role.contractor.value)
        & (Membership.user.organisation == org_id)
        & Membership.deleted.eq(False)
    )
    works = await WorkItem.exists().where(
        (WorkItem.project == project_id) & (WorkItem.contractor == org_id) & WorkItem.deleted.eq(False)
    )
    if not (member or works):
        raise ValidationFailed(t("samples.contractor_has_no_members_no_work"), field="contractor_id")


async def _authority_of(project_id: UUID) -> UUID | None:
    """The quality station of the project: the organisation of its first authority member."""
    row = await (
        Membership.select(Membership.user.organisation.as_alias("org"))
        .where(
            (Membership.project == project_id)
            & (Membership.role == Role.authority.value)
            & Membership.deleted.eq(False)
            & Membership.user.organisation.is_not_null()
        )
        .order_by(Membership.version)
        .first()
    )
    return row["org"] if row else None


links.register_reader(BATCH_TABLE, may_read_batch)
links.register_reader(SAMPLE_TABLE, may_read_sample)
links.register_reader(DISPOSITION_TABLE, may_read_disposition)

__all__ = ["SamplesService"]
