"""Names users read for places and organisations, looked up in bulk for texts (alerts, blockers)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from inspection.projects.tables import Building, Organisation, Site, WorkItem


async def place_names(rows: Iterable[dict[str, Any]]) -> list[str]:
    """ "李街花园 1号楼 屋面防水" for each row's `site`, `building` and `work_item` ids (any may be None)."""
    rows = list(rows)
    wanted: dict[Any, set[UUID]] = {Site: set(), Building: set(), WorkItem: set()}
    for row in rows:
        for table, key in ((Site, "site"), (Building, "building"), (WorkItem, "work_item")):
            if row.get(key):
                wanted[table].add(row[key])
    names: dict[UUID, str] = {}
    for table, ids in wanted.items():
        if ids:
            for r in await table.select(table.id, table.name).where(table.id.is_in(list(ids))):
                names[r["id"]] = r["name"]
    return [
        " ".join(names[row[k]] for k in ("site", "building", "work_item") if row.get(k) and row[k] in names)
        for row in rows
    ]


async def organisation_names(ids: Iterable[UUID | None]) -> dict[UUID, str]:
    wanted = [i for i in set(ids) if i is not None]
    if not wanted:
        return {}
    rows = await Organisation.select(Organisation.id, Organisation.name).where(Organisation.id.is_in(wanted))
    return {r["id"]: r["name"] for r in rows}
