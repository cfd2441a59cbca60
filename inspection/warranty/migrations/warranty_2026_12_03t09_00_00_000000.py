"""One warranty item per work item and period, not per work item: a lift retrofit owes the lift's
equipment period and its shaft's design life, windows their fittings and their leak-proofing."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-03T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique warranty_item per (work item, period rule)"


class _WarrantyItem(Table, tablename="warranty_item"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="warranty", description=DESCRIPTION)

    async def per_period() -> None:
        await _WarrantyItem.raw("DROP INDEX warranty_item_once")
        await _WarrantyItem.raw("CREATE UNIQUE INDEX warranty_item_once ON warranty_item (work_item, period_rule)")

    async def per_work_item() -> None:
        await _WarrantyItem.raw("DROP INDEX warranty_item_once")
        await _WarrantyItem.raw("CREATE UNIQUE INDEX warranty_item_once ON warranty_item (work_item)")

    manager.add_raw(per_period)
    manager.add_raw_backwards(per_work_item)
    return manager
