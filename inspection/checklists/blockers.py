"""What checklists contribute to acceptance blockers: inspections still in draft. A draft is an
inspection begun and not signed; its findings are not on record, so acceptance waits for it."""

from __future__ import annotations

from uuid import UUID

from inspection.blockers import Blocker
from inspection.checklists.tables import Inspection


async def acceptance_blockers(project_id: UUID, site_id: UUID | None = None) -> list[Blocker]:
    clause = (Inspection.project == project_id) & (Inspection.status == "draft") & Inspection.deleted.eq(False)
    if site_id is not None:
        clause = clause & (Inspection.site == site_id)
    rows = await Inspection.select(Inspection.id, Inspection.template_code, Inspection.started_at).where(clause)
    return [
        Blocker(
            kind="inspection_draft",
            record_table=Inspection._meta.tablename,
            record_id=r["id"],
            description=f"检查记录({r['template_code']})于 {r['started_at']:%Y-%m-%d} 开始,尚未提交",
        )
        for r in rows
    ]
