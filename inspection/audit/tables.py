"""The audit log: rows are only ever inserted; each carries the hash of the one before it in its scope."""

from piccolo.columns import UUID, BigInt, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class AuditEntry(Table, tablename="audit_entry"):
    """审计日志 — who changed which record, when, and how; chained by SHA-256 within its scope
    (`scope`, numbered by `scope_no`). Entries written before scopes existed have no scope and
    form the closed global chain, walked by `id`."""

    id = Serial(primary_key=True)
    scope = UUID(null=True, default=None)
    scope_no = BigInt(null=True, default=None)
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
    """One row (id = 1): the last entry of the global chain (closed when scopes began), so removing
    its newest entries is caught too. Each scope's head is in `sync_scope`."""

    id = Serial(primary_key=True)
    last_id = BigInt(default=0)
    last_hash = Varchar(length=64, default="0" * 64)


class AuditCheckpoint(Table, tablename="audit_checkpoint"):
    """审计检查点 — a signed Merkle root over every scope's chain head at one moment, chained to the
    checkpoint before it. `leaves` is the JSON list of [scope, audit_no, audit_hash] it covers."""

    id = Serial(primary_key=True)
    at = Timestamptz()
    scopes = BigInt(default=0)
    entries = BigInt(default=0)
    leaves = Text(default="[]")
    root = Varchar(length=64)
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)
    signature = Varchar(length=64)
