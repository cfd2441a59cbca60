"""What sync serves: the synced tables and how their rows travel to tablets. (What it accepts,
the tablet commands, is the table in inspection/sync/commands/__init__.py.)"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import msgspec
from piccolo.columns import (
    UUID as UUIDColumn,
)
from piccolo.columns import (
    BigInt,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    Real,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from inspection.records import plain as plain  # conflicts record kept and lost values with it

if TYPE_CHECKING:
    from inspection.db import Snapshot

# Tables that carry sync columns but must not reach tablets: accounts; the programme offices'
# records (their staff, grants, evaluations, grades, residents' answers), which only the office
# roles read through the API; and the programme's own structure and placements, which the API shows
# to the offices only, while an inspector's tablet needs the areas (reference data) and no more.
NOT_SYNCED = {
    "app_user",
    "area_office",
    "office_grant",
    "evaluation_revision",
    "credit_grade",
    "survey_answer",
    "programme",
    "programme_batch",
    "project_placement",
}


@cache
def synced_tables() -> dict[str, type[Table]]:
    from piccolo.conf.apps import Finder

    out = {}
    for table in Finder().get_table_classes():
        names = {c._meta.name for c in table._meta.columns}
        if {"version", "deleted", "updated_at"} <= names and table._meta.tablename not in NOT_SYNCED:
            out[table._meta.tablename] = table
    return out


@cache
def _secret_columns(tablename: str) -> frozenset[str]:
    table = synced_tables()[tablename]
    return frozenset(c._meta.name for c in table._meta.columns if c._meta.secret)


def select_sql(tablename: str, count: int) -> str:
    """Every column of `count` rows of a synced table by id ({} placeholders): plain SQL, as
    Piccolo's query builder costs more than the query for a thousand ids."""
    synced_tables()[tablename]  # a registered name, never anything else
    placeholders = ", ".join("{}" for _ in range(count))
    return f'SELECT * FROM "{tablename}" WHERE id IN ({placeholders})'  # noqa: S608


def serialise(tablename: str, row: dict[str, Any]) -> dict[str, Any]:
    """The row as a tablet receives it. UUIDs, times and decimals are left for the JSON encoder
    (msgspec writes them natively, much faster than converting each value here)."""
    hidden = _secret_columns(tablename)
    if not hidden:
        return row
    return {k: v for k, v in row.items() if k not in hidden}


_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class Fetched:
    """A synced row as it travels: its id, whether it is a tombstone, and its JSON, encoded once
    (the response writes these bytes as they are)."""

    id: str
    deleted: bool
    body: msgspec.Raw


async def fetch(snapshot: Snapshot, tablename: str, ids: list[str]) -> list[Fetched]:
    """Rows of a synced table by id, as the JSON a tablet receives. The database writes each
    row's JSON itself (`json_sql` on PostgreSQL, `sqlite_json_sql` on SQLite), so no row becomes
    Python objects on the way; a table with a column type whose JSON is not known to match, and
    on SQLite a row holding a value not in the form Piccolo stores, is read and encoded here
    (`serialise`)."""
    if snapshot.sqlite:
        sql = sqlite_json_sql(tablename, len(ids))
        if sql is not None:
            out, odd = [], []
            for rid, deleted, exact, body in await snapshot.tuples(sql, *ids):
                if exact:
                    out.append(Fetched(rid, bool(deleted), msgspec.Raw(body)))
                else:
                    odd.append(rid)
            return out + (await _fetch_encoded(snapshot, tablename, odd) if odd else [])
        return await _fetch_encoded(snapshot, tablename, ids)
    sql = json_sql(tablename)
    if sql is not None:
        return [
            Fetched(rid, bool(deleted), msgspec.Raw(body)) for rid, deleted, body in await snapshot.tuples(sql, ids)
        ]
    return await _fetch_encoded(snapshot, tablename, ids)


async def _fetch_encoded(snapshot: Snapshot, tablename: str, ids: list[str]) -> list[Fetched]:
    """Rows read into Python (through Piccolo's converters on SQLite) and encoded by msgspec."""
    out = []
    for row in await snapshot.dicts(select_sql(tablename, len(ids)), *ids):
        out.append(Fetched(str(row["id"]), bool(row.get("deleted")), msgspec.Raw(_encode(serialise(tablename, row)))))
    return out


# msgspec writes a UTC datetime as 2026-12-03T08:00:00Z, with .ffffff only when there are
# microseconds; PostgreSQL's own JSON would say +00:00 and always the fraction.
# One to_char with the fraction, dropped again when it is zero: a third of the cost of three.
_TIMESTAMPTZ = "replace(to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || 'Z', '.000000Z', 'Z')"
# Column types whose JSON PostgreSQL writes exactly as `serialise` and msgspec do, with the
# expression that makes it so: a numeric as the string of its digits (msgspec writes a Decimal
# so), a REAL widened to double as Python holds it (0.10000000149011612, not 0.1), NaN and
# infinities as null.
_JSON_EXPRESSIONS: dict[type, str] = {
    Timestamptz: _TIMESTAMPTZ,
    Numeric: "CAST({c} AS TEXT)",
    Real: "CASE WHEN {c} IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE CAST({c} AS DOUBLE PRECISION) END",
    Float: "CASE WHEN {c} IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE CAST({c} AS DOUBLE PRECISION) END",
    BigInt: "{c}",
    Integer: "{c}",
    Boolean: "{c}",
    Date: "{c}",
    UUIDColumn: "{c}",
    Text: "{c}",
    Varchar: "{c}",
}


