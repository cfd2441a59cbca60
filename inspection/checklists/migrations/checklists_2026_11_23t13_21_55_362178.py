"""The scheduled occurrence an inspection carries out (inspection.occurrence_id), fulfilled on submit."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-23T13:21:55:362178"
VERSION = "1.38.0"
DESCRIPTION = "inspection.occurrence_id"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="checklists", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Inspection",
        tablename="inspection",
        column_name="occurrence_id",
        db_column_name="occurrence_id",
        column_class_name="UUID",
        column_class=UUID,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
