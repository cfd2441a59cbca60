"""Use cases for material sampling: take samples (witnessed or not), record lab results, take a
double retest. One transaction each; rights checked here (see access.py). A batch's own record
(进场, corrections, disposition) is written in batches.py; the plan, lists, witness share and
ledger are read in queries.py.

The verdict of a sample and the status of a batch are never written by a caller: after every
sample or result the service recomputes them from the results and rules.toml (rules.py). When a
batch turns rejected, the same transaction opens a rectification order against its contractor
(issued when the acting user may issue orders, else a draft for the supervisor to issue), files a
record for the quality station (material_filing) and notifies the station; the batch stays flagged
until its disposition is recorded.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from inspection.actor import SYSTEM, Actor
from inspection.errors import Conflict, InvalidTransition, ValidationFailed
from inspection.evidence import links
from inspection.messages import t
from inspection.notifications import outbox
from inspection.notifications.kinds import Kind
from inspection.notifications.outbox import Event, notify, portal_link
from inspection.notifications.recipients import contractor_managers, people
from inspection.projects.access import project_access
from inspection.projects.names import place_names
from inspection.projects.rules import Role
from inspection.records import Write, new_id, retry_races, write
from inspection.rectification.rules import ISSUING_ROLES, OrderKind, Severity, Source
from inspection.rectification.service import OrderSpec, open_order
from inspection.samples import schemas as s
from inspection.samples.access import (
    _authority_of,
    batch_buckets,
    check_lab,
    check_member,
    check_witness,
)
from inspection.samples.batches import BatchCommands, _require_open, _utc
from inspection.samples.facts import result_facts, test_item_codes
from inspection.samples.queries import BATCH_TABLE, SAMPLE_TABLE, B
from inspection.samples.rules import (
    CONFORM_UNIT,
    BatchStatus,
    LotVerdict,
    MaterialRule,
    Verdict,
    batch_outcome,
    failed_items,
    retest_need,
    sample_verdict,
)
from inspection.samples.tables import MaterialFiling, Sample, SampleResult
from inspection.samples.views import _grade_value

FILING_TABLE = MaterialFiling._meta.tablename


@retry_races
class SamplesService(BatchCommands):
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


def _label(sample_id: UUID, taken_at: datetime, retest: bool) -> str:
    """A printable label: kind, date, and the tail of the sample's id (unique in practice; the
    unique index on (project, label) settles the rest)."""
    prefix = "FY" if retest else "QY"  # 复验 / 取样
    return f"{prefix}-{taken_at:%Y%m%d}-{sample_id.hex[-8:].upper()}"


__all__ = ["SamplesService"]
