"""Rectification orders, responses, their history, work stops and the notification outbox
(persistence only; the rules are in rules.py)."""

from piccolo.columns import UUID, BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspection.projects.tables import Building, Organisation, Project, Site, User, WorkItem
from inspection.records import SyncColumns


class RectificationNotice(SyncColumns, Table, tablename="rectification_notice"):
    """整改通知单 covering several orders — the failed items of one inspection addressed to one
    contractor, sent out together under one document number and one deadline. An order without a
    notice is its own 整改通知单, numbered alone."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    # the inspection whose failures it lists; a plain UUID because checklists sits above this app
    inspection = UUID(null=True, default=None, index=True)
    contractor = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=20)
    # ZGTZ-YYYY-NNNNN from the document register, the same sequence as lone orders' notices
    number = Varchar(length=40, unique=True)
    deadline = Timestamptz()
    deadline_reason = Text(default="")
    issued_at = Timestamptz()
    issued_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    issuer_organisation = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)


class RectificationOrder(SyncColumns, Table, tablename="rectification_order"):
    """整改通知单 / 停工通知 — an order to a contractor to put a defect or hazard right by a deadline.
    Whether it is overdue is derived from `deadline` and the server's clock, never stored."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    site = ForeignKey(references=Site, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    building = ForeignKey(references=Building, null=True, default=None, on_delete=OnDelete.restrict)
    work_item = ForeignKey(references=WorkItem, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=20, index=True)
    severity = Varchar(length=20)
    source = Varchar(length=30, default="manual")
    # what raised it, in the raising domain's own table (an inspection answer, a sample, a claim)
    source_table = Varchar(length=60, null=True, default=None)
    source_id = UUID(null=True, default=None, index=True)
    description = Text()
    contractor = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.restrict, index=True)
    issuer = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    issuer_organisation = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)
    status = Varchar(length=20, default="draft", index=True)
    issued_at = Timestamptz(null=True, default=None)
    deadline = Timestamptz(null=True, default=None, index=True)
    deadline_reason = Text(default="")
    # how many deadlines the order has had: 1 when issued, +1 on every rejection
    deadline_round = Integer(default=0)
    closed_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    cancel_reason = Text(default="")
    # the 整改通知单 it went out under with other orders; null: issued alone (or still a draft)
    notice = ForeignKey(
        references=RectificationNotice, null=True, default=None, on_delete=OnDelete.restrict, index=True
    )


class OrderResponse(SyncColumns, Table, tablename="order_response"):
    """整改回复单 — one round of the contractor's answer, and the issuer's review of it."""

    id = UUID(primary_key=True)
    order = ForeignKey(references=RectificationOrder, null=False, on_delete=OnDelete.restrict, index=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict)
    contractor = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.restrict)
    round = Integer()
    text = Text(default="")
    responder = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    responded_at = Timestamptz()
    # what the contractor's device said when the answer was made (evidence only, never order),
    # and the skew the server measured for that device at the time it synced
    device_responded_at = Timestamptz(null=True, default=None)
    device_clock_skew_ms = BigInt(null=True, default=None)
    review = Varchar(length=20, default="pending")  # pending | accepted | rejected | cancelled
    reviewed_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    reviewed_at = Timestamptz(null=True, default=None)
    review_note = Text(default="")


class OrderEvent(SyncColumns, Table, tablename="order_event"):
    """One move in an order's life (and each escalation): who, when, from which state to which, why."""

    id = UUID(primary_key=True)
    order = ForeignKey(references=RectificationOrder, null=False, on_delete=OnDelete.restrict, index=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict)
    action = Varchar(length=20)
    from_state = Varchar(length=20, null=True, default=None)
    to_state = Varchar(length=20)
    actor = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    actor_organisation = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)
    at = Timestamptz()
    reason = Text(default="")
    deadline = Timestamptz(null=True, default=None)
    response = UUID(null=True, default=None)


class WorkStop(SyncColumns, Table, tablename="work_stop"):
    """停工 — a site or work item stopped by a stop-work order, until resumed (复工). Kept after resuming."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    site = ForeignKey(references=Site, null=False, on_delete=OnDelete.restrict, index=True)
    # null: the whole site is stopped
    work_item = ForeignKey(references=WorkItem, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    order = ForeignKey(references=RectificationOrder, null=False, on_delete=OnDelete.restrict, index=True)
    contractor = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.restrict)
    started_at = Timestamptz()
    started_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    resumed_at = Timestamptz(null=True, default=None)
    resumed_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    resume_note = Text(default="")
