"""Who may see and record material batches and samples, who may witness them, and the checks of
the organisations, sites and work items a batch names.

- Every member of a batch's project may read it, except that a user who is only a contractor there
  sees only its own organisation's batches. Others get 404.
- Contractors (for their own organisation), inspectors, supervisors and owners record batches,
  samples, results and dispositions. Residents, viewers and the authority read only.
- A witness (见证人) is a supervisor or owner representative of the project from an organisation
  other than the batch's contractor: a member holding the supervisor or owner role, or an
  inspector of a supervision company or of the owner.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.errors import Forbidden, NotFound, ValidationFailed
from inspection.evidence import links
from inspection.messages import t
from inspection.projects.access import ProjectAccess, project_access, projects_by_view
from inspection.projects.rules import WORK_PARTY_KINDS, OrgKind, Role
from inspection.projects.tables import Membership, Organisation, Site, User, WorkItem
from inspection.records import contractor_bucket, project_bucket
from inspection.samples.tables import MaterialBatch, MaterialDisposition, Sample

RECORDING_ROLES = frozenset({Role.contractor, Role.inspector, Role.supervisor, Role.owner})
WITNESS_ROLES = frozenset({Role.supervisor, Role.owner})
WITNESS_ORG_KINDS = frozenset({OrgKind.supervisor.value, OrgKind.owner.value})


def batch_buckets(batch: dict[str, Any]) -> list[str]:
    """The project's bucket and the contractor's: a contractor's tablet holds its own batches."""
    return [project_bucket(batch["project"]), contractor_bucket(batch["project"], batch["contractor"])]


def sees(access: ProjectAccess, batch: dict[str, Any]) -> bool:
    return access.sees_organisation_record(batch["contractor"])


async def batch_access(actor: Actor, batch: dict[str, Any] | None, batch_id: UUID) -> ProjectAccess:
    """The actor's rights in the batch's project; NotFound when the batch is missing or not theirs."""
    if batch is None or batch["deleted"]:
        raise NotFound(t("samples.material_batch_does_not_exist", batch_id=batch_id))
    try:
        access = await project_access(actor, batch["project"])
    except NotFound:
        raise NotFound(t("samples.material_batch_does_not_exist", batch_id=batch_id)) from None
    if not sees(access, batch):
        raise NotFound(t("samples.material_batch_does_not_exist", batch_id=batch_id))
    return access


def require_recording_role(access: ProjectAccess) -> None:
    if not access.roles & RECORDING_ROLES:
        raise Forbidden(t("samples.only_project_s_contractors_inspectors_supervisors"))


def require_recorder(actor: Actor, access: ProjectAccess, contractor_id: UUID | None) -> None:
    """Contractors record for their own organisation; the owner's and supervisor's side for any."""
    require_recording_role(access)
    if access.roles & RECORDING_ROLES == {Role.contractor} and contractor_id != actor.organisation_id:
        raise Forbidden(t("samples.contractor_records_only_own_organisation_s"))


async def check_witness(project_id: UUID, contractor_id: UUID, user_id: UUID, field: str) -> None:
    """A supervisor or owner representative of the project, not from the contractor (见证人)."""
    user = (
        await User.select(User.organisation, User.active, User.organisation.kind.as_alias("kind"))
        .where((User.id == user_id) & User.deleted.eq(False))
        .first()
    )
    if user is None or not user["active"]:
        raise ValidationFailed(t("samples.no_such_user"), field=field)
    if user["organisation"] is None or user["organisation"] == contractor_id:
        raise ValidationFailed(t("samples.witness_must_not_belong_contractor_whose"), field=field)
    rows = await Membership.select(Membership.role).where(
        (Membership.project == project_id) & (Membership.user == user_id) & Membership.deleted.eq(False)
    )
    roles = {Role(r["role"]) for r in rows}
    if not roles:
        raise ValidationFailed(t("samples.witness_not_member_project"), field=field)
    qualified = bool(roles & WITNESS_ROLES) or (Role.inspector in roles and user["kind"] in WITNESS_ORG_KINDS)
    if not qualified:
        raise ValidationFailed(t("samples.witness_must_be_supervisor_or_owner"), field=field)


async def check_member(project_id: UUID, user_id: UUID, field: str) -> None:
    if not await Membership.exists().where(
        (Membership.project == project_id) & (Membership.user == user_id) & Membership.deleted.eq(False)
    ):
        raise ValidationFailed(t("samples.person_not_member_project"), field=field)


async def check_lab(lab_id: UUID, field: str = "lab_id") -> None:
    org = (
        await Organisation.select(Organisation.kind)
        .where((Organisation.id == lab_id) & Organisation.deleted.eq(False))
        .first()
    )
    if org is None:
        raise ValidationFailed(t("samples.no_such_organisation"), field=field)
    if org["kind"] != OrgKind.lab.value:
        raise ValidationFailed(t("samples.organisation_not_lab", kind=org["kind"]), field=field)


async def project_batches_where(actor: Actor, project_id: UUID) -> Any:
    """A where-clause on MaterialBatch: the project's batches `actor` may read (NotFound if none)."""
    B = MaterialBatch
    access = await project_access(actor, project_id)
    where = (B.project == project_id) & B.deleted.eq(False)
    if access.contractor_only:
        where &= B.contractor == access.organisation_id
    return where


async def visible_batches_where(actor: Actor, project_id: UUID | None) -> Any | None:
    """A where-clause on MaterialBatch limiting it to what `actor` may read; None = nothing."""
    B = MaterialBatch
    if project_id is not None:
        return await project_batches_where(actor, project_id)
    if actor.is_admin:
        return B.deleted.eq(False)
    if actor.user_id is None:
        return None
    full, own = await projects_by_view(actor)
    clause: Any = None
    if full:
        clause = B.project.is_in(full)
    if own and actor.organisation_id is not None:
        mine = B.project.is_in(own) & (B.contractor == actor.organisation_id)
        clause = mine if clause is None else (clause | mine)
    return None if clause is None else (clause & B.deleted.eq(False))


# Reader checks for evidence cited by these records (see inspection/evidence/links.py)


async def may_read_batch(actor: Actor, batch_id: UUID) -> bool:
    row = await MaterialBatch.select().where(MaterialBatch.id == batch_id).first()
    try:
        await batch_access(actor, row, batch_id)
    except NotFound:
        return False
    return True


async def may_read_sample(actor: Actor, sample_id: UUID) -> bool:
    row = await Sample.select(Sample.batch).where(Sample.id == sample_id).first()
    return row is not None and await may_read_batch(actor, row["batch"])


async def may_read_disposition(actor: Actor, disposition_id: UUID) -> bool:
    row = (
        await MaterialDisposition.select(MaterialDisposition.batch)
        .where(MaterialDisposition.id == disposition_id)
        .first()
    )
    return row is not None and await may_read_batch(actor, row["batch"])


# a photo or document cited by these records is shown to whoever may read the record
links.register_reader(MaterialBatch._meta.tablename, may_read_batch)
links.register_reader(Sample._meta.tablename, may_read_sample)
links.register_reader(MaterialDisposition._meta.tablename, may_read_disposition)


# Checks of what a batch names: where it is, whose it is, who examined it


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
