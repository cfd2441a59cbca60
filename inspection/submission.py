"""An inspection just submitted, as other domains' submit handlers see it, and the handlers' type.

Submitting runs each handler of `inspection/submit_handlers.py` in the submit's own transaction,
in order: one that refuses rolls the whole submission back, so a submission never half-happens.
The checklists domain fills this in from its templates and scores, so the handlers need know
nothing of checklists and checklists nothing of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.records import Write

ANSWER_TABLE = "inspection_answer"


@dataclass(frozen=True)
class Finding:
    """A failed item that asks for an order, or an item the inspector flagged."""

    code: str
    answer_id: UUID
    description: str  # "<checklist title> <item code> <item text>:<reason>。<note>"
    photos: Sequence[str]  # SHA-256 of the answer's photos
    # failed and a major hazard (重大事故隐患): its category, and a stop-work order is proposed too
    major_hazard: str | None = None


@dataclass(frozen=True)
class Submitted:
    inspection: dict[str, Any]  # the submitted row: id, project, site, building, work item, contractor, grade…
    kind: str  # the checklist's kind: quality | safety | …
    findings: Sequence[Finding]
    occurrence: UUID | None  # the scheduled occurrence this submission carries out
    replaces: UUID | None  # the revision it supersedes


SubmitHandler = Callable[[Write, Actor, Submitted], Awaitable[None]]
