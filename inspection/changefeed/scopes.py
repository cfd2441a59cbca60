"""Ordering scopes and sync buckets: which scope a change is numbered in, which bucket it is read from.

A scope is a project (its id), `ref` (reference data every tablet receives: organisations,
checklist templates) or `sys` (people and whatever belongs to no project). Changes are numbered
per scope; buckets (what a user may read) each belong to exactly one scope.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

REF_SCOPE = UUID("00000000-0000-0000-0000-000000000001")
SYS_SCOPE = UUID("00000000-0000-0000-0000-000000000002")
_NAMED = {REF_SCOPE: "ref", SYS_SCOPE: "sys"}
_BY_NAME = {name: scope for scope, name in _NAMED.items()}

REFERENCE_BUCKET = "ref"


def project_bucket(project_id: UUID | str) -> str:
    return f"project:{project_id}"


def contractor_bucket(project_id: UUID | str, organisation_id: UUID | str) -> str:
    return f"project:{project_id}:org:{organisation_id}"


def office_bucket(project_id: UUID | str) -> str:
    """What only the project's office roles (projects.rules.OFFICE_ROLES) receive: complaints."""
    return f"project:{project_id}:office"


def context_bucket(project_id: UUID | str) -> str:
    """What a contractor needs around its own records: the project, its sites and buildings."""
    return f"project:{project_id}:context"


def context_buckets(project_id: UUID | str) -> list[str]:
    return [project_bucket(project_id), context_bucket(project_id)]


def is_project(scope: UUID) -> bool:
    return scope not in _NAMED


def scope_name(scope: UUID) -> str:
    """How people and cursors name a scope: `ref`, `sys`, or the project's id."""
    return _NAMED.get(scope) or str(scope)


def scope_from_name(name: str) -> UUID:
    """The scope a name stands for; ValueError when it names none."""
    return _BY_NAME.get(name) or UUID(name)


def scope_of_bucket(bucket: str) -> UUID:
    """The scope whose sequence numbers a bucket's changes carry."""
    if bucket == REFERENCE_BUCKET:
        return REF_SCOPE
    kind, _, rest = bucket.partition(":")
    if kind == "project":
        return UUID(rest.partition(":")[0])
    raise ValueError(f"bucket {bucket!r} belongs to no scope")


def project_of_bucket(bucket: str) -> UUID | None:
    try:
        scope = scope_of_bucket(bucket)
    except ValueError:
        return None
    return scope if is_project(scope) else None


# A project table names its project in one of these columns (tests/test_partitioning.py checks
# that every table holding project data has one).
PROJECT_COLUMNS = ("project", "project_id")


def scope_of_row(tablename: str, row: dict[str, Any]) -> UUID:
    """The scope of a record written with no bucket: its project's, else `sys`. A project row is
    its own project's (the `project` table's key is the project id)."""
    if tablename == "project" and row.get("id") is not None:
        return _uuid(row["id"])
    for column in PROJECT_COLUMNS:
        value = row.get(column)
        if value is not None:
            return _uuid(value)
    return SYS_SCOPE


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
