"""Request and response shapes of programme supervision (msgspec Structs)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, UnsetType

from inspection.programme.rules import AreaLevel, OfficeRole
from inspection.projects.schemas import Input, LongText, Name, Output, Synced, Version, Year

AreaCode = Annotated[str, Meta(max_length=12, pattern=r"^[0-9]*$")]
Reason = Annotated[str, Meta(min_length=1, max_length=2000)]
Score = Annotated[int, Meta(ge=1, le=5)]
Unit = Annotated[int, Meta(ge=1, le=99)]
Room = Annotated[str, Meta(min_length=1, max_length=10)]
Comment = Annotated[str, Meta(max_length=2000)]
MonthText = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}$", examples=["2026-03"])]
BatchNumber = Annotated[int, Meta(ge=1, le=99)]


# Areas, programmes, batches, placements


class AreaCreate(Input, kw_only=True):
    id: UUID | None = None
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    level: AreaLevel
    parent_id: UUID | None = None
    code: AreaCode = ""


class AreaOut(Synced, kw_only=True):
    id: UUID
    name: str
    level: AreaLevel
    parent_id: UUID | None
    code: str


class ProgrammeCreate(Input, kw_only=True):
    id: UUID | None = None
    name: Name
    area_id: UUID
    year: Year
    survey_during_works: bool = False
    description: LongText = ""


class ProgrammeUpdate(Input, kw_only=True):
    version: Version
    name: Name | UnsetType = UNSET
    status: Annotated[str, Meta(pattern=r"^(active|closed)$")] | UnsetType = UNSET
    survey_during_works: bool | UnsetType = UNSET
    description: LongText | UnsetType = UNSET


class ProgrammeBatchCreate(Input, kw_only=True):
    id: UUID | None = None
    number: BatchNumber
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    planned_start: date | None = None
    planned_end: date | None = None


class BatchOut(Synced, kw_only=True):
    id: UUID
    programme_id: UUID
    number: int
    name: str
    planned_start: date | None
    planned_end: date | None


class ProgrammeOut(Synced, kw_only=True):
    id: UUID
    name: str
    area_id: UUID
    area_name: str = ""
    year: int
    status: str
    survey_during_works: bool
    description: str
    batches: list[BatchOut] = []
    projects: int = 0
    # what the reader may do here: read | street | manage
    access: str = "read"


class PlacementIn(Input, kw_only=True):
    programme_id: UUID
    area_id: UUID
    batch_id: UUID | None = None


class PlacementOut(Output, kw_only=True):
    project_id: UUID
    project_code: str
    project_name: str
    programme_id: UUID
    batch_id: UUID | None
    batch_name: str = ""
    area_id: UUID
    area_name: str = ""
    version: int


class PlacementPage(Output, kw_only=True):
    items: list[PlacementOut]
    unplaced: list[UUID] = []


# Area offices


class OfficeCreate(Input, kw_only=True):
    user_id: UUID
    area_id: UUID
    role: OfficeRole
    title: Annotated[str, Meta(max_length=100)] = ""


class OfficeOut(Output, kw_only=True):
    id: UUID
    user_id: UUID
    display_name: str = ""
    area_id: UUID
    area_name: str = ""
    role: OfficeRole
    title: str
    projects: int = 0


# Evaluation


class IndicatorInfo(Output, kw_only=True):
    code: str
    name: str
    short: str = ""
    unit: str
    measure: str
    weight: str
    full_at: str
    zero_at: str


class IndicatorOut(Output, kw_only=True):
    value: str | None
    points: str | None
    hits: int = 0
    count: int = 0
    amount: str | None = None
    sites: int = 0


class SubjectOut(Output, kw_only=True):
    kind: str
    id: UUID
    name: str
    level: str = ""
    sites: int
    score: str | None
    grade: str
    rank: int | None
    capped_by: list[str] = []
    indicators: dict[str, IndicatorOut]


class EvaluationOut(Output, kw_only=True):
    programme_id: UUID
    programme_name: str
    month: str
    # live: computed now from the records; finalised: the frozen figures of `revision`
    status: str
    revision: int | None = None
    finalised_at: datetime | None = None
    finalised_by: str = ""
    reason: str = ""
    as_of: datetime
    # finalised months: whether the records would give other figures today
    differs_from_records: bool | None = None
    indicators: list[IndicatorInfo]
    subjects: list[SubjectOut]


class FinaliseBody(Input, kw_only=True):
    note: Annotated[str, Meta(max_length=2000)] = ""


class EvaluationReviseBody(Input, kw_only=True):
    """A correction of a finalised month: figures recomputed from the records now, with the reason."""

    reason: Reason


class RevisionOut(Output, kw_only=True):
    revision: int
    current: bool
    finalised_at: datetime
    finalised_by: str
    reason: str
    content_sha256: str


class DrillRow(Output, kw_only=True):
    """One record behind an indicator: what it is, where, and how it counted."""

    record_table: str
    record_id: UUID | None
    label: str
    site: str = ""
    contractor: str = ""
    at: datetime | None = None
    counted: str = ""


class DrillOut(Output, kw_only=True):
    indicator: str
    indicator_name: str
    subject_kind: str
    subject_id: UUID
    subject_name: str
    month: str
    rows: list[DrillRow]
    truncated: bool = False


# Credit


class CreditMonth(Output, kw_only=True):
    month: str
    grade: str
    score: str | None = None


class CreditEntry(Output, kw_only=True):
    organisation_id: UUID
    name: str
    kind: str
    months: list[CreditMonth]


class CreditLists(Output, kw_only=True):
    """推荐名录 and 重点关注名单 as of the latest finalised month: names, grades and months only."""

    as_of: str | None
    recommended: list[CreditEntry]
    watch: list[CreditEntry]
    recommended_rule: str
    watch_rule: str


# Surveys


class SurveyIn(Input, kw_only=True):
    building_id: UUID
    unit: Unit
    room: Room
    overall: Score
    answers: dict[Annotated[str, Meta(max_length=40)], Score] = {}
    comment: Comment = ""


class PaperSurveyIn(SurveyIn, kw_only=True):
    """A paper form entered by street or community staff."""

    form_number: Annotated[str, Meta(max_length=40)] = ""


class SurveyReceipt(Output, kw_only=True):
    received_at: datetime
    replaced: bool


class CategoryResult(Output, kw_only=True):
    code: str
    text: str
    answers: int
    average: str | None


class SurveyResults(Output, kw_only=True):
    """Counts, averages and shares only: never a household's own answer."""

    scope: str  # site | project | contractor
    id: UUID
    name: str
    answers: int
    households: int
    response_rate: str | None
    overall_average: str | None
    satisfied_share: str | None
    categories: list[CategoryResult]


class SurveyAnswerOut(Output, kw_only=True):
    id: UUID
    site_id: UUID
    building: str
    unit: int
    room: str
    overall: int
    answers: dict[str, int]
    comment: str
    channel: str
    stage: str
    received_at: datetime
    form_number: str
    replaced: int


class SurveyAnswerPage(Output, kw_only=True):
    items: list[SurveyAnswerOut]
    total: int


# Daily digest


class NamedCount(Output, kw_only=True):
    name: str
    count: int


class DigestOut(Output, kw_only=True):
    area_id: UUID
    area_name: str
    day: date
    projects: int
    inspections: int
    failed_items: int
    by_hazard: list[NamedCount]
    major_hazards: int
    stop_work_orders: int
    new_orders: int
    overdue_orders: int
    new_by_contractor: list[NamedCount]
    overdue_by_contractor: list[NamedCount]
    hold_points_waiting: int
    complaints: int
    message: str


class WeeklyOut(Output, kw_only=True):
    programme_id: UUID
    programme_name: str
    monday: date
    sunday: date
    as_of: datetime
    indicators: list[IndicatorInfo]
    subjects: list[SubjectOut]


__all__ = ["MonthText"]
