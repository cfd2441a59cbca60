"""The clock skew the server measured for the inspector's tablet when the inspection arrived: with
started_at_device and submitted_at_device it gives the times the inspector worked (检查时间)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "inspection.device_clock_skew_ms"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="checklists", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Inspection",
        tablename="inspection",
        column_name="device_clock_skew_ms",
        db_column_name="device_clock_skew_ms",
        column_class_name="BigInt",
        column_class=BigInt,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
