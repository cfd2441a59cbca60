"""Unique indexes the ORM cannot declare on SQLite: one result per (sample, test item, set), one
label code per project, one disposition and one filing per batch."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T09:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes on sample_result, sample label codes, dispositions and filings"


class _SampleResult(Table, tablename="sample_result"):
    pass


INDEXES = [
    ("sample_result_once", "sample_result (sample, test_item, set_no)"),
    ("sample_label_once", "sample (project, label_code)"),
    ("material_disposition_once", "material_disposition (batch)"),
    ("material_filing_once", "material_filing (batch)"),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="samples", description=DESCRIPTION)

    async def add_indexes() -> None:
        # Indexes, not constraints: SQLite cannot ALTER TABLE ... ADD CONSTRAINT.
        for name, target in INDEXES:
            await _SampleResult.raw(f"CREATE UNIQUE INDEX {name} ON {target}")

    async def drop_indexes() -> None:
        for name, _ in INDEXES:
            await _SampleResult.raw(f"DROP INDEX {name}")

    manager.add_raw(add_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
