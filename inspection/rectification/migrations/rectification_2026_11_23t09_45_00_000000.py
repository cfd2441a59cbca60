"""The device's own time of an answer and the clock skew measured for that device: evidence for the
grace rule on answers made offline before the deadline."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-23T09:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "order_response.device_responded_at and device_clock_skew_ms"

_NULLABLE = {
    "default": None,
    "null": True,
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="rectification", description=DESCRIPTION)
    manager.add_column(
        table_class_name="OrderResponse",
        tablename="order_response",
        column_name="device_responded_at",
        db_column_name="device_responded_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params=dict(_NULLABLE),
        schema=None,
    )
    manager.add_column(
        table_class_name="OrderResponse",
        tablename="order_response",
        column_name="device_clock_skew_ms",
        db_column_name="device_clock_skew_ms",
        column_class_name="BigInt",
        column_class=BigInt,
        params=dict(_NULLABLE),
        schema=None,
    )
    return manager
