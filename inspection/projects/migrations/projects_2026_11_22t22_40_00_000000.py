"""One membership per (project, user, role)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-22T22:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique index on membership (project, user, role)"


class _Membership(Table, tablename="membership"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="projects", description=DESCRIPTION)

    async def add_index() -> None:
        # A unique index, not a constraint: SQLite cannot ALTER TABLE ... ADD CONSTRAINT.
        await _Membership.raw(
            'CREATE UNIQUE INDEX membership_project_user_role ON membership (project, "user", role)'
        )

    async def drop_index() -> None:
        await _Membership.raw("DROP INDEX membership_project_user_role")

    manager.add_raw(add_index)
    manager.add_raw_backwards(drop_index)
    return manager
