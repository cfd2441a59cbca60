"""Raising an alert exactly once: one `alert` row per (rule, subject, occurrence, threshold) by
insert-or-ignore on its unique key, and, only when it is new, one notification per recipient
through the notifications domain's outbox (`notify_many`: in bulk, each once by the outbox's own
unique index). Alerts go to organisations and the project's roles as the rules name them; the
outbox applies each person's choice for the alert's kind (notifications/outbox.py `notify_many`).

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
from inspection.notifications.outbox import Note, notify_many
from inspection.notifications.recipients import Recipient
from inspection.records import new_id


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
    await notify_many(
        [
            Note(
                recipient=r,
                kind=spec.rule,
                subject_table=spec.subject_table,
                subject_id=spec.subject_id,
                rule=spec.rule,
                occurrence=spec.occurrence,
                threshold=spec.threshold,
                project_id=spec.project_id,
                message=spec.message,
            )
            for spec, recipients in batch
            if spec.key in made
            for r in dict.fromkeys(recipients)
        ],
        at,
    )
    return len(made)
