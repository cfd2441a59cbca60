"""What stands in the way of a joint acceptance (竣工验收): each domain lists its open business.

A domain that can block an acceptance offers a module with

    async def acceptance_blockers(project_id: UUID, site_id: UUID | None) -> list[Blocker]

(site_id None: the whole project) and is named in BLOCKER_MODULES. The acceptance service asks
them all and refuses while any answers, listing each blocker.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from uuid import UUID

from inspection.messages import Message
from inspection.projects.names import organisation_names, place_names

BLOCKER_MODULES: list[str] = [
    "inspection.rectification.blockers",
    "inspection.checklists.blockers",
    "inspection.samples.blockers",
]


__all__ = ["Blocker", "acceptance_blockers", "organisation_names", "place_names"]


@dataclass(frozen=True)
class Blocker:
    kind: str  # a stable name: open_order, work_stopped, inspection_draft, batch_not_disposed, …
    record_table: str
    record_id: UUID
    description: Message  # a sentence naming the 小区, building and work item
    link: str  # the record in the portal, a path under the server's public address


async def acceptance_blockers(project_id: UUID, site_id: UUID | None = None) -> list[Blocker]:
    found: list[Blocker] = []
    for name in BLOCKER_MODULES:
        module = importlib.import_module(name)
        found += await module.acceptance_blockers(project_id, site_id)
    return found
