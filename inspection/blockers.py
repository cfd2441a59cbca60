"""What stands in the way of a joint acceptance (竣工验收): each domain lists its open business.

A domain that can block an acceptance offers a module with

    async def acceptance_blockers(project_id: UUID, site_id: UUID | None) -> list[Blocker]

(site_id None: the whole project) and is named in BLOCKER_MODULES. The acceptance service asks
them all and refuses while any answers, listing each blocker.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from inspection.messages import Message
from inspection.projects.tables import Building, Organisation, Site, WorkItem

BLOCKER_MODULES: list[str] = [
    "inspection.rectification.blockers",
    "inspection.checklists.blockers",
    "inspection.samples.blockers",
]


@dataclass(frozen=True)
class Blocker:
    kind: str  # a stable name: open_order, work_stopped, inspection_draft, batch_not_disposed, …
    record_table: str
    record_id: UUID
    description: Message  # a sentence naming the 小区, building and work item
    link: str  # the record in the portal, a path under the server's public address


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


async def acceptance_blockers(project_id: UUID, site_id: UUID | None = None) -> list[Blocker]:
    found: list[Blocker] = []
    for name in BLOCKER_MODULES:
        module = importlib.import_module(name)
        found += await module.acceptance_blockers(project_id, site_id)
    return found
