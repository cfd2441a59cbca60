"""Read-only use cases of inspections: templates, one inspection with its answers and the orders
it opened, the filtered list, and a project's summary (counts, score trend, failures by hazard,
each site's JGJ 59 summary). `ChecklistsService` (service.py) builds on `ChecklistQueries` and
answers with its views of what it wrote."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from inspection import deadlines
from inspection.actor import Actor
from inspection.checklists import catalogue, scoring
from inspection.checklists import schemas as s
from inspection.checklists.access import ANSWER_TABLE, IA, IN, inspection_access
from inspection.checklists.answers import _aware
from inspection.checklists.templates import Template
from inspection.clock import Clock
from inspection.errors import Forbidden, ValidationFailed
from inspection.evidence import links
from inspection.messages import t
from inspection.projects.access import project_access, visible_project_ids
from inspection.projects.tables import Building, Site, WorkItem
from inspection.records import retry_races
from inspection.rectification.rules import OrderState
from inspection.rectification.tables import RectificationOrder
from inspection.settings import Settings

OPEN_ORDER_STATES = [OrderState.draft.value, OrderState.issued.value, OrderState.responded.value, "rejected"]


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
class ChecklistQueries:
    """What inspections look like to someone who may read them."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

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
        submitted_from: str | datetime | None = None,
        submitted_to: str | datetime | None = None,
        has_open_orders: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> s.InspectionPage:
        submitted_from = deadlines.bound(submitted_from, self.clock.tz, field="submitted_from", upper=False)
        submitted_to = deadlines.bound(submitted_to, self.clock.tz, field="submitted_to", upper=True)
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
