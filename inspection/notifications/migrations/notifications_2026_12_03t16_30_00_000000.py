"""Unique keys that make preferences and held digest items exactly-once under insert-or-ignore:
one preference per (user, kind), one held event per (user, kind, subject, occurrence)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-03T16:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes on notification_preference and notification_held"


class _Preference(Table, tablename="notification_preference"):
    pass


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def add_indexes() -> None:
        await _Preference.raw("CREATE UNIQUE INDEX notification_preference_once ON notification_preference (\"user\", kind)")
        await _Preference.raw(
            "CREATE UNIQUE INDEX notification_held_once"
            " ON notification_held (\"user\", kind, subject_table, subject_id, occurrence)"
        )

    async def drop_indexes() -> None:
        await _Preference.raw("DROP INDEX notification_preference_once")
        await _Preference.raw("DROP INDEX notification_held_once")

    manager.add_raw(add_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
