"""Complaints already filed move to the project's office bucket (records.office_bucket), with the
links to their photos and the photos the notice page filed: from now on only the office roles'
tablets receive them. Tablets of resident supervisors that already hold some keep those copies;
they receive nothing more."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-03T10:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "complaints, their photo links and the notice page's photos: office bucket only"

# The bucket of a whole project is "project:<id>"; contractor and context buckets have more parts.
_PROJECT_BUCKET_ONLY = "bucket LIKE 'project:%' AND bucket NOT LIKE 'project:%:%'"


class _Change(Table, tablename="sync_change"):
    pass


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="complaints", description=DESCRIPTION)

    async def to_office() -> None:
        # the notice page acts as complaints.service.PUBLIC, whose device id marks its writes
        await _Change.raw("UPDATE evidence SET office_only = {} WHERE device_id = 'public-web'", True)
        moves = [
            "table_name = 'complaint'",
            "table_name = 'evidence_link' AND row_id IN (SELECT id FROM evidence_link WHERE record_table = 'complaint')",
            "table_name = 'evidence' AND row_id IN (SELECT id FROM evidence WHERE office_only = {})",
        ]
        for where in moves:
            args = [True] if "{}" in where else []
            await _Change.raw(
                f"UPDATE sync_change SET bucket = bucket || ':office' WHERE {_PROJECT_BUCKET_ONLY} AND {where}",  # noqa: S608
                *args,
            )

    manager.add_raw(to_office)
    return manager
