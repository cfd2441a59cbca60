"""Request and response shapes for rectification orders, stops and notifications (msgspec Structs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from msgspec import Meta

from inspection.deadlines import Deadline
from inspection.projects.schemas import Input, Output, Synced, Version, row_to
from inspection.rectification.rules import OrderKind, OrderState, Severity, Source

Text = Annotated[str, Meta(max_length=5000)]
Reason = Annotated[str, Meta(min_length=1, max_length=2000)]
Note = Annotated[str, Meta(max_length=2000)]
Sha256 = Annotated[str, Meta(min_length=64, max_length=64)]
Photos = Annotated[list[Sha256], Meta(max_length=50)]
TableName = Annotated[str, Meta(min_length=1, max_length=60, pattern=r"^[a-z_]+$")]


class OrderCreate(Input, kw_only=True):
    id: UUID | None = None
    project_id: UUID
    site_id: UUID | None = None
    building_id: UUID | None = None
    work_item_id: UUID | None = None
    kind: OrderKind
    severity: Severity = Severity.general
    source: Source = Source.manual
    source_table: TableName | None = None
    source_id: UUID | None = None
    description: Annotated[str, Meta(min_length=1, max_length=5000)]
    photos: Photos = []
    # defaults to the work item's contractor
    contractor_id: UUID | None = None
    # defaults to the rule's deadline (rules.toml) when the order is issued
    deadline: Deadline | None = None
    deadline_reason: Note = ""
    # issue at once instead of saving a draft
    issue: bool = False


class IssueBody(Input, kw_only=True):
    version: Version | None = None
    deadline: Deadline | None = None
    deadline_reason: Note = ""
    reason: Note = ""


class NoticeIssue(Input, kw_only=True):
    """Issue drafts of one inspection to one contractor as ONE 整改通知单: one number, one deadline."""

    order_ids: Annotated[list[UUID], Meta(min_length=1, max_length=200)]
    deadline: Deadline
    deadline_reason: Note = ""
    reason: Note = ""
    id: UUID | None = None


class DraftEdit(Input, kw_only=True):
    version: Version | None = None
    description: Annotated[str, Meta(min_length=1, max_length=5000)]
    severity: Severity = Severity.general


class RespondBody(Input, kw_only=True):
    version: Version | None = None
    id: UUID | None = None
    text: Text = ""
    photos: Photos = []


class AcceptBody(Input, kw_only=True):
    version: Version | None = None
    note: Note = ""


class RejectBody(Input, kw_only=True):
    version: Version | None = None
    reason: Reason
    deadline: Deadline
    deadline_reason: Note = ""


class CancelBody(Input, kw_only=True):
    version: Version | None = None
    reason: Reason


class ResumeBody(Input, kw_only=True):
    version: Version | None = None
    note: Note = ""


class PhotoOut(Output, kw_only=True):
    sha256: str
    status: str
    pending: bool
    content_type: str = ""


class OrderOut(Synced, kw_only=True):
    id: UUID
    project_id: UUID
    site_id: UUID | None
    building_id: UUID | None
    work_item_id: UUID | None
    kind: OrderKind
    severity: Severity
    source: Source
    source_table: str | None
    source_id: UUID | None
    description: str
    contractor_id: UUID
    contractor_name: str | None = None
    issuer_id: UUID | None
    issuer_organisation_id: UUID | None
    status: OrderState
    issued_at: datetime | None
    deadline: datetime | None
    deadline_reason: str
    deadline_round: int
    closed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str
    overdue: bool
    photos: list[PhotoOut] = []
    # the 整改通知单 it went out under with other orders (none: issued alone, or a draft)
    notice_id: UUID | None = None
    notice_number: str | None = None


class ResponseOut(Synced, kw_only=True):
    id: UUID
    order_id: UUID
    round: int
    text: str
    responder_id: UUID | None
    responded_at: datetime
    # the device's own time of an answer made offline (evidence, not order)
    device_responded_at: datetime | None = None
    late: bool
    review: str
    reviewed_by_id: UUID | None
    reviewed_at: datetime | None
    review_note: str
    photos: list[PhotoOut] = []


class EventOut(Output, kw_only=True):
    id: UUID
    action: str
    from_state: str | None
    to_state: str
    actor_id: UUID | None
    actor_organisation_id: UUID | None
    at: datetime
    reason: str
    deadline: datetime | None
    response_id: UUID | None


class StopOut(Synced, kw_only=True):
    id: UUID
    project_id: UUID
    site_id: UUID
    work_item_id: UUID | None
    order_id: UUID
    contractor_id: UUID
    started_at: datetime
    started_by_id: UUID | None
    resumed_at: datetime | None
    resumed_by_id: UUID | None
    resume_note: str
    active: bool


class OrderDetail(Output, kw_only=True):
    order: OrderOut
    responses: list[ResponseOut]
    history: list[EventOut]
    stops: list[StopOut]


class NoticeOut(Synced, kw_only=True):
    id: UUID
    project_id: UUID
    inspection_id: UUID | None
    contractor_id: UUID
    contractor_name: str | None = None
    kind: OrderKind
    number: str
    deadline: datetime
    deadline_reason: str
    issued_at: datetime
    issued_by_id: UUID | None
    issuer_organisation_id: UUID | None


class NoticeDetail(Output, kw_only=True):
    """One 整改通知单 and the orders (failed items) it lists, each as its reader may see it."""

    notice: NoticeOut
    orders: list[OrderOut]


class OrderPage(Output, kw_only=True):
    items: list[OrderOut]
    total: int
    limit: int
    offset: int


class Counts(Output, kw_only=True):
    open: int
    overdue: int
    closed: int
    cancelled: int
    drafts: int
    average_days_to_close: float | None


class ContractorCounts(Counts, kw_only=True):
    contractor_id: UUID
    contractor_name: str | None


class CountsOut(Output, kw_only=True):
    project_id: UUID | None
    totals: Counts
    contractors: list[ContractorCounts]


class StopPage(Output, kw_only=True):
    items: list[StopOut]


class EscalationReport(Output, kw_only=True):
    at: datetime
    orders_checked: int
    notifications_created: int


# Foreign-key columns are named after the thing they point to; the API calls them *_id.
_FK_OUT = {
    "project": "project_id",
    "site": "site_id",
    "building": "building_id",
    "work_item": "work_item_id",
    "contractor": "contractor_id",
    "issuer": "issuer_id",
    "issuer_organisation": "issuer_organisation_id",
    "order": "order_id",
    "responder": "responder_id",
    "reviewed_by": "reviewed_by_id",
    "actor": "actor_id",
    "actor_organisation": "actor_organisation_id",
    "response": "response_id",
    "started_by": "started_by_id",
    "resumed_by": "resumed_by_id",
    "recipient_user": "recipient_user_id",
    "recipient_organisation": "recipient_organisation_id",
    "notice": "notice_id",
    "inspection": "inspection_id",
    "issued_by": "issued_by_id",
}


def from_row(row: dict[str, Any], out: type[Any], **extra: Any) -> Any:
    """A table row (plus computed fields) as an output Struct."""
    return row_to(row, out, _FK_OUT, **extra)
