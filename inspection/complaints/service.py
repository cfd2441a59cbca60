"""Use cases for residents' complaints and a site's public notice: read the notice, send a
complaint (no sign-in; rate-limited per client address; optional photos), list and read them
(office roles of the project only), and triage one into a rectification order or dismiss it with a
reason. One transaction each; rights checked here."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.clock import Clock
from inspection.complaints import schemas as s
from inspection.complaints.rules import ComplaintState, Triage, complaint_problem, next_state
from inspection.complaints.tables import Complaint
from inspection.errors import Forbidden, InvalidTransition, NotFound, RateLimited, ValidationFailed, VersionConflict
from inspection.evidence import links
from inspection.evidence.service import EvidenceService
from inspection.messages import t
from inspection.notifications.kinds import Kind
from inspection.notifications.outbox import Event, notify, portal_link
from inspection.notifications.recipients import people
from inspection.projects.access import ProjectAccess, project_access
from inspection.projects.names import place_names
from inspection.projects.ratelimit import RateCounter, Window
from inspection.projects.rules import OFFICE_ROLES, Role
from inspection.projects.schemas import convert_row
from inspection.projects.tables import Membership, Project, Site, WorkItem
from inspection.records import Write, new_id, office_bucket, retry_races, write
from inspection.rectification.rules import OrderState, Source
from inspection.rectification.service import OrderSpec, open_order
from inspection.rectification.tables import RectificationOrder
from inspection.settings import Settings

TABLE = Complaint._meta.tablename
RULES_FILE = Path(__file__).with_name("rules.toml")
MAX_PHOTOS = 3

# A resident sending a complaint is nobody the system knows. The service acts for them with this
# actor for exactly two calls: storing their photos (evidence needs a project it may write to) and
# writing the complaint. Its name marks those rows in the audit log.
PUBLIC = Actor(user_id=None, username="public:notice-page", is_admin=True, device_id="public-web")


# look-ups of a complaint's progress per address: plenty for a resident, useless for guessing
PROGRESS_RATE = Window(max_events=30, seconds=600)


def load_rate_rule(path: Path = RULES_FILE) -> Window:
    data = tomllib.loads(path.read_text(encoding="utf-8"))["rate_limit"]
    return Window(max_events=int(data["max_per_window"]), seconds=float(data["window_s"]))


def reference(complaint_id: UUID) -> str:
    """A short number the resident can quote by phone; the id's random tail, not its time."""
    return complaint_id.hex[-8:].upper()


@dataclass(frozen=True)
class PhotoIn:
    """A photo the caller has already spooled and hashed (see api/portal/forms.py)."""

    sha256: str
    size: int
    name: str
    chunks: Callable[[], AsyncIterator[bytes]]


def _out(row: dict[str, Any], photos: list[str], site_name: str = "") -> s.ComplaintOut:
    data = {k: v for k, v in row.items() if k in s.ComplaintOut.__struct_fields__}
    data.update(
        reference=reference(row["id"]),
        project_id=row["project"],
        site_id=row["site"],
        work_item_id=row["work_item"],
        site_name=site_name,
        photos=photos,
    )
    return convert_row(data, s.ComplaintOut)


async def _office_access(actor: Actor, project_id: UUID) -> ProjectAccess:
    """Complaints carry a resident's contact: only the roles that triage them read them."""
    access = await project_access(actor, project_id)
    if not access.has(*OFFICE_ROLES):
        raise NotFound(t("complaints.no_such_complaint_project_yours"))
    return access


async def may_read_complaint(actor: Actor, complaint_id: UUID) -> bool:
    """Reader check for the photos a complaint cites (see inspection/evidence/links.py)."""
    row = await Complaint.select(Complaint.project).where(Complaint.id == complaint_id).first()
    if row is None:
        return False
    try:
        await _office_access(actor, row["project"])
    except NotFound:
        return False
    return True


