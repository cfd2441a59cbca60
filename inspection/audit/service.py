"""Append to and verify the audit chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from inspection.audit.tables import AuditEntry, AuditHead

if TYPE_CHECKING:
    from inspection.records import Write

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def entry_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 over the entry's own fields and the previous hash, in a fixed text form."""
    body = canonical_json(
        {
            "seq": fields["seq"],
            "at": fields["at"],
            "actor_id": fields["actor_id"],
            "actor_name": fields["actor_name"],
            "device_id": fields["device_id"],
            "action": fields["action"],
            "table_name": fields["table_name"],
            "record_id": fields["record_id"],
            "changes": fields["changes"],
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


async def append(write: Write, action: str, table_name: str, record_id: Any, changes: dict[str, Any]) -> None:
    """Add one entry inside the caller's transaction. The transaction already holds the change
    counter's lock, so no other writer can append between reading the last hash and inserting."""
    head = await AuditHead.select(AuditHead.last_hash).where(AuditHead.id == 1).first()
    prev_hash = head["last_hash"] if head else GENESIS
    fields: dict[str, Any] = {
        "seq": write.seq,
        "at": write.now.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": str(write.actor.user_id or ""),
        "actor_name": write.actor.username,
        "device_id": write.actor.device_id,
        "action": action,
        "table_name": table_name,
        "record_id": str(record_id),
        "changes": canonical_json(changes),
    }
    digest = entry_hash(fields, prev_hash)
    inserted = await AuditEntry.insert(
        AuditEntry(**fields, prev_hash=prev_hash, hash=digest, written_at=write.now)
    ).returning(AuditEntry.id)
    new_id = inserted[0]["id"]
    if head:
        await AuditHead.update({AuditHead.last_id: new_id, AuditHead.last_hash: digest}).where(AuditHead.id == 1)
    else:
        await AuditHead.insert(AuditHead(id=1, last_id=new_id, last_hash=digest))


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""


async def verify(batch: int = 5000) -> VerifyResult:
    """Walk the chain in id order. The first entry whose stored hash does not match its content
    was edited; one whose prev_hash does not match the entry before it follows a removal or a
    reordering."""
    prev_hash = GENESIS
    prev_id = 0
    checked = 0
    while True:
        rows = await AuditEntry.select().where(AuditEntry.id > prev_id).order_by(AuditEntry.id).limit(batch)
        if not rows:
            head = await AuditHead.select().where(AuditHead.id == 1).first()
            if head and (head["last_id"] != prev_id or head["last_hash"] != prev_hash):
                return VerifyResult(
                    ok=False,
                    checked=checked,
                    first_bad_id=head["last_id"],
                    reason=f"the chain ends at entry {prev_id or 'none'} but its head records entry "
                    f"{head['last_id']}: the newest entries were removed or edited",
                )
            return VerifyResult(ok=True, checked=checked)
        for row in rows:
            if row["prev_hash"] != prev_hash:
                return VerifyResult(
                    ok=False,
                    checked=checked,
                    first_bad_id=row["id"],
                    reason=f"entry {row['id']} does not follow entry {prev_id or 'none'}: "
                    "an entry before it was removed, inserted or reordered",
                )
            if entry_hash(row, row["prev_hash"]) != row["hash"]:
                return VerifyResult(
                    ok=False,
                    checked=checked,
                    first_bad_id=row["id"],
                    reason=f"entry {row['id']} was edited: its content no longer matches its hash",
                )
            prev_hash = row["hash"]
            prev_id = row["id"]
            checked += 1


async def history(table_name: str, record_id: Any) -> list[dict[str, Any]]:
    rows = (
        await AuditEntry.select(
            AuditEntry.id,
            AuditEntry.seq,
            AuditEntry.at,
            AuditEntry.actor_id,
            AuditEntry.actor_name,
            AuditEntry.action,
            AuditEntry.changes,
        )
        .where((AuditEntry.table_name == table_name) & (AuditEntry.record_id == str(record_id)))
        .order_by(AuditEntry.id)
    )
    for row in rows:
        row["changes"] = json.loads(row["changes"])
        row["at"] = datetime.fromisoformat(row["at"])
    return rows
