"""Unique indexes of the programme app, and every existing project placed in the programme of its
district and year (projects carried only a `district` string before)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-03T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes; existing projects placed by district and year"

# A unique index, not a constraint: SQLite cannot ALTER TABLE ... ADD CONSTRAINT.
INDEXES = {
    "project_placement_once": "project_placement (project)",
    "evaluation_revision_once": "evaluation_revision (programme, month, revision)",
    "credit_grade_once": "credit_grade (organisation, programme, month, revision)",
    "survey_answer_once": "survey_answer (site, household)",
    "office_grant_once": "office_grant (office, project)",
}


class _Area(Table, tablename="area"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="programme", description=DESCRIPTION)

    async def add_indexes() -> None:
        for name, columns in INDEXES.items():
            await _Area.raw(f"CREATE UNIQUE INDEX {name} ON {columns}")

    async def drop_indexes() -> None:
        for name in INDEXES:
            await _Area.raw(f"DROP INDEX {name}")

    async def place_projects() -> None:
        # Through the one write path, so the new rows reach tablets and the audit log like any
        # other write (a fresh database has no project and writes nothing).
        from inspection.actor import SYSTEM
        from inspection.clock import SystemClock
        from inspection.programme.structure import place_by_district
        from inspection.projects.tables import Project
        from inspection.records import write

        if not await Project.exists():
            return
        async with write(SYSTEM, SystemClock()) as w:
            await place_by_district(w)

    manager.add_raw(add_indexes)
    manager.add_raw(place_projects)
    manager.add_raw_backwards(drop_indexes)
    return manager
