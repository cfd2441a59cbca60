"""What sync serves and accepts: the synced tables and the named mutations of every domain.

A domain offers its tablet commands in a `mutations.py` module with a `MUTATIONS` dict of
`"name@version": handler`; the modules are listed in MUTATION_MODULES below.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import msgspec
from piccolo.table import Table

from inspection.errors import ValidationFailed

S = TypeVar("S", bound=msgspec.Struct)

if TYPE_CHECKING:
    from inspection.sync.service import MutationContext

MUTATION_MODULES = [
    "inspection.projects.mutations",
    "inspection.rectification.mutations",
    "inspection.checklists.mutations",
    "inspection.samples.mutations",
]

# Tables that carry sync columns but must not reach tablets.
NOT_SYNCED = {"app_user"}


@dataclass(frozen=True)
class Outcome:
    status: str  # applied | noop | conflict_recorded
    version: int | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[["MutationContext"], Awaitable[Outcome]]


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


def plain(value: Any) -> Any:
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def serialise(tablename: str, row: dict[str, Any]) -> dict[str, Any]:
    """The row as a tablet receives it. UUIDs, times and decimals are left for the JSON encoder
    (msgspec writes them natively, much faster than converting each value here)."""
    hidden = _secret_columns(tablename)
    if not hidden:
        return row
    return {k: v for k, v in row.items() if k not in hidden}


def parse_args(args: dict[str, Any], shape: type[S]) -> S:
    """A mutation's `args` as the Struct its command takes; a bad value is refused naming the field
    under `args.` so the tablet can show which input was wrong."""
    try:
        return msgspec.convert(args, shape, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = message.rpartition("`$.")[2].rstrip("`") if "`$." in message else ""
        raise ValidationFailed(message, field=f"args.{path}" if path else "args") from None


@cache
def handlers() -> dict[str, Handler]:
    found: dict[str, Handler] = {}
    for module_name in MUTATION_MODULES:
        module = importlib.import_module(module_name)
        for name, handler in module.MUTATIONS.items():
            if name in found:
                raise RuntimeError(f"mutation {name} is offered twice")
            found[name] = handler
    return found
