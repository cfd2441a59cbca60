"""The audit log: rows are only ever inserted; each carries the hash of the one before it."""

from piccolo.columns import BigInt, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class AuditEntry(Table, tablename="audit_entry"):
    """审计日志 — who changed which record, when, and how; chained by SHA-256."""

    id = Serial(primary_key=True)
    seq = BigInt(index=True)
    at = Varchar(length=40)
    actor_id = Varchar(length=36, default="")
    actor_name = Varchar(length=150, default="")
    device_id = Varchar(length=64, default="")
    action = Varchar(length=60)
    table_name = Varchar(length=60)
    record_id = Varchar(length=36, index=True)
    changes = Text(default="{}")
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)
    # kept so the table shows when it was written even if `at` were tampered with
    written_at = Timestamptz()


class AuditHead(Table, tablename="audit_head"):
    """One row (id = 1): the last entry's id and hash, so removing the newest entries is caught too."""

    id = Serial(primary_key=True)
    last_id = BigInt(default=0)
    last_hash = Varchar(length=64, default="0" * 64)
