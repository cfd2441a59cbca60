"""同步冲突 — a value overwritten or refused during sync. Never dropped silently: the record syncs
back to the people involved so they can see what happened and act."""

from piccolo.columns import UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspection.projects.tables import Organisation, Project
from inspection.records import SyncColumns


class SyncConflict(SyncColumns, Table, tablename="sync_conflict"):
    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    organisation = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)
    table_name = Varchar(length=60)
    record_id = UUID(index=True)
    field = Varchar(length=60, default="")
    kept_value = Text(default="null")  # JSON
    lost_value = Text(default="null")  # JSON
    lost_by = UUID(null=True, default=None)
    lost_device = Varchar(length=64, default="")
    mutation_id = UUID(null=True, default=None)
    reason = Varchar(length=40)  # overwritten | entity_deleted | entity_locked | ...
    # Resolution, as ODK Central marks a conflict resolved: who decided, when, which value stands
    # (`kept`: the server's; `lost`: the overwritten one) and why. Unresolved: resolved_at is null.
    resolved_at = Timestamptz(null=True, default=None)
    resolved_by = UUID(null=True, default=None)
    resolution = Varchar(length=10, default="")  # "" | kept | lost
    chosen_value = Text(default="null")  # JSON: the value chosen to stand
    resolution_note = Text(default="")
