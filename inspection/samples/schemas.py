"""Request and response shapes for material batches, samples, results, retests and dispositions
(msgspec Structs)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from msgspec import UNSET, Meta, UnsetType

from inspection.projects.schemas import Input, Output, Synced, Version, row_to
from inspection.samples.rules import BatchStatus, Decision, DispositionKind, InPlaceMethod, Verdict

Short = Annotated[str, Meta(max_length=200)]
Code = Annotated[str, Meta(min_length=1, max_length=60)]
LabelCode = Annotated[str, Meta(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.\-/]+$")]
Note = Annotated[str, Meta(max_length=2000)]
Sha256 = Annotated[str, Meta(min_length=64, max_length=64)]
Files = Annotated[list[Sha256], Meta(max_length=50)]
Sets = Annotated[int, Meta(ge=1, le=100)]
SetNo = Annotated[int, Meta(ge=1, le=100)]


# C30, M7.5: the grade a concrete or mortar lot is judged by
Grade = Annotated[str, Meta(min_length=2, max_length=10, pattern=r"^[A-Z][A-Za-z]?[0-9]+(\.[0-9]+)?$")]


class PortionIn(Input, kw_only=True):
    """Concrete placed on one floor in one work shift (GB 50204 §7.4.1 samples each)."""

    floor: Annotated[str, Meta(min_length=1, max_length=40)]
    shift: Annotated[str, Meta(min_length=1, max_length=60)]
    volume: Decimal
    # 盘数, when the plant reports it: one sample per 100 batches as well as per 100 m³
    mixer_batches: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None


Portions = Annotated[list[PortionIn], Meta(max_length=200)]


class BatchCreate(Input, kw_only=True):
    id: UUID | None = None
    project_id: UUID
    material: Code
    specification: Short = ""
    manufacturer: Short = ""
    batch_number: Annotated[str, Meta(max_length=100)] = ""
    quantity: Decimal
    unit: Annotated[str, Meta(min_length=1, max_length=20)]
    arrival_date: date
    work_item_id: UUID | None = None
    site_id: UUID | None = None
    # defaults to the work item's contractor, or the acting contractor's own organisation
    contractor_id: UUID | None = None
    continuous_pour: bool = False
    # concrete: the parts placed per floor and work shift; they must add up to the quantity
    portions: Portions = []
    # concrete and mortar: C30, M7.5 … (defaults to the material's grade in rules.toml)
    strength_grade: Grade | None = None
    # 合格证 / 出厂检验报告: evidence announced through /api/v1/evidence/uploads
    certificates: Files = []
    note: Note = ""


class BatchUpdate(Input, kw_only=True):
    """A correction of what was logged. Quantity, unit and the continuous-pour flag change only
    before the first sample (they decide the plan); the material never (log a new batch)."""

    version: Version
    specification: Short | UnsetType = UNSET
    manufacturer: Short | UnsetType = UNSET
    batch_number: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    quantity: Decimal | UnsetType = UNSET
    unit: Annotated[str, Meta(min_length=1, max_length=20)] | UnsetType = UNSET
    continuous_pour: bool | UnsetType = UNSET
    portions: Portions | UnsetType = UNSET
    strength_grade: Grade | UnsetType = UNSET
    arrival_date: date | UnsetType = UNSET
    note: Note | UnsetType = UNSET


class CertificatesBody(Input, kw_only=True):
    certificates: Annotated[list[Sha256], Meta(min_length=1, max_length=50)]


class SampleCreate(Input, kw_only=True):
    id: UUID | None = None
    # printable label; made by the server when left out
    label_code: LabelCode | None = None
    sets: Sets = 1
    taken_at: datetime | None = None
    taken_by_id: UUID | None = None
    witness_id: UUID | None = None
    lab_id: UUID
    lab_report_number: Annotated[str, Meta(max_length=100)] = ""
    report: Sha256 | None = None
    note: Note = ""


class RetestCreate(Input, kw_only=True):
    id: UUID | None = None
    label_code: LabelCode | None = None
    # defaults to the rule's factor (2) times the failed sample's sets
    sets: Sets | None = None
    taken_at: datetime | None = None
    taken_by_id: UUID | None = None
    witness_id: UUID | None = None
    lab_id: UUID
    lab_report_number: Annotated[str, Meta(max_length=100)] = ""
    report: Sha256 | None = None
    note: Note = ""


class ResultIn(Input, kw_only=True):
    test_item: Code
    set_no: SetNo = 1
    value: Decimal
    # defaults to the test item's unit; a different one is refused
    unit: Annotated[str, Meta(max_length=30)] | None = None


class ResultsBody(Input, kw_only=True):
    results: Annotated[list[ResultIn], Meta(min_length=1, max_length=500)]
    lab_report_number: Annotated[str, Meta(max_length=100)] | None = None
    report: Sha256 | None = None


class DispositionCreate(Input, kw_only=True):
    """退场 / 销毁 of a rejected batch; for a failed concrete or mortar lot, which is in the structure,
    the in-place test (`in_place_testing`, with its method, lab, report and estimated strength) or
    the designer's check (`design_check`), and the decision taken on it."""

    id: UUID | None = None
    kind: DispositionKind
    witnessed_by_id: UUID
    # photos, the test or check report: at least one
    evidence: Annotated[list[Sha256], Meta(min_length=1, max_length=50)]
    disposed_at: datetime | None = None
    quantity: Decimal | None = None
    decision: Decision | None = None
    method: InPlaceMethod | None = None
    # the lab that tested in place, or the designer that checked
    examiner_id: UUID | None = None
    report_number: Annotated[str, Meta(max_length=100)] = ""
    estimated_strength: Decimal | None = None
    note: Note = ""


