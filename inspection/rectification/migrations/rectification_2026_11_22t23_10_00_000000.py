"""Unique indexes the ORM cannot declare on SQLite: one notification per (subject, rule, occurrence,
threshold, recipient), so escalation can run twice and create each once; one response per round."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-22T23:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes on notification (subject, rule, occurrence, threshold, recipient) and order_response (order, round)"


class _Notification(Table, tablename="notification"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="rectification", description=DESCRIPTION)

    async def add_indexes() -> None:
        # Indexes, not constraints: SQLite cannot ALTER TABLE ... ADD CONSTRAINT.
        await _Notification.raw(
            "CREATE UNIQUE INDEX notification_once ON notification "
            "(subject_table, subject_id, rule, occurrence, threshold, recipient_key)"
        )
        await _Notification.raw('CREATE UNIQUE INDEX order_response_round ON order_response ("order", round)')

    async def drop_indexes() -> None:
        await _Notification.raw("DROP INDEX notification_once")
        await _Notification.raw("DROP INDEX order_response_round")

    manager.add_raw(add_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
