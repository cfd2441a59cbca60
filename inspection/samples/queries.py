"""Read-only use cases of material sampling: a batch with its plan, samples and disposition, a
sample, the list of batches, a project's witness share and summary, the ledger and the rule
book's materials; and the alerts scheduler's seam, samples whose lab results are still
outstanding (`samples_awaiting_result`). The writing use cases (service.py, batches.py) build
on `SampleQueries` and answer with its views of what they wrote."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.clock import Clock, local_day
from inspection.errors import NotFound, ValidationFailed
from inspection.evidence import links
from inspection.messages import t
from inspection.notifications.outbox import portal_link
from inspection.records import retry_races
from inspection.samples import ledger
from inspection.samples import schemas as s
from inspection.samples.access import batch_access, project_batches_where, visible_batches_where
from inspection.samples.facts import result_facts, test_item_codes
from inspection.samples.rulebook import default_rulebook
from inspection.samples.rules import (
    OPEN_STATUSES,
    BatchStatus,
    MaterialRule,
    ResultFact,
    RuleBook,
    SampleFacts,
    Verdict,
    failed_items,
    is_large_continuous,
    plan_summary,
    portion_sets,
    set_minimum,
    specimen_counts,
    witness_check,
)
from inspection.samples.tables import MaterialBatch, MaterialDisposition, MaterialFiling, Sample, SampleResult
from inspection.samples.views import _file, _grade_value, _lot_out, materials_out, portions_of
from inspection.settings import Settings

BATCH_TABLE = MaterialBatch._meta.tablename
SAMPLE_TABLE = Sample._meta.tablename
DISPOSITION_TABLE = MaterialDisposition._meta.tablename

B = MaterialBatch


def _expected(material: str, sets: int, items: list[str]) -> int:
    """Results a sample takes: one per item and set, one per sample for an item weighed or tested
    once whatever the sets (rebar weight deviation)."""
    rule = default_rulebook().material(material)
    return sum(rule.result_sets(c, sets) if rule else sets for c in items)


async def samples_awaiting_result(older_than: datetime) -> list[dict[str, Any]]:
    """Samples taken before `older_than` whose verdict is still pending, oldest first."""
    if older_than.tzinfo is None:
        raise ValueError("older_than needs a time zone")
    rows = await (
        Sample.select(
            Sample.id,
            Sample.batch,
            Sample.project,
            Sample.contractor,
            Sample.lab,
            Sample.label_code,
            Sample.batch.material.as_alias("material"),
            Sample.is_retest,
            Sample.taken_at,
            Sample.sets,
            Sample.test_items,
        )
        .where(
            (Sample.verdict == Verdict.pending.value)
            & (Sample.taken_at < older_than)
            & Sample.deleted.eq(False)
            & Sample.batch.status.is_in([s.value for s in OPEN_STATUSES])
            & Sample.batch._.deleted.eq(False)
        )
        .order_by(Sample.taken_at)
        .order_by(Sample.id)
    )
    counts: dict[Any, int] = {}
    if rows:
        results = await SampleResult.select(SampleResult.sample).where(
            SampleResult.sample.is_in([r["id"] for r in rows]) & SampleResult.deleted.eq(False)
        )
        for r in results:
            counts[r["sample"]] = counts.get(r["sample"], 0) + 1
    return [_awaiting(r, counts.get(r["id"], 0)) for r in rows]


def _awaiting(r: dict[str, Any], recorded: int) -> dict[str, Any]:
    expected = _expected(r["material"], r["sets"], test_item_codes(r["test_items"]))
    return {
        "sample_id": r["id"],
        "batch_id": r["batch"],
        "project_id": r["project"],
        "contractor_id": r["contractor"],
        "lab_id": r["lab"],
        "label_code": r["label_code"],
        "material": r["material"],
        "is_retest": r["is_retest"],
        "taken_at": r["taken_at"],
        "results_recorded": recorded,
        "results_expected": expected,
        # what the scheduler's alert says (alerts/jobs.py guard_job)
        "message": t(
            "alerts.sample_awaiting",
            material=_material_name(r["material"]),
            label=r["label_code"],
            taken=local_day(r["taken_at"]).isoformat(),
            recorded=recorded,
            expected=expected,
            link=portal_link(f"/portal/projects/{r['project']}"),
        ).render(),
    }


def _material_name(code: str) -> str:
    rule = default_rulebook().materials.get(code)
    return rule.name if rule is not None else code


@retry_races
class SampleQueries:
    """What a batch, its samples and a project's materials look like to someone who may read them."""

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
        return materials_out(self.book)