class FileOut(Output, kw_only=True):
    sha256: str
    status: str
    pending: bool
    content_type: str = ""


class PortionOut(Output, kw_only=True):
    floor: str
    shift: str
    volume: float
    mixer_batches: int | None = None
    # the sets this floor and shift need
    sets: int = 0


class BatchOut(Synced, kw_only=True):
    id: UUID
    project_id: UUID
    site_id: UUID | None
    work_item_id: UUID | None
    contractor_id: UUID
    contractor_name: str | None = None
    material: str
    material_name: str
    specification: str
    manufacturer: str
    batch_number: str
    quantity: float
    unit: str
    continuous_pour: bool
    portions: list[PortionOut] = []
    strength_grade: str = ""
    arrival_date: date
    required_sets: int
    status: BatchStatus
    status_reason: str
    decided_at: datetime | None
    # rejected and not yet disposed: must leave the site
    flagged: bool
    rectification_order_id: UUID | None
    note: str
    certificates: list[FileOut] = []


class BatchPage(Output, kw_only=True):
    items: list[BatchOut]
    total: int
    limit: int
    offset: int


class ResultOut(Synced, kw_only=True):
    id: UUID
    sample_id: UUID
    test_item: str
    test_item_name: str
    set_no: int
    value: float
    unit: str
    limits: str
    passed: bool
    recorded_at: datetime
    recorded_by_id: UUID | None


class SampleOut(Synced, kw_only=True):
    id: UUID
    batch_id: UUID
    project_id: UUID
    label_code: str
    sets: int
    test_items: list[str]
    taken_at: datetime
    taken_by_id: UUID | None
    witness_id: UUID | None
    witnessed: bool
    lab_id: UUID
    lab_name: str | None = None
    lab_report_number: str
    is_retest: bool
    retest_of: UUID | None
    verdict: Verdict
    judged_at: datetime | None
    failed_items: list[str]
    note: str
    report: list[FileOut] = []
    results: list[ResultOut] = []


class RetestNeedOut(Output, kw_only=True):
    failed_sample_id: UUID
    allowed: bool
    items: list[str]
    never_retested: list[str]
    sets_required: int
    sets_taken: int


class SpecimenOut(Output, kw_only=True):
    code: str
    name: str
    # specimens the required sets call for (rebar 100 t: 3 tensile, 3 bend, 5 weighed)
    count: int
    test_items: list[str]


class LotOut(Output, kw_only=True):
    """How the batch's sets are judged together (concrete GB/T 50107 §5, mortar GB 50203 §4.0.12)."""

    strength_grade: str
    # statistical | non_statistical | mortar
    method: str
    sets: int
    mean: float
    minimum: float
    sd: float | None
    mean_required: float
    minimum_required: float
    passed: bool
    reasons: list[str]
    text: str


