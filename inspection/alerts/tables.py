"""Alerts, inspection schedules and occurrences, job runs (persistence only; the deliveries and
webhook subscriptions this app's migrations made are in inspection/notifications/outbox_tables.py).

`alert` is written by the scheduler from several processes at once with insert-or-ignore on a
unique key, like the outbox (`notification`); it is a server record and does not sync to tablets.
Schedules and occurrences sync through the write path.
"""

from piccolo.columns import UUID, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspection.projects.tables import Project, Site, User
from inspection.records import SyncColumns


class Alert(Table, tablename="alert"):
    """预警 — one rule reached one threshold for one subject. `key` is unique (see this app's
    migrations): a job that runs twice, or on two processes, creates it once."""

    id = UUID(primary_key=True)
    key = Varchar(length=200)
    rule = Varchar(length=40, index=True)
    subject_table = Varchar(length=60)
    subject_id = UUID(index=True)
    threshold = Integer(default=0)
    project = ForeignKey(references=Project, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    message = Text(default="")
    due_on = Date(null=True, default=None)
    created_at = Timestamptz()


class InspectionSchedule(SyncColumns, Table, tablename="inspection_schedule"):
    """巡检计划 — a recurring inspection: what, how often, which days, from when to when, and who."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    # null: every active site of the project
    site = ForeignKey(references=Site, null=True, default=None, on_delete=OnDelete.restrict)
    title = Varchar(length=200)
    kind = Varchar(length=40)  # safety | scaffold | quality | owner_check | …
    frequency = Varchar(length=20)  # daily | weekly | monthly
    interval = Integer(default=1)
    weekday = Integer(null=True, default=None)  # 0 = Monday, for weekly
    day_of_month = Integer(null=True, default=None)  # for monthly; short months use their last day
    working_days_only = Boolean(default=False)
    starts_on = Date()
    ends_on = Date(null=True, default=None)
    inspector = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    # when no inspector is named: every member with this role
    role = Varchar(length=30, default="")
    active = Boolean(default=True)


class InspectionOccurrence(SyncColumns, Table, tablename="inspection_occurrence"):
    """One due inspection of a schedule on one site and day; syncs to the inspector's tablet.
    Unique per (schedule, site, due_on)."""

    id = UUID(primary_key=True)
    schedule = ForeignKey(references=InspectionSchedule, null=False, on_delete=OnDelete.restrict, index=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    site = ForeignKey(references=Site, null=False, on_delete=OnDelete.restrict)
    due_on = Date(index=True)
    inspector = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    role = Varchar(length=30, default="")
    status = Varchar(length=20, default="due", index=True)  # due | fulfilled | missed
    inspection_id = UUID(null=True, default=None)
    fulfilled_at = Timestamptz(null=True, default=None)


class SchedulerRun(Table, tablename="scheduler_run"):
    """One run of one job by one process: what it did, or that another process held the job."""

    id = UUID(primary_key=True)
    job = Varchar(length=60, index=True)
    worker = Varchar(length=100)
    started_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)
    status = Varchar(length=20)  # ok | locked | failed
    created = Integer(default=0)
    detail = Text(default="")