@retry_races
class ComplaintsService:
    def __init__(self, settings: Settings, clock: Clock, evidence: EvidenceService, rate: Window | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.evidence = evidence
        self.rate = rate or load_rate_rule()
        self.rates = RateCounter(clock)

    # The public side

    async def _public_site(self, site_id: UUID) -> dict[str, Any]:
        site = (
            await Site.select(*Site.all_columns(), Site.project.deleted.as_alias("project_deleted"))
            .where((Site.id == site_id) & Site.deleted.eq(False))
            .first()
        )
        if site is None or site["project_deleted"]:
            raise NotFound(t("complaints.site_has_no_public_notice", site_id=site_id))
        return site  # type: ignore[no-any-return]

    async def notice(self, site_id: UUID) -> s.Notice:
        """项目公示: what anyone may read about a site. Names only: no phone, no e-mail, no address
        of a person, nothing about complaints."""
        site = await self._public_site(site_id)
        project = (
            await Project.select(*Project.all_columns(), Project.owner_organisation.name.as_alias("owner_name"))
            .where(Project.id == site["project"])
            .first()
        )
        assert project is not None
        work = await (
            WorkItem.select(
                *WorkItem.all_columns(),
                WorkItem.contractor.name.as_alias("contractor_name"),
                WorkItem.building.name.as_alias("building_name"),
            )
            .where((WorkItem.site == site_id) & WorkItem.deleted.eq(False))
            .order_by(WorkItem.category)
            .order_by(WorkItem.name)
        )
        members = await (
            Membership.select(
                Membership.role,
                Membership.user.display_name.as_alias("name"),
                Membership.user.organisation.as_alias("organisation_id"),
                Membership.user.organisation.name.as_alias("organisation"),  # type: ignore[union-attr]
            )
            .where(
                (Membership.project == site["project"])
                & Membership.deleted.eq(False)
                & (Membership.user.deleted == False)  # noqa: E712 - a SQL comparison
                & (Membership.user.active == True)  # noqa: E712
            )
            .order_by(Membership.role)
        )
        contractor_ids = {w["contractor"] for w in work if w["contractor"]}
        contractors = sorted({w["contractor_name"] for w in work if w["contractor_name"]})
        supervisors = sorted(
            {m["organisation"] for m in members if m["role"] == Role.supervisor.value and m["organisation"]}
        )
        shown_roles = (Role.owner.value, Role.supervisor.value, Role.contractor.value)
        responsible = [
            s.NoticePerson(name=m["name"], role=m["role"], organisation=m["organisation"] or "")
            for m in members
            if m["role"] in shown_roles
            # a contractor's people are shown on the sites where that contractor works
            and (m["role"] != Role.contractor.value or m["organisation_id"] in contractor_ids)
        ]
        residents = sorted({m["name"] for m in members if m["role"] == Role.resident_supervisor.value})
        done = sum(1 for w in work if w["status"] in ("completed", "accepted"))
        starts = [w["planned_start"] for w in work if w["planned_start"]]
        ends = [w["planned_end"] for w in work if w["planned_end"]]
        return s.Notice(
            site_id=site_id,
            site_name=site["name"],
            address=site["address"],
            households=site["households"],
            building_count=site["building_count"],
            floor_area_m2=site["floor_area_m2"],
            project_name=project["name"],
            project_code=project["code"],
            district=project["district"],
            year=project["year"],
            project_status=project["status"],
            owner=project["owner_name"] or "",
            contractors=contractors,
            supervisors=supervisors,
            responsible=responsible,
            resident_supervisors=residents,
            work=[
                s.NoticeWork(
                    id=w["id"],
                    name=w["name"],
                    category=w["category"],
                    work_type=w["work_type"],
                    building=w["building_name"] or "",
                    contractor=w["contractor_name"] or "",
                    status=w["status"],
                    planned_start=w["planned_start"],
                    planned_end=w["planned_end"],
                )
                for w in work
            ],
            planned_start=min(starts) if starts else None,
            planned_end=max(ends) if ends else None,
            work_done=done,
            work_total=len(work),
            progress_percent=round(100 * done / len(work)) if work else 0,
        )

    async def check_rate(self, client: str) -> None:
        """Call before reading a complaint's photos, so a flood is refused before it costs disk.
        Counts this complaint (in the database, shared by every server process)."""
        key = f"complaint:{client}"
        wait = await self.rates.wait_s(key, self.rate)
        if wait is not None:
            raise RateLimited(t("complaints.too_many_complaints_from_address_try"), retry_after=wait)
        await self.rates.record([key])

    async def progress(self, site_id: UUID, ref: str, client: str) -> s.Progress:
        """进度查询 on the site's public page: the stage of the complaint with this reference, or
        NotFound. Limited per address, so references cannot be tried by the thousand; the
        reference is 32 random bits and only counts within its own site."""
        key = f"complaint-progress:{client}"
        wait = await self.rates.wait_s(key, PROGRESS_RATE)
        if wait is not None:
            raise RateLimited(t("complaints.too_many_lookups"), retry_after=wait)
        await self.rates.record([key])
        await self._public_site(site_id)
        wanted = ref.strip().upper()
        if len(wanted) != 8:
            raise NotFound(t("complaints.no_such_reference"), field="reference")
        rows = await Complaint.select(Complaint.id, Complaint.status, Complaint.order_id, Complaint.received_at).where(
            (Complaint.site == site_id) & Complaint.deleted.eq(False)
        )
        row = next((r for r in rows if reference(r["id"]) == wanted), None)
        if row is None:
            raise NotFound(t("complaints.no_such_reference"), field="reference")
        stage = "received"
        if row["status"] == ComplaintState.dismissed.value:
            stage = "closed"
        elif row["status"] == ComplaintState.ordered.value:
            order = (
                await RectificationOrder.select(RectificationOrder.status)
                .where(RectificationOrder.id == row["order_id"])
                .first()
                if row["order_id"]
                else None
            )
            finished = order is not None and order["status"] in (OrderState.closed.value, OrderState.cancelled.value)
            stage = "closed" if finished else "ordered"
        return s.Progress(reference=wanted, received_at=row["received_at"], stage=stage)

    async def submit(self, site_id: UUID, data: s.ComplaintIn, photos: Sequence[PhotoIn] = ()) -> s.Receipt:
        """A resident's complaint; the caller has passed `check_rate` for its client address."""
        problem = complaint_problem(data.text, data.contact)
        if problem:
            raise ValidationFailed(problem[1], field=problem[0])
        if len(photos) > MAX_PHOTOS:
            raise ValidationFailed(t("complaints.attach_at_most_photos", MAX_PHOTOS=MAX_PHOTOS), field="photos")
        site = await self._public_site(site_id)
        if data.work_item_id is not None:
            item = (
                await WorkItem.select(WorkItem.site)
                .where((WorkItem.id == data.work_item_id) & WorkItem.deleted.eq(False))
                .first()
            )
            if item is None or item["site"] != site_id:
                raise ValidationFailed(t("complaints.work_not_site"), field="work_item_id")
        for photo in photos:
            stored = await self.evidence.upload(
                PUBLIC,
                photo.sha256,
                photo.chunks(),
                declared_size=photo.size,
                project_id=site["project"],
                original_name=photo.name,
                office_only=True,
            )
            if not stored.content_type.startswith("image/"):
                raise ValidationFailed(t("complaints.attach_photos_only_jpeg_png"), field="photos")
        async with write(PUBLIC, self.clock) as w:
            values = {
                "id": new_id(),
                "project": site["project"],
                "site": site_id,
                "work_item": data.work_item_id,
                "topic": data.topic.value,
                "text": data.text.strip(),
                "contact": data.contact.strip(),
                "received_at": w.now,
                "status": ComplaintState.new.value,
            }
            # the audit log keeps that a complaint arrived, not the resident's words or contact
            row = await w.insert(Complaint, values, [office_bucket(site["project"])], audit_values=False)
            await links.attach(
                w,
                [p.sha256 for p in photos],
                record_table=TABLE,
                record_id=row["id"],
                project_id=site["project"],
                field="photos",
                buckets=[office_bucket(site["project"])],
            )
            # the project's office side, who read complaints (never the resident's words in the text)
            await notify(
                w,
                Event(
                    kind=Kind.complaint_filed,
                    project_id=site["project"],
                    subject_table=TABLE,
                    subject_id=row["id"],
                    text=t(
                        "notify.complaint_filed",
                        place=(await place_names([row]))[0],
                        at=w.now,
                        reference=reference(row["id"]),
                        link=portal_link(f"/portal/complaints/{row['id']}"),
                    ),
                    users=await people(site["project"], OFFICE_ROLES),
                ),
            )
        return s.Receipt(reference=reference(row["id"]), received_at=row["received_at"], photos=len(photos))

    # The office side

    async def _photos(self, ids: list[UUID]) -> dict[UUID, list[str]]:
        found = await links.linked(TABLE, ids)
        return {k: [p.sha256 for p in v] for k, v in found.items()}

    async def list_complaints(
        self, actor: Actor, project_id: UUID, status: ComplaintState | None = None, limit: int = 100
    ) -> s.ComplaintPage:
        """A project's complaints, newest first."""
        if not 1 <= limit <= 500:
            raise ValidationFailed(t("complaints.limit_must_from_1_500"), field="limit")
        await _office_access(actor, project_id)
        where: Any = (Complaint.project == project_id) & Complaint.deleted.eq(False)
        new = await Complaint.count().where(where & (Complaint.status == ComplaintState.new.value))
        total = await Complaint.count().where(where)
        if status is not None:
            where &= Complaint.status == status.value
        rows = await (
            Complaint.select(*Complaint.all_columns(), Complaint.site.name.as_alias("site_name"))
            .where(where)
            .order_by(Complaint.received_at, ascending=False)
            .limit(limit)
        )
        photos = await self._photos([r["id"] for r in rows])
        return s.ComplaintPage(
            items=[_out(r, photos.get(r["id"], []), r["site_name"]) for r in rows], total=total, new=new
        )

    async def _load(self, actor: Actor, complaint_id: UUID) -> tuple[dict[str, Any], ProjectAccess]:
        row = (
            await Complaint.select(*Complaint.all_columns(), Complaint.site.name.as_alias("site_name"))
            .where((Complaint.id == complaint_id) & Complaint.deleted.eq(False))
            .first()
        )
        if row is None:
            raise NotFound(t("complaints.complaint_does_not_exist", complaint_id=complaint_id))
        try:
            access = await _office_access(actor, row["project"])
        except NotFound:
            raise NotFound(t("complaints.complaint_does_not_exist", complaint_id=complaint_id)) from None
        return row, access

    async def get_complaint(self, actor: Actor, complaint_id: UUID) -> s.ComplaintOut:
        row, _ = await self._load(actor, complaint_id)
        photos = await self._photos([complaint_id])
        return _out(row, photos.get(complaint_id, []), row["site_name"])

    async def _triage(
        self, w: Write, actor: Actor, complaint_id: UUID, move: Triage, version: int | None
    ) -> tuple[dict[str, Any], ComplaintState]:
        row, access = await self._load(actor, complaint_id)
        if actor.is_admin and not access.roles:
            raise Forbidden(t("complaints.complaints_triaged_project_s_supervisor_owner"))
        nxt = next_state(ComplaintState(row["status"]), move)
        if nxt is None:
            raise InvalidTransition(
                t("complaints.complaint_was_already_handled", status=row["status"]),
                field="status",
                current_state=row["status"],
            )
        if version is not None and version != row["version"]:
            raise VersionConflict(
                t("complaints.complaint_changed_since_version", complaint_id=complaint_id, version=version),
                field="version",
                current_version=row["version"],
            )
        return row, nxt

    async def to_order(self, actor: Actor, complaint_id: UUID, data: s.ToOrderBody) -> s.ComplaintOut:
        """Open and issue a rectification order (source: complaint) citing the complaint's photos,
        in the same transaction that marks the complaint handled."""
        async with write(actor, self.clock) as w:
            row, nxt = await self._triage(w, actor, complaint_id, Triage.order, data.version)
            photos = (await self._photos([complaint_id])).get(complaint_id, [])
            order = await open_order(
                w,
                actor,
                OrderSpec(
                    project_id=row["project"],
                    kind=data.kind,
                    severity=data.severity,
                    description=data.description,
                    source=Source.complaint,
                    source_table=TABLE,
                    source_id=complaint_id,
                    site_id=row["site"],
                    work_item_id=data.work_item_id or row["work_item"],
                    contractor_id=data.contractor_id,
                    photos=photos,
                    deadline=data.deadline,
                    deadline_reason=data.deadline_reason,
                    issue=True,
                ),
            )
            await w.update(
                Complaint,
                complaint_id,
                {"status": nxt.value, "order_id": order["id"], "triaged_by": actor.user_id, "triaged_at": w.now},
                [office_bucket(row["project"])],
                current={k: v for k, v in row.items() if k != "site_name"},
                action="transition",
            )
        return await self.get_complaint(actor, complaint_id)

    async def dismiss(self, actor: Actor, complaint_id: UUID, data: s.DismissBody) -> s.ComplaintOut:
        if not data.reason.strip():
            raise ValidationFailed(t("complaints.say_why_complaint_dismissed"), field="reason")
        async with write(actor, self.clock) as w:
            row, nxt = await self._triage(w, actor, complaint_id, Triage.dismiss, data.version)
            await w.update(
                Complaint,
                complaint_id,
                {
                    "status": nxt.value,
                    "dismiss_reason": data.reason.strip(),
                    "triaged_by": actor.user_id,
                    "triaged_at": w.now,
                },
                [office_bucket(row["project"])],
                current={k: v for k, v in row.items() if k != "site_name"},
                action="transition",
            )
        return await self.get_complaint(actor, complaint_id)


links.register_reader(TABLE, may_read_complaint)

__all__ = ["PUBLIC", "ComplaintsService", "PhotoIn", "reference"]
