"""Checklist templates, inspections, answers and supervision point states (persistence only;
the rules are in templates.py, scoring.py and supervision.py)."""

from piccolo.columns import UUID, BigInt, Boolean, ForeignKey, Integer, Real, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspection.projects.tables import Building, Organisation, Project, Site, User, WorkItem
from inspection.records import SyncColumns


class ChecklistTemplate(SyncColumns, Table, tablename="checklist_template"):
    """检查表模板 — one imported, immutable version of a checklist. A changed file makes a new
    version; an inspection keeps the version it was started with."""

    id = UUID(primary_key=True)
    code = Varchar(length=80, index=True)
    # the n-th content of this code (`version` itself is the sync change sequence of SyncColumns)
    version_number = Integer()
    kind = Varchar(length=20)  # safety | quality | passfail
    title = Varchar(length=200)
    standard = Varchar(length=200, default="")
    # the parsed template as canonical JSON; its SHA-256 names the version
    content = Text()
    content_sha256 = Varchar(length=64, index=True)
    source_file = Varchar(length=300, default="")
    imported_at = Timestamptz()


class Inspection(SyncColumns, Table, tablename="inspection"):
    """检查记录 — one run of a checklist on a project (and optionally a site, building or work item).
    A draft is the inspector's own; once submitted it never changes: a correction is a new revision."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    site = ForeignKey(references=Site, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    building = ForeignKey(references=Building, null=True, default=None, on_delete=OnDelete.restrict)
    work_item = ForeignKey(references=WorkItem, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    # the work item's contractor when the inspection was started (its sync bucket, its orders)
    contractor = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)
    template = ForeignKey(references=ChecklistTemplate, null=False, on_delete=OnDelete.restrict)
    template_code = Varchar(length=80, index=True)
    template_version = Integer()
    kind = Varchar(length=20)
    supervision_point = Varchar(length=80, default="")
    inspector = ForeignKey(references=User, null=False, on_delete=OnDelete.restrict, index=True)
    status = Varchar(length=20, default="draft", index=True)  # draft | submitted | superseded
    revision = Integer(default=1)
    previous_revision = UUID(null=True, default=None)
    revision_reason = Text(default="")
    started_at_device = Timestamptz(null=True, default=None)
    started_at = Timestamptz()
    submitted_at_device = Timestamptz(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None, index=True)
    # server time minus the tablet's clock, measured by the push that brought the inspection (its
    # submission, or its creation until then): device times plus this are when the inspector
    # worked (检查时间). None when the device's clock was never measured (an API client).
    device_clock_skew_ms = BigInt(null=True, default=None)
    gps_lat = Real(null=True, default=None)
    gps_lng = Real(null=True, default=None)
    gps_accuracy_m = Real(null=True, default=None)
    signature_sha256 = Varchar(length=64, default="")
    lot_size = Integer(null=True, default=None)  # 检验批容量, for quality lots
    score = Text(default="")  # JSON, computed by the server on submit
    total = Real(null=True, default=None)
    grade = Varchar(length=20, default="", index=True)  # 优良 / 合格 / 不合格
    # material batches used by a quality lot (the samples domain's records; plain ids, JSON list)
    material_batch_ids = Text(default="[]")
    # the scheduled occurrence (巡检计划) this inspection carries out: the alerts domain's record
    # (a plain id); submitting the inspection fulfils it
    occurrence_id = UUID(null=True, default=None, index=True)
    note = Text(default="")


class InspectionAnswer(SyncColumns, Table, tablename="inspection_answer"):
    """检查项结果 — the answer to one item of an inspection. Its id is derived from the inspection
    and the item code (see service.answer_id), so a tablet and the server agree without asking."""

    id = UUID(primary_key=True)
    inspection = ForeignKey(references=Inspection, null=False, on_delete=OnDelete.restrict, index=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict)
    item_code = Varchar(length=40)
    value = Varchar(length=20, default="")  # pass | fail | na | yes | no, by answer type
    # JGJ 59: the points taken off as entered (the scorer caps them at the item's points) …
    deduction = Real(null=True, default=None)
    # … and, itemised, each finding with its reason: JSON [{reason, points, count}]
    deductions = Text(default="[]")
    measured = Text(default="")  # JSON list of numbers
    unit = Varchar(length=20, default="")
    checked = Integer(null=True, default=None)
    passed = Integer(null=True, default=None)
    text = Text(default="")
    result = Varchar(length=10, default="")  # pass | fail | na, worked out by the rules
    note = Text(default="")
    flagged = Boolean(default=False)
    # GB 50300 §5.0.1: the inspector found a serious defect (严重缺陷) on the item: the lot fails
    serious_defect = Boolean(default=False)
    # worked out by the rules: the inspector's serious defect, or a deviation beyond the cap
    serious = Boolean(default=False)


class SupervisionPointState(SyncColumns, Table, tablename="supervision_point_state"):
    """监理控制点状态 — where one work item stands at one point of its supervision plan."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    work_item = ForeignKey(references=WorkItem, null=False, on_delete=OnDelete.restrict, index=True)
    plan_code = Varchar(length=80)
    point_code = Varchar(length=80)
    # pending | started | passed | failed
    state = Varchar(length=20, default="pending")
    started_at = Timestamptz(null=True, default=None)
    started_by = UUID(null=True, default=None)
    inspection = UUID(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    # started while an earlier hold point was still open (recorded, not refused, by setting)
    violation = Boolean(default=False)
    violation_order = UUID(null=True, default=None)
    note = Text(default="")
