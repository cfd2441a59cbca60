"""Shapes of complaints and of a site's public notice (msgspec Structs)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from inspection.complaints.rules import CONTACT_MAX, TEXT_MAX, ComplaintState, Topic
from inspection.projects.schemas import Input, Output, Synced, Version
from inspection.rectification.rules import OrderKind, Severity


class ComplaintIn(Input, kw_only=True):
    topic: Topic = Topic.other
    text: Annotated[str, Meta(max_length=TEXT_MAX + 200)]
    contact: Annotated[str, Meta(max_length=CONTACT_MAX)] = ""
    work_item_id: UUID | None = None


class Receipt(Output, kw_only=True):
    """What the resident is shown: a reference, nothing about anyone else's complaints."""

    reference: str
    received_at: datetime
    photos: int


class Progress(Output, kw_only=True):
    """What a reference number tells whoever holds it: where the complaint stands, nothing of
    what it says or who sent it."""

    reference: str
    received_at: datetime
    stage: str  # received | ordered (a rectification order is out) | closed


class ComplaintOut(Synced, kw_only=True):
    id: UUID
    reference: str
    project_id: UUID
    site_id: UUID
    site_name: str = ""
    work_item_id: UUID | None
    topic: Topic
    text: str
    contact: str
    received_at: datetime
    status: ComplaintState
    order_id: UUID | None
    dismiss_reason: str
    triaged_by: UUID | None
    triaged_at: datetime | None
    photos: list[str] = []


class ComplaintPage(Output, kw_only=True):
    items: list[ComplaintOut]
    total: int
    new: int


class ToOrderBody(Input, kw_only=True):
    """Turn the complaint into a rectification order, issued at once to the work's contractor."""

    version: Version | None = None
    kind: OrderKind = OrderKind.quality
    severity: Severity = Severity.general
    description: Annotated[str, Meta(min_length=1, max_length=5000)]
    work_item_id: UUID | None = None
    contractor_id: UUID | None = None
    # defaults to the rule's deadline (rectification/rules.toml); later than that needs a reason
    deadline: datetime | None = None
    deadline_reason: Annotated[str, Meta(max_length=2000)] = ""


class DismissBody(Input, kw_only=True):
    version: Version | None = None
    reason: Annotated[str, Meta(min_length=1, max_length=2000)]


# The public notice (项目公示): names of organisations and people, never a phone number.


class NoticeWork(Output, kw_only=True):
    id: UUID
    name: str
    category: str
    work_type: str
    building: str
    contractor: str
    status: str
    planned_start: date | None
    planned_end: date | None


class NoticePerson(Output, kw_only=True):
    name: str
    role: str
    organisation: str


class Notice(Output, kw_only=True):
    site_id: UUID
    site_name: str
    address: str
    households: int
    building_count: int
    floor_area_m2: float
    project_name: str
    project_code: str
    district: str
    year: int
    project_status: str
    owner: str
    contractors: list[str]
    supervisors: list[str]
    responsible: list[NoticePerson]
    resident_supervisors: list[str]
    work: list[NoticeWork]
    planned_start: date | None
    planned_end: date | None
    work_done: int
    work_total: int
    progress_percent: int
