"""Tables of the change feed. Every write transaction takes one number from ChangeCounter."""

from piccolo.columns import UUID, BigInt, Boolean, Integer, Serial, Text, Timestamptz, Varchar
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


class SyncHorizon(Table, tablename="sync_horizon"):
    """One row (id = 1): tombstones at or below this sequence have been dropped, so a cursor that
    has not reached it can no longer be brought up to date and must re-sync."""

    id = Serial(primary_key=True)
    purged_through_seq = BigInt(default=0)


class SyncDevice(Table, tablename="sync_device"):
    """One tablet install as used by one person: its last applied mutation and its clock."""

    id = UUID(primary_key=True)
    device_id = Varchar(length=64, index=True)
    user_id = UUID(index=True)
    last_mutation_seq = BigInt(default=0)
    schema_version = Integer(default=1)
    app_version = Varchar(length=40, default="")
    first_seen_at = Timestamptz()
    last_seen_at = Timestamptz()
    clock_skew_ms = BigInt(default=0)


class SyncMutation(Table, tablename="sync_mutation"):
    """The stored outcome of one pushed mutation, replayed when the same one arrives again."""

    id = Serial(primary_key=True)
    device = UUID(index=True)  # SyncDevice.id
    seq = BigInt()
    mutation_id = UUID()
    name = Varchar(length=80)
    payload_sha256 = Varchar(length=64)
    status = Varchar(length=20)
    result = Text(default="{}")
    commit_seq = BigInt(null=True, default=None)
    received_at = Timestamptz()
    device_ts = Varchar(length=40, default="")
