"""What sync serves: the synced tables and how their rows travel to tablets. (What it accepts,
the tablet commands, is the table in inspection/sync/commands/__init__.py.)"""

from __future__ import annotations

from functools import cache
from typing import Any

from piccolo.table import Table

from inspection.records import plain as plain  # conflicts record kept and lost values with it

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
