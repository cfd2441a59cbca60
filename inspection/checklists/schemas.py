"""Request and response shapes for templates, inspections, answers and supervision (msgspec Structs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from msgspec import Meta

from inspection.projects.schemas import Input, Output, Synced

Code = Annotated[str, Meta(min_length=1, max_length=80)]
Note = Annotated[str, Meta(max_length=2000)]
Reason = Annotated[str, Meta(min_length=1, max_length=2000)]
Sha256 = Annotated[str, Meta(min_length=64, max_length=64)]
Photos = Annotated[list[Sha256], Meta(max_length=50)]
# a measured value or deviation (mm, %, MPa …): finite and far beyond any real one
Measured = Annotated[float, Meta(ge=-1e9, le=1e9)]


class Gps(Input, kw_only=True):
    lat: Annotated[float, Meta(ge=-90, le=90)]
    lng: Annotated[float, Meta(ge=-180, le=180)]
    accuracy_m: Annotated[float, Meta(ge=0, le=100_000)] | None = None


# Templates


class TemplateOut(Output, kw_only=True):
    id: UUID
    code: str
    version_number: int
    kind: str
    title: str
    standard: str
    content_sha256: str
    imported_at: datetime


class TemplateDetail(TemplateOut, kw_only=True):
    content: dict[str, Any]


# Inspections


class InspectionCreate(Input, kw_only=True):
    # made by the tablet (UUIDv7), so a draft exists offline before the server hears of it
    id: UUID | None = None
    project_id: UUID
    site_id: UUID | None = None
    building_id: UUID | None = None
    work_item_id: UUID | None = None
    # a stored version; or template_code for the latest version of that code
    template_id: UUID | None = None
    template_code: Code | None = None
    supervision_point: Annotated[str, Meta(max_length=80)] = ""
    started_at_device: datetime | None = None
    gps: Gps | None = None
    lot_size: Annotated[int, Meta(ge=1, le=10_000_000)] | None = None
    material_batch_ids: Annotated[list[UUID], Meta(max_length=100)] = []
    # the scheduled occurrence (巡检计划) this inspection carries out, fulfilled when it is
    # submitted; without one, submission fulfils the open occurrence it matches (see the service)
    occurrence_id: UUID | None = None
    note: Note = ""


# points one finding takes off; with its count, one item's findings add up to at most DEDUCTION_MAX
DEDUCTION_MAX = 1000.0


class DeductionIn(Input, kw_only=True):
    """One JGJ 59 finding on an item: why, how many points, how many times (per place, per person)."""

    reason: Annotated[str, Meta(min_length=1, max_length=200)]
    points: Annotated[float, Meta(gt=0, le=DEDUCTION_MAX)]
    count: Annotated[int, Meta(ge=1, le=100)] = 1


class AnswerIn(Input, kw_only=True):
    item_code: Code
    # pass | fail | na for pass/fail items; yes | no for yes/no items; na marks a deduction,
    # measured or count item not applicable
    value: Annotated[str, Meta(max_length=10)] | None = None
    # points deducted (JGJ 59) as found, even above the item's points: the scorer caps them, the
    # record keeps them. With `deductions` it is their sum (given or left out)
    deduction: Annotated[float, Meta(ge=0, le=DEDUCTION_MAX)] | None = None
    # the findings behind the deduction, each with its reason
    deductions: Annotated[list[DeductionIn], Meta(max_length=50)] | None = None
    measured: Annotated[list[Measured], Meta(max_length=500)] | None = None
    unit: Annotated[str, Meta(max_length=20)] | None = None
    checked: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None
    passed: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None
    text: Annotated[str, Meta(max_length=5000)] | None = None
    note: Note = ""
    flagged: bool = False
    # GB 50300 §5.0.1: a serious defect (严重缺陷) on a quality item fails the lot whatever its share
    serious_defect: bool = False
    photos: Photos = []


class AnswersBody(Input, kw_only=True):
    answers: Annotated[list[AnswerIn], Meta(min_length=1, max_length=500)]


class SubmitBody(Input, kw_only=True):
    # the inspector's signature image, uploaded or announced as evidence of this project
    signature_sha256: Sha256
    submitted_at_device: datetime | None = None
    gps: Gps | None = None
    # accepted for old tablets and ignored: the server computes the score from the answers
    score: Any = None


class ReviseBody(Input, kw_only=True):
    reason: Reason
    # the new revision's id, made by the client if it wants to
    id: UUID | None = None


class AnswerOut(Synced, kw_only=True):
    id: UUID
    inspection: UUID
    item_code: str
    value: str
    deduction: float | None
    deductions: list[DeductionIn] = []
    measured: list[float]
    unit: str
    checked: int | None
    passed: int | None
    text: str
    result: str
    note: str
    flagged: bool
    serious_defect: bool = False
    serious: bool
    photos: list[str] = []


class InspectionOut(Synced, kw_only=True):
    id: UUID
    project: UUID
    site: UUID | None
    building: UUID | None
    work_item: UUID | None
    contractor: UUID | None
    template: UUID
    template_code: str
    template_version: int
    kind: str
    supervision_point: str
    inspector: UUID
    status: str
    revision: int
    previous_revision: UUID | None
    revision_reason: str
    started_at_device: datetime | None
    started_at: datetime
    submitted_at_device: datetime | None
    submitted_at: datetime | None
    gps_lat: float | None
    gps_lng: float | None
    gps_accuracy_m: float | None
    signature_sha256: str
    lot_size: int | None
    total: float | None
    grade: str
    material_batch_ids: list[UUID]
    occurrence_id: UUID | None = None
    note: str
    device_clock_skew_ms: int | None = None
    # 检查时间: the device's started and submitted times corrected by its measured clock skew
    # (the server's own times where the device gave none)
    inspected_from: datetime | None = None
    inspected_to: datetime | None = None


class OrderRef(Output, kw_only=True):
    id: UUID
    kind: str
    severity: str
    status: str
    source_id: UUID | None
    description: str


class InspectionDetail(Output, kw_only=True):
    inspection: InspectionOut
    answers: list[AnswerOut]
    score: dict[str, Any] | None
    orders: list[OrderRef] = []
    warnings: list[str] = []


class InspectionPage(Output, kw_only=True):
    items: list[InspectionOut]
    total: int
    limit: int
    offset: int


class TrendPoint(Output, kw_only=True):
    inspection: UUID
    template_code: str
    submitted_at: datetime
    total: float | None
    grade: str


class SiteSafety(Output, kw_only=True):
    site: UUID
    total: float | None
    grade: str
    lines: dict[str, Any]


class ProjectSummary(Output, kw_only=True):
    project: UUID
    by_status: dict[str, int]
    by_grade: dict[str, int]
    by_kind: dict[str, int]
    trend: list[TrendPoint]
    failures_by_hazard: dict[str, int]
    major_hazard_failures: int
    site_safety: list[SiteSafety]


# Supervision


class PointOut(Output, kw_only=True):
    code: str
    kind: str
    title: str
    template_code: str
    photos_required: bool
    state: str
    # who takes part besides the supervisor and the contractor (utility, special_equipment_institute …)
    participants: list[str] = []
    # the work item is not handed over until this hold point has passed
    blocks_handover: bool = False
    violation: bool = False
    inspection: UUID | None = None
    started_at: datetime | None = None
    decided_at: datetime | None = None


class ProgressOut(Output, kw_only=True):
    work_item: UUID
    work_type: str
    plan_code: str | None
    points: list[PointOut]
    current: str | None
    waiting_hold_points: list[str]


class StartBody(Input, kw_only=True):
    note: Note = ""


class ProjectPoints(Output, kw_only=True):
    project: UUID
    work_items: list[ProgressOut]
    waiting_hold_points: list[dict[str, Any]]
