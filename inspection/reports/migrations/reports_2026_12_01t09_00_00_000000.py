"""A counter row per document kind and year, so numbering needs no lock but its own."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Serial, Varchar

ID = "2026-12-01T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "document_counter"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reports", description=DESCRIPTION)
    manager.add_table(class_name="DocumentCounter", tablename="document_counter")
    for name, column_class, params in (
        ("id", Serial, {"primary_key": True}),
        ("kind", Varchar, {"length": 40, "default": ""}),
        ("year", Integer, {"default": 0}),
        ("last", Integer, {"default": 0}),
    ):
        manager.add_column(
            table_class_name="DocumentCounter",
            tablename="document_counter",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={"null": False, "primary_key": False, "unique": False, "index": False, **params},
        )
    return manager

