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
    """Rows of a synced table by id, as the JSON a tablet receives. On PostgreSQL the database
    writes each row's JSON itself (`json_sql`), so no row becomes Python objects on the way; on
    SQLite, and for a table with a column type `json_sql` does not know, the row is read and
    encoded here (`serialise`)."""
    sql = None if snapshot.sqlite else json_sql(tablename)
    if sql is not None:
        return [
            Fetched(rid, bool(deleted), msgspec.Raw(body)) for rid, deleted, body in await snapshot.tuples(sql, ids)
        ]
    out = []
    for row in await snapshot.dicts(select_sql(tablename, len(ids)), *ids):
        out.append(Fetched(str(row["id"]), bool(row.get("deleted")), msgspec.Raw(_encode(serialise(tablename, row)))))
    return out


# msgspec writes a UTC datetime as 2026-12-03T08:00:00Z, with .ffffff only when there are
# microseconds; PostgreSQL's own JSON would say +00:00 and always the fraction.
_UTC = "({c} AT TIME ZONE 'UTC')"
_TIMESTAMPTZ = (
    "to_char(" + _UTC + ", 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN to_char(" + _UTC + ", 'US') = '000000'"
    " THEN '' ELSE to_char(" + _UTC + ", '.US') END || 'Z'"
)
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
