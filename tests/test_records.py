"""The write path's own helpers (inspection/records.py)."""

from __future__ import annotations

from uuid import uuid4

from piccolo.conf.apps import Finder

from inspection.projects.tables import Site
from inspection.records import load_row
from tests.factories import World


async def test_load_row_gives_what_the_orm_select_gives(world: World) -> None:
    """load_row skips the query builder on the push's hot path; it must not change a value's type
    (a Decimal, a time, a UUID), or merges and audit entries would see a different row."""
    compared = 0
    for table in Finder().get_table_classes():
        for row in await table.select().limit(3):
            key = row[table._meta.primary_key._meta.name]
            loaded = await load_row(table, key)
            assert loaded == row, table._meta.tablename
            assert {k: type(v) for k, v in loaded.items()} == {k: type(v) for k, v in row.items()}
            compared += 1
    assert compared > 20
    assert await load_row(Site, uuid4()) is None