class PlanOut(Output, kw_only=True):
    batch_id: UUID
    material: str
    quantity: float
    unit: str
    continuous_pour: bool
    required: int
    taken: int
    missing: int
    witnessed: int
    witness_required: bool
    retests: list[RetestNeedOut]
    status: BatchStatus
    status_reason: str
    plan_source: str
    plan_unverified: bool
    specimens: list[SpecimenOut] = []
    portions: list[PortionOut] = []
    # the lot's evaluation once every required set has its result (concrete, mortar)
    lot: LotOut | None = None


class DispositionOut(Synced, kw_only=True):
    id: UUID
    batch_id: UUID
    kind: DispositionKind
    quantity: float
    disposed_at: datetime
    witnessed_by_id: UUID
    recorded_by_id: UUID | None
    note: str
    decision: str = ""
    method: str = ""
    examiner_id: UUID | None = None
    report_number: str = ""
    estimated_strength: float | None = None
    evidence: list[FileOut] = []


class FilingOut(Synced, kw_only=True):
    id: UUID
    batch_id: UUID
    project_id: UUID
    contractor_id: UUID
    authority_id: UUID | None
    material: str
    failed_items: list[str]
    sample_id: UUID | None
    rectification_order_id: UUID | None
    filed_at: datetime
    status: str
    disposition_id: UUID | None
    closed_at: datetime | None
    description: str


class BatchDetail(Output, kw_only=True):
    batch: BatchOut
    plan: PlanOut
    samples: list[SampleOut]
    disposition: DispositionOut | None
    filing: FilingOut | None


class SampleDetail(Output, kw_only=True):
    sample: SampleOut
    batch: BatchOut


class WitnessRow(Output, kw_only=True):
    material: str
    material_name: str
    witness_required: bool
    batches: int
    required: int
    taken: int
    witnessed: int
    needed: int
    ratio: float | None
    shortfall: int
    met: bool


class WitnessRatioOut(Output, kw_only=True):
    project_id: UUID
    min_share: float
    materials: list[WitnessRow]
    # materials whose witnessed sets fall short of the share
    shortfalls: list[str]


class SummaryOut(Output, kw_only=True):
    """A project's materials at a glance."""

    project_id: UUID
    batches: int
    by_status: dict[str, int]
    # rejected and not yet disposed of: still on site
    flagged: int
    samples_awaiting_result: int
    witness_shortfalls: list[str]


class TestItemOut(Output, kw_only=True):
    code: str
    name: str
    unit: str
    min: float | None
    max: float | None
    retest: bool
    source: str
    confidence: str
    unverified: bool
    # judged with the lot's other sets, not by a limit of its own
    by_lot: bool = False


class MaterialOut(Output, kw_only=True):
    code: str
    name: str
    grade: str
    unit: str
    witness_required: bool
    specimens_per_set: int
    specimens_note: str
    plan_method: str
    plan_source: str
    plan_confidence: str
    plan_unverified: bool
    retest_factor: int
    items: list[TestItemOut]
    # judged as an acceptance lot (gb50107, gb50203) and by which grades; in the structure: a
    # failed batch is tested in place instead of leaving the site
    lot_method: str | None = None
    grades: list[str] = []
    in_structure: bool = False


class MaterialsOut(Output, kw_only=True):
    witness_min_share: float
    materials: list[MaterialOut]


_FK_OUT = {
    "project": "project_id",
    "site": "site_id",
    "work_item": "work_item_id",
    "contractor": "contractor_id",
    "batch": "batch_id",
    "sample": "sample_id",
    "taken_by": "taken_by_id",
    "witness": "witness_id",
    "lab": "lab_id",
    "recorded_by": "recorded_by_id",
    "witnessed_by": "witnessed_by_id",
    "authority": "authority_id",
    "rectification_order": "rectification_order_id",
    "disposition": "disposition_id",
    "examiner": "examiner_id",
}


def from_row(row: dict[str, Any], out: type[Any], **extra: Any) -> Any:
    """A table row (plus computed fields) as an output Struct."""
    return row_to(row, out, _FK_OUT, **extra)
