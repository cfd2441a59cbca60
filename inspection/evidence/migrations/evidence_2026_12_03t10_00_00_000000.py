"""Evidence becomes one row per filing: several parties may file the same bytes, each with a row of
its own (its project, its organisation, its file name, its own proof of holding the bytes), so the
unique constraint on `evidence.sha256` gives way to a plain index. And `office_only` marks the
filings that only a project's office roles read (residents' complaint photos).

Piccolo cannot drop a column's UNIQUE on SQLite (it is part of the CREATE TABLE), so this is done
in SQL: on PostgreSQL by dropping the constraint; on SQLite by rebuilding the table from its own
definition without UNIQUE (and evidence_link, whose foreign key a rename would otherwise rewrite). The migration history's
snapshot of the column still says unique: a future `piccolo migrations new --auto` will propose
changing it; leave that change out (tables.py says so too)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-03T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "evidence: one row per filing (sha256 no longer unique), office_only"

_UNIQUE_SHA = '"sha256" VARCHAR(64) UNIQUE NOT NULL'
_PLAIN_SHA = '"sha256" VARCHAR(64) NOT NULL'


class _Evidence(Table, tablename="evidence"):
    pass


async def _ddl(kind: str, table: str) -> list[str]:
    rows = await _Evidence.raw(
        "SELECT sql FROM sqlite_master WHERE type = {} AND tbl_name = {} AND sql IS NOT NULL", kind, table
    )
    return [r["sql"] for r in rows]


async def _sqlite_forwards() -> None:
    (evidence,) = await _ddl("table", "evidence")
    (link,) = await _ddl("table", "evidence_link")
    if _UNIQUE_SHA not in evidence:
        raise RuntimeError(f"evidence table not as created by its first migration: {evidence}")
    indexes = await _ddl("index", "evidence") + await _ddl("index", "evidence_link")
    # With foreign keys on (and they cannot be turned off inside the migration's transaction),
    # renaming a table rewrites the foreign keys that point at it. So evidence_link, the one
    # table that does, is rebuilt too: both move aside, both are made again from their own
    # definitions (evidence without UNIQUE), the rows are copied, and the old ones dropped.
    await _Evidence.raw("ALTER TABLE evidence_link RENAME TO evidence_link__old")
    await _Evidence.raw("ALTER TABLE evidence RENAME TO evidence__old")
    await _Evidence.raw(evidence.replace(_UNIQUE_SHA, _PLAIN_SHA))
    await _Evidence.raw("INSERT INTO evidence SELECT * FROM evidence__old")
    await _Evidence.raw(link)
    await _Evidence.raw("INSERT INTO evidence_link SELECT * FROM evidence_link__old")
    await _Evidence.raw("DROP TABLE evidence_link__old")
    await _Evidence.raw("DROP TABLE evidence__old")
    for index in indexes:
        await _Evidence.raw(index)
    await _Evidence.raw("CREATE INDEX evidence_sha256 ON evidence (sha256)")


async def _postgres_forwards() -> None:
    found = await _Evidence.raw(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'evidence'::regclass AND contype = 'u'"
        " AND pg_get_constraintdef(oid) = 'UNIQUE (sha256)'"
    )
    for row in found:
        await _Evidence.raw(f'ALTER TABLE evidence DROP CONSTRAINT "{row["conname"]}"')
    await _Evidence.raw("CREATE INDEX evidence_sha256 ON evidence (sha256)")


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="evidence", description=DESCRIPTION)

    async def drop_unique() -> None:
        if _Evidence._meta.db.engine_type == "sqlite":
            await _sqlite_forwards()
        else:
            await _postgres_forwards()

    manager.add_raw(drop_unique)
    manager.add_column(
        table_class_name="Evidence",
        tablename="evidence",
        column_name="office_only",
        db_column_name="office_only",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
