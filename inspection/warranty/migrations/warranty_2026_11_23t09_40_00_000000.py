"""One warranty item per work item (a second acceptance of the same work makes none), and the
index the daily expiry scan pages through (ends_on, id)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T09:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique warranty_item per work item; (ends_on, id) index for the expiry scan"


class _WarrantyItem(Table, tablename="warranty_item"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="warranty", description=DESCRIPTION)

    async def add_indexes() -> None:
        await _WarrantyItem.raw("CREATE UNIQUE INDEX warranty_item_once ON warranty_item (work_item)")
        await _WarrantyItem.raw("CREATE INDEX warranty_item_scan ON warranty_item (ends_on, id)")

    async def drop_indexes() -> None:
        await _WarrantyItem.raw("DROP INDEX warranty_item_once")
        await _WarrantyItem.raw("DROP INDEX warranty_item_scan")

    manager.add_raw(add_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
