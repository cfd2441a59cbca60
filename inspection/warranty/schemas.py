"""Request and response shapes for joint acceptance, warranty items and claims (msgspec Structs)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from msgspec import Meta

from inspection.projects.schemas import Input, Output, Synced, row_to
from inspection.warranty.rules import AcceptanceParty, ClaimState

Sha256 = Annotated[str, Meta(min_length=64, max_length=64)]
Photos = Annotated[list[Sha256], Meta(max_length=50)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Note = Annotated[str, Meta(max_length=5000)]
Money = Decimal


class PeriodIn(Input, kw_only=True):
    unit: Literal["years", "months", "seasons"]
    amount: Annotated[int, Meta(ge=0, le=200)]


class ParticipantIn(Input, kw_only=True):
    party: AcceptanceParty
    name: Name
    organisation_id: UUID | None = None
    user_id: UUID | None = None
    signed: bool = False
    # a photo or scan of the signature, cited by SHA-256 (evidence)
    signature: Sha256 | None = None
    opinion: Note = ""


class WorkItemTerms(Input, kw_only=True):
    """What the contract says about one work item's warranty and retention money."""

    work_item_id: UUID
    contract_period: PeriodIn | None = None
    design_life_years: Annotated[int, Meta(ge=1, le=200)] | None = None
    settlement_amount: Money | None = None
    retention_amount: Money | None = None
    defect_liability_months: Annotated[int, Meta(ge=1, le=120)] | None = None


class AcceptanceCreate(Input, kw_only=True):
    id: UUID | None = None
    project_id: UUID
    site_id: UUID | None = None
    accepted_on: date
    result: Literal["passed", "failed"]
    remarks: Note = ""
    city: Annotated[str, Meta(min_length=1, max_length=40)] | None = None
    participants: Annotated[list[ParticipantIn], Meta(max_length=50)]
    photos: Photos = []
    terms: Annotated[list[WorkItemTerms], Meta(max_length=2000)] = []


class ParticipantOut(Synced, kw_only=True):
    id: UUID
    party: str
    name: str
    organisation_id: UUID | None
    user_id: UUID | None
    signed: bool
    opinion: str
    signature: str | None = None


class WarrantyItemOut(Synced, kw_only=True):
    id: UUID
    project_id: UUID
    site_id: UUID
    work_item_id: UUID
    work_item_name: str = ""
    acceptance_id: UUID
    contractor_id: UUID
    contractor_name: str = ""
    work_type: str
    period_rule: str
    period_unit: str
    period_amount: int
    by_contract: bool
    starts_on: date
    ends_on: date
    days_left: int
    expired: bool
    settlement_amount: Decimal
    retention_amount: Decimal
    retention_release_on: date | None
    retention_released_on: date | None


class AcceptanceOut(Synced, kw_only=True):
    id: UUID
    project_id: UUID
    site_id: UUID | None
    accepted_on: date
    result: str
    remarks: str
    city: str
    recorded_by_id: UUID | None
    participants: list[ParticipantOut]
    photos: list[str]
    warranty_items: list[WarrantyItemOut]


class WarrantyPage(Output, kw_only=True):
    items: list[WarrantyItemOut]
    total: int
    limit: int
    offset: int


class RetentionRelease(Input, kw_only=True):
    released_on: date


class ClaimCreate(Input, kw_only=True):
    id: UUID | None = None
    warranty_item_id: UUID
    reporter_party: Literal["resident", "property", "owner"]
    # where the defect is (building, unit, room, spot); required
    location: Annotated[str, Meta(max_length=300)] = ""
    description: Annotated[str, Meta(min_length=1, max_length=5000)]
    photos: Photos = []


class ClaimAnswer(Input, kw_only=True):
    accept: bool
    text: Annotated[str, Meta(min_length=1, max_length=5000)]


class ClaimOut(Synced, kw_only=True):
    id: UUID
    project_id: UUID
    warranty_item_id: UUID
    contractor_id: UUID
    reporter_id: UUID | None
    reporter_party: str
    location: str
    description: str
    reported_at: datetime
    response_due: datetime
    status: ClaimState
    response: str
    responded_at: datetime | None
    order_id: UUID | None
    photos: list[str] = []


class ClaimPage(Output, kw_only=True):
    items: list[ClaimOut]
    total: int


_FK_OUT = {
    "project": "project_id",
    "site": "site_id",
    "work_item": "work_item_id",
    "acceptance": "acceptance_id",
    "contractor": "contractor_id",
    "organisation": "organisation_id",
    "user": "user_id",
    "recorded_by": "recorded_by_id",
    "warranty_item": "warranty_item_id",
    "reporter": "reporter_id",
    "responded_by": "responded_by_id",
}


def cents(amount: Decimal | None) -> int:
    return int((amount or Decimal(0)) * 100)


def from_row(row: dict[str, Any], out: type[Any], **extra: Any) -> Any:
    return row_to(row, out, _FK_OUT, **extra)
