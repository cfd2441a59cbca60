"""Ordering scopes (`sync_scope`) and the scope of each change index row."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, BigInt, Varchar

ID = "2026-12-01T09:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync_scope; sync_change.scope"


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
    manager = MigrationManager(migration_id=ID, app_name="changefeed", description=DESCRIPTION)
    manager.add_table(class_name="SyncScope", tablename="sync_scope")
    _column(manager, "SyncScope", "sync_scope", "scope", UUID, primary_key=True)
    for name in ("seq", "audit_no", "purged_through"):
        _column(manager, "SyncScope", "sync_scope", name, BigInt, default=0)
    _column(manager, "SyncScope", "sync_scope", "audit_hash", Varchar, length=64, default="")
    _column(manager, "SyncChange", "sync_change", "scope", UUID, null=True, default=None)
    return manager
