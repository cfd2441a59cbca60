"""A pulled row's JSON made by PostgreSQL (`registry.json_sql`) or SQLite (`registry.sqlite_json_sql`)
says exactly what the row read into Python and encoded by msgspec says, for every synced table,
edge values included (a REAL that is not exact in binary, a timestamp with and without
microseconds, a numeric's scale, NULLs, and on SQLite values stored by hand in another form)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import msgspec
import pytest
from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import BigInt, Boolean, Date, Float, Integer, Numeric, Real, Text, Timestamptz, Varchar

from inspection import db
from inspection.sync import registry
from tests.factories import World
from tests.sync.conftest import Tablets

EDGES: dict[type, list[Any]] = {
    Real: [0.1, None, -12.345],
    Float: [0.1, None, 1e20],
    Numeric: ["1.50", None, "0.05"],
    Timestamptz: [
        datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
        datetime(2026, 6, 1, 8, 0, 0, 4500, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
}


def python_json(tablename: str, row: dict[str, Any]) -> Any:
    return msgspec.json.decode(msgspec.json.encode(registry.serialise(tablename, row)))


async def give_edge_values(tablename: str, ids: list[str]) -> None:
    """Write the edge values into the first rows of the table, raw (no sync bookkeeping: the
    test compares two ways of reading the same rows, nothing else)."""
    table = registry.synced_tables()[tablename]
    for column in table._meta.columns:
        values = EDGES.get(type(column))
        if values is None:
            continue
        for rid, value in zip(ids, values, strict=False):
            if value is None and not column._meta.null:
                continue
            await db.raw(f'UPDATE "{tablename}" SET "{column._meta.db_column_name}" = {{}} WHERE id = {{}}', value, rid)


# Each column type json_sql knows, as PostgreSQL names it, with values that have tripped JSON
# writers: inexact binary fractions, whole-second and sub-second times, scale, extremes, text that
# needs escaping.
VALUES: list[tuple[Any, str, list[Any]]] = [
    (Real(), "real", [0.1, -12.345, 3.0, 1e-7, float("nan"), float("inf"), None]),
    (Float(), "double precision", [0.1, 1 / 3, 1e20, 5e-324, float("-inf"), None]),
    (Numeric(digits=(10, 2)), "numeric(10, 2)", ["1.50", "0.05", "-99999999.99", "0", None]),
    (Numeric(digits=(18, 6)), "numeric(18, 6)", ["0.000001", "123456789012.5", None]),
    (
        Timestamptz(),
        "timestamptz",
        [
            datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
            datetime(2026, 6, 1, 8, 0, 0, 4500, tzinfo=UTC),
            datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            None,
        ],
    ),
    (BigInt(), "bigint", [0, -1, 2**63 - 1, None]),
    (Integer(), "integer", [7, -(2**31), None]),
    (Boolean(), "boolean", [True, False, None]),
    (Date(), "date", [date(2026, 2, 28), date(1900, 1, 1), None]),
    (UUIDColumn(), "uuid", [UUID("01a23cba-b278-7d5d-add1-e2cf72965953"), None]),
    (Text(), "text", ["", '楼 "引号" \\ \n\t\u0001 é 😀', None]),
    (Varchar(length=20), "varchar(20)", ["二号楼", None]),
]


@pytest.mark.postgres_only
@pytest.mark.parametrize(("column", "pg_type", "values"), VALUES, ids=[v[1] for v in VALUES])
async def test_each_column_type_as_postgresql_writes_it(
    column: Any, pg_type: str, values: list[Any], world: World
) -> None:
    expression = registry.json_expression(column)
    assert expression is not None
    for value in values:
        async with db.snapshot() as snap:
            ((_, made),) = await snap.tuples(
                f"SELECT x.v, row_to_json(x) FROM (SELECT {expression.format(c='y.v')} AS v"
                f" FROM (SELECT CAST({{}} AS {pg_type}) AS v) AS y) AS x",
                value,
            )
            raw = (await snap.tuples(f"SELECT CAST({{}} AS {pg_type})", value))[0][0]
        assert msgspec.json.decode(made)["v"] == msgspec.json.decode(msgspec.json.encode(raw)), (pg_type, value)


@pytest.mark.postgres_only
async def test_rows_as_postgresql_writes_them_equal_rows_as_python_encodes_them(world: World) -> None:
    compared: dict[str, int] = {}
    for tablename in sorted(registry.synced_tables()):
        ids = [str(r["id"]) for r in await db.raw(f'SELECT id FROM "{tablename}" ORDER BY id')]
        if not ids:
            continue
        await give_edge_values(tablename, ids)
        assert registry.json_sql(tablename) is not None, f"{tablename}: a column type without a JSON form"
        async with db.snapshot() as snap:
            made = {f.id: (f.deleted, msgspec.json.decode(f.body)) for f in await registry.fetch(snap, tablename, ids)}
            rows = await snap.dicts(registry.select_sql(tablename, len(ids)), *ids)
        assert len(made) == len(rows) == len(ids)
        for row in rows:
            deleted, body = made[str(row["id"])]
            assert body == python_json(tablename, row), tablename
            assert deleted == bool(row["deleted"])
        compared[tablename] = len(rows)
    # the world holds projects, sites, buildings, orders, inspections …: most synced tables
    assert len(compared) >= 5, compared


# Values SQLite keeps as given when written by hand: each must leave SQLite's JSON for Python's.
ODD_SQLITE_VALUES = [
    ("floors", "六"),  # text in an INTEGER column (read as NULL, and logged)
    ("updated_at", "2026-06-01T08:00:00Z"),  # another form of a time
    ("created_by", "01A23CBA-B278-7D5D-ADD1-E2CF72965953"),  # a UUID in capitals
    ("deleted", 2),  # a boolean that is neither 0 nor 1
    ("name", b"\x00\x01"),  # bytes in a text column (SQLite's JSON refuses a BLOB)
]


@pytest.mark.sqlite_only
async def test_rows_as_sqlite_writes_them_equal_rows_as_python_encodes_them(world: World) -> None:
    by_sql: list[str] = []
    for tablename in sorted(registry.synced_tables()):
        ids = [str(r["id"]) for r in await db.raw(f'SELECT id FROM "{tablename}" ORDER BY id')]
        if not ids:
            continue
        await give_edge_values(tablename, ids)
        async with db.snapshot() as snap:
            made = {f.id: (f.deleted, msgspec.json.decode(f.body)) for f in await registry.fetch(snap, tablename, ids)}
            rows = await snap.dicts(registry.select_sql(tablename, len(ids)), *ids)
            sql = registry.sqlite_json_sql(tablename, len(ids))
            exact = [] if sql is None else [r[2] for r in await snap.tuples(sql, *ids)]
        assert len(made) == len(rows) == len(ids)
        for row in rows:
            deleted, body = made[str(row["id"])]
            assert body == python_json(tablename, row), tablename
            assert deleted == bool(row["deleted"])
        if sql is not None:
            assert all(exact), f"{tablename}: rows as Piccolo stores them read through the converters"
            by_sql.append(tablename)
    # tables with a REAL or NUMERIC column (site, samples …) are encoded in Python
    assert "building" in by_sql and len(by_sql) >= 5, by_sql


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("column", "value"), ODD_SQLITE_VALUES, ids=[c for c, _ in ODD_SQLITE_VALUES])
async def test_a_value_stored_by_hand_in_another_form_is_read_through_the_converters(
    world: World, column: str, value: Any
) -> None:
    building = str(world.id_of("building1"))
    await db.raw(f'UPDATE building SET "{column}" = {{}} WHERE id = {{}}', value, building)
    sql = registry.sqlite_json_sql("building", 1)
    assert sql is not None
    async with db.snapshot() as snap:
        ((_, _, exact, _),) = await snap.tuples(sql, building)
        (fetched,) = await registry.fetch(snap, "building", [building])
        (row,) = await snap.dicts(registry.select_sql("building", 1), building)
    assert not exact
    assert msgspec.json.decode(fetched.body) == python_json("building", row)
    assert fetched.deleted == bool(row["deleted"])


async def test_a_pulled_row_is_what_the_database_holds(world: World, tablets: Tablets) -> None:
    """Both engines, through the API and the reference client: the row a tablet keeps is the
    stored row as JSON, the secret columns left out."""
    tablet = await tablets("supervisor")
    await tablet.pull()
    site = tablet.row("site", world.id_of("site1"))
    stored = (await db.raw("SELECT * FROM site WHERE id = {}", world.id_of("site1")))[0]
    assert site == python_json("site", stored)
    assert site is not None and site["updated_at"].endswith("Z") and site["deleted"] is False
