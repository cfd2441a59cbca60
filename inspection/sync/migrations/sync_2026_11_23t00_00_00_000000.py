"""Keep one change-index row per (bucket, table, record): the latest change, moved forward in place."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique keys of the change index, the mutation log and devices"


class _Change(Table, tablename="sync_change"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sync", description=DESCRIPTION)

    async def add_index() -> None:
        # Earlier writes may have left several rows per record and bucket: keep the newest.
        await _Change.raw(
            "DELETE FROM sync_change WHERE id NOT IN "
            "(SELECT MAX(id) FROM sync_change GROUP BY bucket, table_name, row_id)"
        )
        await _Change.raw(
            "CREATE UNIQUE INDEX sync_change_bucket_record ON sync_change (bucket, table_name, row_id)"
        )
        # one stored outcome per (device, seq); one device row per (install, person)
        await _Change.raw("CREATE UNIQUE INDEX sync_mutation_device_seq ON sync_mutation (device, seq)")
        await _Change.raw("CREATE UNIQUE INDEX sync_device_install_user ON sync_device (device_id, user_id)")

    async def drop_index() -> None:
        await _Change.raw("DROP INDEX sync_change_bucket_record")
        await _Change.raw("DROP INDEX sync_mutation_device_seq")
        await _Change.raw("DROP INDEX sync_device_install_user")

    manager.add_raw(add_index)
    manager.add_raw_backwards(drop_index)
    return manager
