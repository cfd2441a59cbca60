"""Raising an alert exactly once: one `alert` row per (rule, subject, occurrence, threshold) by
insert-or-ignore on its unique key, and, only when it is new, one notification per recipient in
the rectification outbox (which the in-app feed reads and the delivery job sends on).

`INSERT … ON CONFLICT (key) DO NOTHING RETURNING id` answers a row only to the writer that made
it, on SQLite (≥ 3.35) and PostgreSQL alike, so two processes running the same job at once make
the alert once and notify once, with or without the job lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from inspection import db
from inspection.projects.rules import Role
from inspection.projects.tables import Membership, Project
from inspection.records import new_id
from inspection.rectification.notifications import Recipient, notify_once


@dataclass(frozen=True)
class AlertSpec:
    rule: str
    subject_table: str
    subject_id: UUID
    threshold: int
    project_id: UUID | None
    message: str
    # which occurrence of the rule for this subject (an order's deadline round); 0 if only one
    occurrence: int = 0
    due_on: date | None = None

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.subject_table}:{self.subject_id}:{self.occurrence}:{self.threshold}"


async def raise_alert(spec: AlertSpec, recipients: Sequence[Recipient], at: datetime) -> bool:
    """Make the alert and its notifications unless the key exists; True when made now.
    Call inside a transaction so the alert and its notifications commit together."""
    rows = await db.raw(
        "INSERT INTO alert (id, key, rule, subject_table, subject_id, threshold, project, message, due_on, created_at)"
        " VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}) ON CONFLICT (key) DO NOTHING RETURNING id",
        new_id(),
        spec.key,
        spec.rule,
        spec.subject_table,
        spec.subject_id,
        spec.threshold,
        spec.project_id,
        spec.message,
        spec.due_on,
        at,
    )
    if not rows:
        return False
    for recipient in dict.fromkeys(recipients):
        await notify_once(
            recipient,
            kind=spec.rule,
            subject_table=spec.subject_table,
            subject_id=spec.subject_id,
            rule=spec.rule,
            occurrence=spec.occurrence,
            threshold=spec.threshold,
            project_id=spec.project_id,
            message=spec.message,
            at=at,
        )
    return True


async def project_owner(project_id: UUID) -> list[Recipient]:
    row = await Project.select(Project.owner_organisation).where(Project.id == project_id).first()
    return [("org", row["owner_organisation"])] if row and row["owner_organisation"] else []


async def members_with_role(project_id: UUID, role: Role) -> list[Recipient]:
    rows = await Membership.select(Membership.user).where(
        (Membership.project == project_id) & (Membership.role == role.value) & Membership.deleted.eq(False)
    )
    return [("user", r["user"]) for r in sorted(rows, key=lambda r: str(r["user"]))]
