"""Material batches, samples, lab results, dispositions and filings (persistence only; the rules
are in rules.py). Certificates, lab reports and disposition photos are evidence links."""

from piccolo.columns import UUID, Boolean, Date, ForeignKey, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspection.projects.tables import Organisation, Project, Site, User, WorkItem
from inspection.records import SyncColumns
from inspection.rectification.tables import RectificationOrder


class MaterialBatch(SyncColumns, Table, tablename="material_batch"):
    """原材料进场批次 — one delivery of one material (grade, maker, batch number) for a work item.
    `status` is moved only by the service from the samples' verdicts (see rules.batch_outcome)."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    site = ForeignKey(references=Site, null=True, default=None, on_delete=OnDelete.restrict)
    work_item = ForeignKey(references=WorkItem, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    contractor = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.restrict, index=True)
    material = Varchar(length=40, index=True)
    specification = Varchar(length=200, default="")
    manufacturer = Varchar(length=200, default="")
    batch_number = Varchar(length=100, default="")
    quantity = Numeric(digits=(14, 3))
    unit = Varchar(length=20)
    # only concrete: one continuous pour (GB/T 50107's > 1000 m³ rule)
    continuous_pour = Boolean(default=False)
    # only concrete: the parts placed per floor and work shift (GB 50204 §7.4.1), a JSON list of
    # {floor, shift, volume, mixer_batches}; empty: one floor in one shift
    portions = Text(default="[]")
    # concrete and mortar: the grade their acceptance lot is judged by (C30, M7.5)
    strength_grade = Varchar(length=10, default="")
    arrival_date = Date(index=True)
    required_sets = Integer(default=0)
    status = Varchar(length=20, default="awaiting_sampling", index=True)
    status_reason = Text(default="")
    decided_at = Timestamptz(null=True, default=None)
    # the rectification order a rejection opened
    rectification_order = ForeignKey(
        references=RectificationOrder, null=True, default=None, on_delete=OnDelete.restrict
    )
    note = Text(default="")


class Sample(SyncColumns, Table, tablename="sample"):
    """取样 / 送检 — sample sets taken from a batch, possibly in front of a witness (见证取样), sent to
    a lab. `verdict` is computed from the results, never typed in."""

    id = UUID(primary_key=True)
    batch = ForeignKey(references=MaterialBatch, null=False, on_delete=OnDelete.restrict, index=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    contractor = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.restrict)
    label_code = Varchar(length=60)
    sets = Integer(default=1)
    # the test items this sample covers, comma-separated codes of rules.toml (a retest: the failed ones)
    test_items = Text(default="")
    taken_at = Timestamptz(index=True)
    taken_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    witness = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    lab = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.restrict, index=True)
    lab_report_number = Varchar(length=100, default="")
    is_retest = Boolean(default=False)
    retest_of = UUID(null=True, default=None, index=True)
    verdict = Varchar(length=10, default="pending", index=True)
    judged_at = Timestamptz(null=True, default=None)
    note = Text(default="")


class SampleResult(SyncColumns, Table, tablename="sample_result"):
    """检测结果 — one measured value of one test item on one set of a sample (unique per sample,
    item and set: see this app's migrations)."""

    id = UUID(primary_key=True)
    sample = ForeignKey(references=Sample, null=False, on_delete=OnDelete.restrict, index=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict)
    test_item = Varchar(length=60)
    set_no = Integer(default=1)
    value = Numeric(digits=(18, 6))
    unit = Varchar(length=30)
    passed = Boolean()
    recorded_at = Timestamptz()
    recorded_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)


class MaterialDisposition(SyncColumns, Table, tablename="material_disposition"):
    """退场 / 销毁记录 — how a rejected batch left the site, with evidence and who saw it; for a
    failed lot already in the structure (concrete, mortar): 实体检测 or 设计核算 with its report,
    and the decision taken on it (accepted, strengthened, demolished)."""

    id = UUID(primary_key=True)
    batch = ForeignKey(references=MaterialBatch, null=False, on_delete=OnDelete.restrict, index=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict)
    contractor = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.restrict)
    kind = Varchar(length=20)
    quantity = Numeric(digits=(14, 3))
    disposed_at = Timestamptz()
    witnessed_by = ForeignKey(references=User, null=False, on_delete=OnDelete.restrict)
    recorded_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    note = Text(default="")
    # in the structure only: accepted | strengthened | demolished
    decision = Varchar(length=20, default="")
    # in-place testing only: rebound | core | rebound_core | mortar_in_situ
    method = Varchar(length=20, default="")
    # the lab that tested in place, or the designer that checked
    examiner = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)
    report_number = Varchar(length=100, default="")
    # the strength the in-place test estimates for the structure (推定值), MPa
    estimated_strength = Numeric(digits=(10, 2), null=True, default=None)


class MaterialFiling(SyncColumns, Table, tablename="material_filing"):
    """不合格材料备案 — the record the quality station (质监站) gets when a batch is rejected; closed
    when the batch's disposition is recorded."""

    id = UUID(primary_key=True)
    batch = ForeignKey(references=MaterialBatch, null=False, on_delete=OnDelete.restrict, index=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    contractor = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.restrict)
    # the authority organisation(s) of the project it is filed to; null when the project has none yet
    authority = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)
    material = Varchar(length=40)
    failed_items = Text(default="")
    sample = ForeignKey(references=Sample, null=True, default=None, on_delete=OnDelete.restrict)
    rectification_order = ForeignKey(
        references=RectificationOrder, null=True, default=None, on_delete=OnDelete.restrict
    )
    filed_at = Timestamptz()
    status = Varchar(length=20, default="open")  # open | disposed
    disposition = ForeignKey(references=MaterialDisposition, null=True, default=None, on_delete=OnDelete.restrict)
    closed_at = Timestamptz(null=True, default=None)
    description = Text(default="")
