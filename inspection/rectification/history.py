"""An order's sync buckets and its history: every move (and each escalation) as one OrderEvent row,
which also reaches the audit log through the write path."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from inspection.records import Write, contractor_bucket, project_bucket
from inspection.rectification.rules import OrderState
from inspection.rectification.tables import OrderEvent


def order_buckets(order: dict[str, Any]) -> list[str]:
    """A draft stays with the issuing side; from issue on, the contractor's bucket has it too."""
    buckets = [project_bucket(order["project"])]
    if order["status"] != OrderState.draft.value:
        buckets.append(contractor_bucket(order["project"], order["contractor"]))
    return buckets


async def record_event(
    w: Write,
    order: dict[str, Any],
    action: str,
    from_state: str | None,
    to_state: str,
    *,
    reason: str = "",
    deadline: datetime | None = None,
    response_id: UUID | None = None,
) -> None:
    await w.insert(
        OrderEvent,
        {
            "order": order["id"],
            "project": order["project"],
            "action": action,
            "from_state": from_state,
            "to_state": to_state,
            "actor": w.actor.user_id,
            "actor_organisation": w.actor.organisation_id,
            "at": w.now,
            "reason": reason,
            "deadline": deadline,
            "response": response_id,
        },
        order_buckets({**order, "status": to_state}),
    )
