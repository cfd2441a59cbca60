"""One counter row per document kind and year."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T09:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique (kind, year) of document_counter"


class _Counter(Table, tablename="document_counter"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reports", description=DESCRIPTION)

    async def add_index() -> None:
        await _Counter.raw("CREATE UNIQUE INDEX document_counter_kind_year ON document_counter (kind, year)")

    async def drop_index() -> None:
        await _Counter.raw("DROP INDEX document_counter_kind_year")

    manager.add_raw(add_index)
    manager.add_raw_backwards(drop_index)
    return manager
