"""Raising an alert exactly once: one `alert` row per (rule, subject, occurrence, threshold) by
insert-or-ignore on its unique key, and, only when it is new, one notification per recipient in
the rectification outbox (which the in-app feed reads and the delivery job sends on), written in
bulk with insert-or-ignore on the outbox's own unique index, as `notify_once` would one by one.

`INSERT … ON CONFLICT (key) DO NOTHING RETURNING id` answers a row only to the writer that made
it, on SQLite (≥ 3.35) and PostgreSQL alike, so two processes running the same job at once make
the alert once and notify once, with or without the job lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from inspection import db
from inspection.projects.rules import Role
from inspection.projects.tables import Membership, Project
from inspection.records import new_id
from inspection.rectification.notifications import Recipient


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


CHUNK = 500  # rows per statement: well under SQLite's limit on bound parameters


async def raise_alert(spec: AlertSpec, recipients: Sequence[Recipient], at: datetime) -> bool:
    """Make the alert and its notifications unless the key exists; True when made now.
    Call inside a transaction so the alert and its notifications commit together."""
    return await raise_alerts([(spec, recipients)], at) == 1


async def raise_alerts(batch: Sequence[tuple[AlertSpec, Sequence[Recipient]]], at: datetime) -> int:
    """Many alerts in a few statements (a scan's page at a time); the number made now. Only a
    new alert notifies, and the notifications' own unique index makes each one once."""
    made: set[str] = set()
    for i in range(0, len(batch), CHUNK):
        part = batch[i : i + CHUNK]
        args: list[Any] = []
        for spec, _ in part:
            args += [
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
            ]
        rows = await db.raw(
            "INSERT INTO alert (id, key, rule, subject_table, subject_id, threshold, project, message, due_on,"  # noqa: S608 - placeholders only
            " created_at) VALUES "
            + ", ".join(["({}, {}, {}, {}, {}, {}, {}, {}, {}, {})"] * len(part))
            + " ON CONFLICT (key) DO NOTHING RETURNING key",
            *args,
        )
        made |= {r["key"] for r in rows}
    notes = [(spec, r) for spec, recipients in batch if spec.key in made for r in dict.fromkeys(recipients)]
    for i in range(0, len(notes), CHUNK):
        part_notes = notes[i : i + CHUNK]
        args = []
        for spec, (kind, rid) in part_notes:
            args += [
                new_id(),
                rid if kind == "user" else None,
                rid if kind == "org" else None,
                f"{kind}:{rid}",
                spec.project_id,
                spec.rule,
                spec.subject_table,
                spec.subject_id,
                spec.rule,
                spec.occurrence,
                spec.threshold,
                spec.message,
                at,
            ]
        # the rectification outbox's table and unique index (notification_once), in bulk
        await db.raw(
            "INSERT INTO notification (id, recipient_user, recipient_organisation, recipient_key, project, kind,"  # noqa: S608 - placeholders only
            " subject_table, subject_id, rule, occurrence, threshold, message, created_at) VALUES "
            + ", ".join(["({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})"] * len(part_notes))
            + " ON CONFLICT (subject_table, subject_id, rule, occurrence, threshold, recipient_key) DO NOTHING",
            *args,
        )
    return len(made)


async def project_owner(project_id: UUID) -> list[Recipient]:
    row = await Project.select(Project.owner_organisation).where(Project.id == project_id).first()
    return [("org", row["owner_organisation"])] if row and row["owner_organisation"] else []


async def members_with_role(project_id: UUID, role: Role) -> list[Recipient]:
    rows = await Membership.select(Membership.user).where(
        (Membership.project == project_id) & (Membership.role == role.value) & Membership.deleted.eq(False)
    )
    return [("user", r["user"]) for r in sorted(rows, key=lambda r: str(r["user"]))]
