"""Tables of the change feed: one ordering row per scope, and the change index per bucket."""

from piccolo.columns import UUID, BigInt, Boolean, Serial, Varchar
from piccolo.table import Table


class SyncScope(Table, tablename="sync_scope"):
    """One row per ordering scope (a project, `ref`, `sys`). A transaction locks the rows of the
    scopes it wrote just before it commits and numbers its changes from `seq`, so within a scope
    the numbers have no gaps and follow commit order. The scope's audit chain ends at entry
    `audit_no` with hash `audit_hash`; tombstones at or below `purged_through` are gone."""

    scope = UUID(primary_key=True)
    seq = BigInt(default=0)
    audit_no = BigInt(default=0)
    audit_hash = Varchar(length=64, default="")
    purged_through = BigInt(default=0)


class SyncChange(Table, tablename="sync_change"):
    """One row per (bucket, changed record): its latest change, numbered in the bucket's scope."""

    id = Serial(primary_key=True)
    scope = UUID(null=True, default=None)
    seq = BigInt(index=True)
    bucket = Varchar(length=120)
    table_name = Varchar(length=60)
    row_id = UUID()
    deleted = Boolean(default=False)
