"""Areas, programmes, batches, project placements, area offices, monthly evaluations, credit
grades and residents' survey answers (persistence only; the rules are in rules.py)."""

from typing import Any

from piccolo.columns import UUID, Boolean, Date, ForeignKey, Integer, Real, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspection.projects.tables import Building, Membership, Organisation, Project, Site, User
from inspection.records import SyncColumns


class Area(SyncColumns, Table):
    """行政区划 — a city (市), county or district (县/区), street or town (街道/镇) or community (社区).
    Reference data: every tablet receives the tree."""

    id = UUID(primary_key=True)
    name = Varchar(length=100)
    level = Varchar(length=20, index=True)  # city | county | street | community
    # NO ACTION, not RESTRICT: checked at the end of the statement, so a parent still cannot go
    # while it has children, but one statement may remove a whole subtree
    parent: ForeignKey[Any] = ForeignKey(
        references="self", null=True, default=None, on_delete=OnDelete.no_action, index=True
    )
    # 统计用区划代码 where known (12 digits); empty for an area made from a project's district name
    code = Varchar(length=12, default="")


class Programme(SyncColumns, Table):
    """年度改造计划 — one area's renovation programme for a year (e.g. 长青区 2026 年度)."""

    id = UUID(primary_key=True)
    name = Varchar(length=200)
    area = ForeignKey(references=Area, null=False, on_delete=OnDelete.restrict, index=True)
    year = Integer()
    status = Varchar(length=20, default="active")  # active | closed
    # residents may answer the satisfaction survey while works are still going on, not only after
    # the site's joint acceptance
    survey_during_works = Boolean(default=False)
    description = Text(default="")


class ProgrammeBatch(SyncColumns, Table, tablename="programme_batch"):
    """批次 — a batch of a programme (第一批, 第二批 …), usually one funding allocation."""

    id = UUID(primary_key=True)
    programme = ForeignKey(references=Programme, null=False, on_delete=OnDelete.restrict, index=True)
    number = Integer()
    name = Varchar(length=100)
    planned_start = Date(null=True, default=None)
    planned_end = Date(null=True, default=None)


class ProjectPlacement(SyncColumns, Table, tablename="project_placement"):
    """项目归属 — the programme, batch and area of one project (one placement per project: see the
    unique index in this app's migrations)."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    programme = ForeignKey(references=Programme, null=False, on_delete=OnDelete.restrict, index=True)
    batch = ForeignKey(references=ProgrammeBatch, null=True, default=None, on_delete=OnDelete.restrict)
    area = ForeignKey(references=Area, null=False, on_delete=OnDelete.restrict, index=True)


class AreaOffice(SyncColumns, Table, tablename="area_office"):
    """区域办公室成员 — a person working for an area: the programme office (旧改办 / 住建局) or a street
    or community office (街道办 / 社区). They see every project placed in their area and below."""

    id = UUID(primary_key=True)
    area = ForeignKey(references=Area, null=False, on_delete=OnDelete.restrict, index=True)
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.restrict, index=True)
    role = Varchar(length=30)  # programme_office | street_office
    title = Varchar(length=100, default="")


class OfficeGrant(SyncColumns, Table, tablename="office_grant"):
    """The viewer membership an area office gives its person in one project of its area, so every
    domain's own access rules let them read that project. Removed with the office or when the
    project leaves the area; a membership the person held anyway is never linked here."""

    id = UUID(primary_key=True)
    office = ForeignKey(references=AreaOffice, null=False, on_delete=OnDelete.restrict, index=True)
    membership = ForeignKey(references=Membership, null=False, on_delete=OnDelete.restrict, index=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.restrict)


class EvaluationRevision(SyncColumns, Table, tablename="evaluation_revision"):
    """月度考评 — the frozen figures of one programme's month: revision 1 when the programme office
    finalises it, the next on each correction (with its reason). Earlier revisions are kept; the
    current one is the highest. Unique per (programme, month, revision)."""

    id = UUID(primary_key=True)
    programme = ForeignKey(references=Programme, null=False, on_delete=OnDelete.restrict, index=True)
    month = Varchar(length=7, index=True)  # YYYY-MM, Beijing time
    revision = Integer()
    # the whole evaluation as canonical JSON (every subject's indicators, points, score, grade, rank)
    figures = Text()
    content_sha256 = Varchar(length=64)
    rules_sha256 = Varchar(length=64)
    reason = Text(default="")
    finalised_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    finalised_at = Timestamptz()
    current = Boolean(default=True, index=True)


class CreditGrade(SyncColumns, Table, tablename="credit_grade"):
    """信用评价 — an organisation's grade in one programme's finalised month (its current revision)."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.restrict, index=True)
    programme = ForeignKey(references=Programme, null=False, on_delete=OnDelete.restrict, index=True)
    revision = ForeignKey(references=EvaluationRevision, null=False, on_delete=OnDelete.restrict, index=True)
    month = Varchar(length=7, index=True)
    kind = Varchar(length=20)  # contractor | supervisor
    score = Real(null=True, default=None)
    grade = Varchar(length=10)  # 优秀 | 良好 | 合格 | 不合格 | "" (not graded)
    current = Boolean(default=True, index=True)


class SurveyAnswer(SyncColumns, Table, tablename="survey_answer"):
    """满意度调查答卷 — one household's answer on one site (楼栋-单元-室; a later answer from the same
    household replaces it: unique per site and household). Never synced to tablets; the comment is
    a secret column and the audit log keeps that an answer came, not what it says."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    site = ForeignKey(references=Site, null=False, on_delete=OnDelete.restrict, index=True)
    building = ForeignKey(references=Building, null=False, on_delete=OnDelete.restrict)
    unit = Integer()
    room = Varchar(length=10)
    household = Varchar(length=80)
    overall = Integer()
    # per renovation category: {"roof": 5, "walls": 4, …}; a category left out was not answered
    answers = Text(default="{}")
    comment = Text(default="", secret=True)
    channel = Varchar(length=10)  # online | paper
    stage = Varchar(length=10)  # during | after (the site's joint acceptance)
    received_at = Timestamptz(index=True)
    entered_by = UUID(null=True, default=None)
    form_number = Varchar(length=40, default="")
    replaced = Integer(default=0)
