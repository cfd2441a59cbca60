"""What checklists contribute to acceptance blockers: inspections still in draft (a draft is an
inspection begun and not signed; its findings are not on record, so acceptance waits for it), and
hold points a work item must pass before it is handed over that have not passed (a retrofitted lift
without the special-equipment supervision inspection: 特种设备安全法 §25, 未经监督检验或者监督检验
不合格的不得交付使用)."""

from __future__ import annotations

from uuid import UUID

from inspection.blockers import Blocker, place_names
from inspection.checklists.supervision import handover_holds, plans
from inspection.checklists.tables import Inspection, SupervisionPointState
from inspection.messages import t
from inspection.projects.tables import WorkItem


async def acceptance_blockers(project_id: UUID, site_id: UUID | None = None) -> list[Blocker]:
    clause = (Inspection.project == project_id) & (Inspection.status == "draft") & Inspection.deleted.eq(False)
    if site_id is not None:
        clause = clause & (Inspection.site == site_id)
    rows = await Inspection.select(
        Inspection.id,
        Inspection.started_at,
        Inspection.site,
        Inspection.building,
        Inspection.work_item,
        Inspection.template.title.as_alias("title"),
    ).where(clause)
    places = await place_names(rows)
    found = [
        Blocker(
            kind="inspection_draft",
            record_table=Inspection._meta.tablename,
            record_id=r["id"],
            description=t("blockers.inspection_draft", place=place, title=r["title"], since=r["started_at"]),
            link=f"/portal/inspections/{r['id']}",
        )
        for r, place in zip(rows, places, strict=True)
    ]
    return found + await _handover_holds(project_id, site_id)


async def _handover_holds(project_id: UUID, site_id: UUID | None) -> list[Blocker]:
    gated = {work_type: plan for work_type, plan in plans().items() if any(p.blocks_handover for p in plan.points)}
    if not gated:
        return []
    where = (WorkItem.project == project_id) & WorkItem.deleted.eq(False) & WorkItem.work_type.is_in(list(gated))
    if site_id is not None:
        where &= WorkItem.site == site_id
    items = await (
        WorkItem.select(
            WorkItem.id, WorkItem.name, WorkItem.work_type, WorkItem.site, WorkItem.building, WorkItem.project
        )
        .where(where)
        .order_by(WorkItem.name)
    )
    if not items:
        return []
    sps = SupervisionPointState
    rows = await sps.select(sps.work_item, sps.point_code, sps.state).where(
        sps.work_item.is_in([i["id"] for i in items]) & sps.deleted.eq(False)
    )
    states: dict[UUID, dict[str, str]] = {}
    for r in rows:
        states.setdefault(r["work_item"], {})[r["point_code"]] = r["state"]
    places = await place_names([{**i, "work_item": i["id"]} for i in items])
    out = []
    for item, place in zip(items, places, strict=True):
        for point in handover_holds(gated[item["work_type"]], states.get(item["id"], {})):
            out.append(
                Blocker(
                    kind="hold_point_open",
                    record_table=WorkItem._meta.tablename,
                    record_id=item["id"],
                    description=t("blockers.hold_point_open", place=place, point=point.title),
                    link=f"/portal/projects/{item['project']}",
                )
            )
    return out
