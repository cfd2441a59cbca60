"""What another domain (or the API) asks for when it opens an order (`OrderSpec`), and the checks
of where the order is placed (site, building, work item of the project) and whom it is addressed
to (a contractor or utility operator working on the project)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from inspection.errors import ValidationFailed
from inspection.messages import t
from inspection.projects.rules import WORK_PARTY_KINDS, Role
from inspection.projects.tables import Building, Membership, Organisation, Site, WorkItem
from inspection.rectification.rules import OrderKind, Severity, Source


@dataclass
class OrderSpec:
    """What another domain (or the API) asks for when it opens an order."""

    project_id: UUID
    kind: OrderKind
    description: str
    severity: Severity = Severity.general
    source: Source = Source.manual
    source_table: str | None = None
    source_id: UUID | None = None
    site_id: UUID | None = None
    building_id: UUID | None = None
    work_item_id: UUID | None = None
    contractor_id: UUID | None = None
    photos: Sequence[str] = field(default_factory=list)
    deadline: datetime | None = None
    deadline_reason: str = ""
    issue: bool = False
    id: UUID | None = None


async def _contractor_on_project(project_id: UUID, org_id: UUID) -> bool:
    members = await Membership.exists().where(
        (Membership.project == project_id)
        & (Membership.role == Role.contractor.value)
        & (Membership.user.organisation == org_id)
        & Membership.deleted.eq(False)
    )
    if members:
        return True
    return await WorkItem.exists().where(
        (WorkItem.project == project_id) & (WorkItem.contractor == org_id) & WorkItem.deleted.eq(False)
    )


async def _where(spec: OrderSpec) -> tuple[UUID | None, UUID | None, UUID | None, UUID | None]:
    """Check the site, building and work item belong together; fill the site from the others.
    Returns (site, building, work item, the work item's contractor)."""
    site_id, building_id, work_contractor = spec.site_id, spec.building_id, None
    if spec.work_item_id is not None:
        item = (
            await WorkItem.select(WorkItem.project, WorkItem.site, WorkItem.building, WorkItem.contractor)
            .where((WorkItem.id == spec.work_item_id) & WorkItem.deleted.eq(False))
            .first()
        )
        if item is None or item["project"] != spec.project_id:
            raise ValidationFailed(t("rectification.work_item_not_part_project"), field="work_item_id")
        if site_id is not None and site_id != item["site"]:
            raise ValidationFailed(t("rectification.work_item_not_site"), field="work_item_id")
        site_id = item["site"]
        building_id = building_id or item["building"]
        work_contractor = item["contractor"]
    if building_id is not None:
        building = (
            await Building.select(Building.project, Building.site)
            .where((Building.id == building_id) & Building.deleted.eq(False))
            .first()
        )
        if building is None or building["project"] != spec.project_id:
            raise ValidationFailed(t("rectification.building_not_part_project"), field="building_id")
        if site_id is not None and site_id != building["site"]:
            raise ValidationFailed(t("rectification.building_not_site"), field="building_id")
        site_id = building["site"]
    if site_id is not None:
        site = await Site.select(Site.project).where((Site.id == site_id) & Site.deleted.eq(False)).first()
        if site is None or site["project"] != spec.project_id:
            raise ValidationFailed(t("rectification.site_not_part_project"), field="site_id")
    return site_id, building_id, spec.work_item_id, work_contractor


async def _addressee(spec: OrderSpec, work_contractor: UUID | None) -> UUID:
    org_id = spec.contractor_id or work_contractor
    if org_id is None:
        raise ValidationFailed(t("rectification.name_contractor_order_addressed"), field="contractor_id")
    org = (
        await Organisation.select(Organisation.kind)
        .where((Organisation.id == org_id) & Organisation.deleted.eq(False))
        .first()
    )
    if org is None:
        raise ValidationFailed(t("rectification.no_such_organisation"), field="contractor_id")
    if org["kind"] not in {k.value for k in WORK_PARTY_KINDS}:
        raise ValidationFailed(
            t("rectification.organisation_not_contractor_utility_operator", kind=org["kind"]), field="contractor_id"
        )
    if not await _contractor_on_project(spec.project_id, org_id):
        raise ValidationFailed(t("rectification.contractor_has_no_members_no_work"), field="contractor_id")
    return org_id
