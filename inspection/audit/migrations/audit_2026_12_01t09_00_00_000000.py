"""Audit chains per ordering scope (`scope`, `scope_no`) and signed checkpoints over their heads."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, BigInt, Serial, Text, Timestamptz, Varchar

ID = "2026-12-01T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit chain per scope; audit checkpoints"


def _column(manager, table_class, tablename, name, column_class, **params):  # type: ignore[no-untyped-def]
    manager.add_column(
        table_class_name=table_class,
        tablename=tablename,
        column_name=name,
        db_column_name=name,
        column_class_name=column_class.__name__,
        column_class=column_class,
        params={"null": False, "primary_key": False, "unique": False, "index": False, **params},
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)
    _column(manager, "AuditEntry", "audit_entry", "scope", UUID, null=True, default=None)
    _column(manager, "AuditEntry", "audit_entry", "scope_no", BigInt, null=True, default=None)
    manager.add_table(class_name="AuditCheckpoint", tablename="audit_checkpoint")
    _column(manager, "AuditCheckpoint", "audit_checkpoint", "id", Serial, primary_key=True)
    _column(manager, "AuditCheckpoint", "audit_checkpoint", "at", Timestamptz)
    _column(manager, "AuditCheckpoint", "audit_checkpoint", "scopes", BigInt, default=0)
    _column(manager, "AuditCheckpoint", "audit_checkpoint", "entries", BigInt, default=0)
    _column(manager, "AuditCheckpoint", "audit_checkpoint", "leaves", Text, default="[]")
    for name in ("root", "prev_hash", "hash", "signature"):
        _column(manager, "AuditCheckpoint", "audit_checkpoint", name, Varchar, length=64, default="")

    # its indexes come with the change feed's migration that fills the new columns
    return manager

