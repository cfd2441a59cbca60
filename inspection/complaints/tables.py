"""Residents' complaints (persistence only)."""

from piccolo.columns import UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspection.projects.tables import Project, Site, WorkItem
from inspection.records import SyncColumns


class Complaint(SyncColumns, Table):
    """居民投诉 — a resident's report from the public notice page, triaged by the supervisor into a
    rectification order or dismissed with a reason. The contact is seen by the project's office
    roles only, never by the public or the contractor."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    site = ForeignKey(references=Site, null=False, on_delete=OnDelete.restrict, index=True)
    work_item = ForeignKey(references=WorkItem, null=True, default=None, on_delete=OnDelete.restrict)
    topic = Varchar(length=20)
    text = Text()
    # secret: never sent to tablets by sync, never written to the audit log
    contact = Varchar(length=100, default="", secret=True)
    received_at = Timestamptz()
    status = Varchar(length=20, default="new", index=True)
    # the rectification order it became (plain UUID: rectification may be reorganised separately)
    order_id = UUID(null=True, default=None)
    dismiss_reason = Text(default="")
    triaged_by = UUID(null=True, default=None)
    triaged_at = Timestamptz(null=True, default=None)
