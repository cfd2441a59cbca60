"""Tables of the push side of sync: devices and the stored outcomes of their mutations."""

from piccolo.columns import UUID, BigInt, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


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
