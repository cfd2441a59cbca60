"""Tables of the change feed. Every write transaction takes one number from ChangeCounter."""

from piccolo.columns import UUID, BigInt, Boolean, Serial, Varchar
from piccolo.table import Table


class ChangeCounter(Table, tablename="sync_counter"):
    """One row (id = 1). Its UPDATE lock is held to commit, so sequence order is commit order."""

    id = Serial(primary_key=True)
    value = BigInt(default=0)


class SyncChange(Table, tablename="sync_change"):
    """One row per (bucket, changed record, transaction): what a pull in that bucket must send."""

    id = Serial(primary_key=True)
    seq = BigInt(index=True)
    bucket = Varchar(length=120)
    table_name = Varchar(length=60)
    row_id = UUID()
    deleted = Boolean(default=False)
