"""Joint acceptance, participants, warranty items and claims (persistence only; rules in rules.py)."""

from piccolo.columns import UUID, BigInt, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspection.projects.tables import Organisation, Project, Site, User, WorkItem
from inspection.records import SyncColumns


class Acceptance(SyncColumns, Table, tablename="acceptance"):
    """竣工验收 — the joint acceptance of a project or one site, organised by the owner."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    # null: the whole project
    site = ForeignKey(references=Site, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    accepted_on = Date()
    result = Varchar(length=20)  # passed | failed
    remarks = Text(default="")
    # the city whose heating and cooling seasons the warranty periods count
    city = Varchar(length=40, default="default")
    recorded_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)


class AcceptanceParticipant(SyncColumns, Table, tablename="acceptance_participant"):
    """One party at the joint acceptance, and whether (and how) they signed."""

    id = UUID(primary_key=True)
    acceptance = ForeignKey(references=Acceptance, null=False, on_delete=OnDelete.restrict, index=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict)
    party = Varchar(length=30)
    name = Varchar(length=100)
    organisation = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)
    user = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    signed = Boolean(default=False)
    opinion = Text(default="")


class WarrantyItem(SyncColumns, Table, tablename="warranty_item"):
    """保修项 — one work item's warranty after a passed acceptance: who owes it, from when to when,
    and the retention money held against it. Days left are derived from `ends_on` and today."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    site = ForeignKey(references=Site, null=False, on_delete=OnDelete.restrict, index=True)
    work_item = ForeignKey(references=WorkItem, null=False, on_delete=OnDelete.restrict, index=True)
    acceptance = ForeignKey(references=Acceptance, null=False, on_delete=OnDelete.restrict, index=True)
    contractor = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.restrict, index=True)
    work_type = Varchar(length=40)
    period_rule = Varchar(length=40)
    period_unit = Varchar(length=20)
    period_amount = Integer()
    # True when a contract lengthened the rule's period
    by_contract = Boolean(default=False)
    starts_on = Date()
    # last day covered; the daily expiry scan reads this index
    ends_on = Date(index=True)
    settlement_cents = BigInt(default=0)
    retention_cents = BigInt(default=0)
    retention_release_on = Date(null=True, default=None, index=True)
    retention_released_on = Date(null=True, default=None)


class WarrantyClaim(SyncColumns, Table, tablename="warranty_claim"):
    """保修申请 — a defect reported on an item under warranty; the contractor answers by a deadline,
    and an unanswered or rejected claim becomes a warranty rectification order."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    warranty_item = ForeignKey(references=WarrantyItem, null=False, on_delete=OnDelete.restrict, index=True)
    contractor = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.restrict, index=True)
    reporter = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    reporter_party = Varchar(length=30)  # resident | property | owner
    location = Varchar(length=300)
    description = Text()
    reported_at = Timestamptz()
    response_due = Timestamptz(index=True)
    status = Varchar(length=20, default="open", index=True)
    response = Text(default="")
    responded_at = Timestamptz(null=True, default=None)
    responded_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    # the warranty rectification order it became, in the rectification app
    order_id = UUID(null=True, default=None)
