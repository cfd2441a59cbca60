"""Unique keys that make the scheduler's writes exactly-once under insert-or-ignore: one alert per
key (subject, rule, threshold), one delivery per (notification, channel, target), one occurrence
per (schedule, site, day)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T09:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes on alert.key, alert_delivery and inspection_occurrence"


class _Alert(Table, tablename="alert"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="alerts", description=DESCRIPTION)

    async def add_indexes() -> None:
        await _Alert.raw("CREATE UNIQUE INDEX alert_once ON alert (key)")
        await _Alert.raw("CREATE UNIQUE INDEX alert_delivery_once ON alert_delivery (notification, channel, target)")
        # the scans' anti-join: has this subject an alert of this rule at this threshold?
        await _Alert.raw("CREATE INDEX alert_subject_rule ON alert (subject_id, rule, threshold)")
        await _Alert.raw(
            "CREATE UNIQUE INDEX inspection_occurrence_once ON inspection_occurrence (schedule, site, due_on)"
        )

    async def drop_indexes() -> None:
        await _Alert.raw("DROP INDEX alert_once")
        await _Alert.raw("DROP INDEX alert_delivery_once")
        await _Alert.raw("DROP INDEX alert_subject_rule")
        await _Alert.raw("DROP INDEX inspection_occurrence_once")

    manager.add_raw(add_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