def json_expression(column: Column) -> str | None:
    """The expression ({c}: the column) whose JSON is the column's value as msgspec writes it."""
    kind = type(column)
    if isinstance(column, ForeignKey):
        target = column._foreign_key_meta.resolved_references._meta.primary_key
        kind = type(target) if isinstance(target, UUIDColumn) else ForeignKey
    return _JSON_EXPRESSIONS.get(kind)


@cache
def json_sql(tablename: str) -> str | None:
    """PostgreSQL: the rows of a synced table by id (one uuid[] parameter), each with its JSON
    made by the database; None when a column's type is not one whose JSON is known to match."""
    table = synced_tables()[tablename]
    hidden = _secret_columns(tablename)
    columns = []
    for column in table._meta.columns:
        if column._meta.name in hidden:
            continue
        expression = json_expression(column)
        if expression is None:
            return None
        name = column._meta.db_column_name
        columns.append(expression.format(c=f'r."{name}"') + f' AS "{name}"')
    return (
        'SELECT CAST(x."id" AS TEXT), x."deleted", row_to_json(x) FROM ('  # noqa: S608 - model names
        + ", ".join(["SELECT " + columns[0], *columns[1:]])
        + f' FROM "{tablename}" AS r WHERE r."id" = ANY({{}})) AS x'
    )


_HEX = "[0-9a-f]"
_UUID_GLOB = "-".join(_HEX * n for n in (8, 4, 4, 4, 12))
_STAMP_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]*+00:00"
# SQLite: per column type, the expression whose value `json_object` writes as msgspec writes what
# Piccolo's converter reads from the stored value, and the condition under which that holds: the
# value is in the form Piccolo stores it (a UUID as its canonical text, a time in UTC as
# `str(datetime)` writes it, a boolean as 0 or 1 …). A row with any other value (only ever
# written by hand) is read through the converters instead. REAL and NUMERIC are not here: SQLite
# writes a double with 15 digits where Python writes the shortest exact form, and a NUMERIC
# column holds a Decimal as a double.
_SQLITE_JSON: dict[type, tuple[str, str]] = {
    Timestamptz: (
        "substr({c}, 1, 10) || 'T' || substr({c}, 12, length({c}) - 17) || 'Z'",
        f"typeof({{c}}) = 'text' AND {{c}} GLOB '{_STAMP_GLOB}'"
        " AND (length({c}) = 25 OR (length({c}) = 32 AND substr({c}, 20, 1) = '.'))",
    ),
    UUIDColumn: ("{c}", f"typeof({{c}}) = 'text' AND {{c}} GLOB '{_UUID_GLOB}'"),
    BigInt: ("{c}", "typeof({c}) = 'integer'"),
    Integer: ("{c}", "typeof({c}) = 'integer'"),
    Boolean: (
        "CASE WHEN {c} IS NULL THEN NULL WHEN {c} = 1 THEN json('true') ELSE json('false') END",
        "typeof({c}) = 'integer' AND {c} IN (0, 1)",
    ),
    Date: ("{c}", "typeof({c}) = 'text' AND date({c}) = {c}"),
    Text: ("{c}", "typeof({c}) = 'text'"),
    Varchar: ("{c}", "typeof({c}) = 'text'"),
}


@cache
def _sqlite_json_parts(tablename: str) -> tuple[str, str, str] | None:
    table = synced_tables()[tablename]
    hidden = _secret_columns(tablename)
    pairs, checks = [], []
    for column in table._meta.columns:
        if column._meta.name in hidden:
            continue
        kind = type(column)
        if isinstance(column, ForeignKey):
            target = column._foreign_key_meta.resolved_references._meta.primary_key
            kind = type(target) if isinstance(target, UUIDColumn) else ForeignKey
        found = _SQLITE_JSON.get(kind)
        if found is None:
            return None
        name = column._meta.db_column_name
        c = f'"{name}"'
        pairs.append(f"'{name}', " + found[0].format(c=c))
        checks.append(f"({c} IS NULL OR ({found[1].format(c=c)}))")
    # the id and the flag as expressions, so that no converter reads them; no JSON for a row in
    # another form (json_object refuses a BLOB, for one)
    exact = " AND ".join(checks)
    body = f"CASE WHEN {exact} THEN json_object(" + ", ".join(pairs) + ") END"
    head = f'SELECT CAST("id" AS TEXT), CAST("deleted" AS INTEGER), {exact}, {body}'
    return head, f' FROM "{tablename}" WHERE "id" IN (', ")"


def sqlite_json_sql(tablename: str, count: int) -> str | None:
    """SQLite: `count` rows of a synced table by id ({} placeholders), each as (id, deleted,
    whether its JSON is exact, its JSON made by SQLite), with no value passing Piccolo's
    converters on the database thread; None when a column's type has no known JSON form."""
    parts = _sqlite_json_parts(tablename)
    if parts is None:
        return None
    head, source, tail = parts
    return head + source + ", ".join("{}" for _ in range(count)) + tail
