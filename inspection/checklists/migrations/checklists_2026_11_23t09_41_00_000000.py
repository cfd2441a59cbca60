"""Unique indexes the ORM cannot declare on SQLite: one version number and one content hash per
template code, one answer per (inspection, item), one state per (work item, point)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T09:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes on checklist_template, inspection_answer and supervision_point_state"


class _Template(Table, tablename="checklist_template"):
    pass


INDEXES = {
    "checklist_template_number_unique": "checklist_template (code, version_number)",
    "checklist_template_content_unique": "checklist_template (code, content_sha256)",
    "inspection_answer_item_unique": "inspection_answer (inspection, item_code)",
    "supervision_point_state_unique": "supervision_point_state (work_item, point_code)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="checklists", description=DESCRIPTION)

    async def add_indexes() -> None:
        for name, target in INDEXES.items():
            await _Template.raw(f"CREATE UNIQUE INDEX {name} ON {target}")

    async def drop_indexes() -> None:
        for name in INDEXES:
            await _Template.raw(f"DROP INDEX {name}")

    manager.add_raw(add_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
