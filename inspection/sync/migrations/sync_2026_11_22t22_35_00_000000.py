"""Seed the change counter row and index the change feed by (bucket, seq)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-22T22:35:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "seed the change counter; index sync_change by (bucket, seq)"


class _Counter(Table, tablename="sync_counter"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sync", description=DESCRIPTION)

    async def seed() -> None:
        # The counter row must exist before the first write: creating it lazily would let two
        # first writers race to insert it. Every pull reads sync_change by (bucket, seq).
        await _Counter.raw("INSERT INTO sync_counter (id, value) VALUES (1, 0)")
        await _Counter.raw("CREATE INDEX sync_change_bucket_seq ON sync_change (bucket, seq)")

    async def unseed() -> None:
        await _Counter.raw("DROP INDEX sync_change_bucket_seq")
        await _Counter.raw("DELETE FROM sync_counter WHERE id = 1")

    manager.add_raw(seed)
    manager.add_raw_backwards(unseed)
    return manager
