"""Who may read an inspection and its answers, and which tablets receive them.

Every member of a project reads its inspections, drafts included, except that a user who is only a
contractor there reads only SUBMITTED inspections of its own organisation's work items (the record
an order cites must be readable by the contractor who answers it). Drafts are the inspector's
working notes and stay with the project's own side. Others get 404.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.checklists.tables import Inspection, InspectionAnswer
from inspection.errors import NotFound
from inspection.evidence import links
from inspection.messages import t
from inspection.projects.access import ProjectAccess, project_access
from inspection.records import contractor_bucket, project_bucket

INSPECTION_TABLE = Inspection._meta.tablename
ANSWER_TABLE = InspectionAnswer._meta.tablename

IN = Inspection
IA = InspectionAnswer


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


# a photo or signature cited by an inspection is shown to whoever may read the inspection
links.register_reader(INSPECTION_TABLE, may_read_inspection)
links.register_reader(ANSWER_TABLE, may_read_answer)
