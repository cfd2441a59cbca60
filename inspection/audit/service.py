"""Append to and verify the audit chain."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from inspection import db
from inspection.audit.tables import AuditEntry, AuditHead

if TYPE_CHECKING:
    from inspection.records import Write

GENESIS = "0" * 64


# Entries per INSERT when a transaction writes its entries (12 values each).
ENTRIES_PER_STATEMENT = 200
_COLUMNS = (
    "seq",
    "at",
    "actor_id",
    "actor_name",
    "device_id",
    "action",
    "table_name",
    "record_id",
    "changes",
    "prev_hash",
    "hash",
    "written_at",
)
_HASH = _COLUMNS.index("hash")


@dataclass
class PendingEntries:
    """The entries one write transaction has appended, kept in order until it is about to commit
    (`write_pending`), after the chain's head as the transaction found it."""

    head_id: int
    head_hash: str
    head_exists: bool
    rows: list[list[Any]] = field(default_factory=list)

    @property
    def last_hash(self) -> str:
        return self.rows[-1][_HASH] if self.rows else self.head_hash  # type: ignore[no-any-return]


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
    """Add one entry to the caller's transaction. The transaction already holds the change
    counter's lock, so no other writer can append until it commits: the head is read once per
    transaction, and the entries, chained to it and to each other here, are inserted together
    just before the commit (`write_pending`)."""
    chain = write.pending.audit
    if chain is None:
        head = await db.raw("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
        chain = (
            PendingEntries(int(head[0]["last_id"]), head[0]["last_hash"], True)
            if head
            else PendingEntries(0, GENESIS, False)
        )
        write.pending.audit = chain
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
    prev_hash = chain.last_hash
    chain.rows.append([*fields.values(), prev_hash, entry_hash(fields, prev_hash), write.now])


async def write_pending(chain: PendingEntries) -> None:
    """Insert a transaction's entries in chain order and point `audit_head` at the last one.
    `verify` walks the chain by id, so ids must rise in chain order: both engines number the rows
    of one multi-row INSERT in the order given, and this checks it rather than trusting it."""
    if not chain.rows:
        return
    ids: list[int] = []
    for start in range(0, len(chain.rows), ENTRIES_PER_STATEMENT):
        part = chain.rows[start : start + ENTRIES_PER_STATEMENT]
        row_sql = "(" + ", ".join("{}" for _ in _COLUMNS) + ")"
        inserted = await db.raw(
            f"INSERT INTO audit_entry ({', '.join(_QUOTED)}) VALUES "  # noqa: S608 - fixed column names
            + ", ".join(row_sql for _ in part)
            + ' RETURNING id, "hash"',
            *[value for row in part for value in row],
        )
        id_of = {r["hash"]: int(r["id"]) for r in inserted}
        ids += [id_of[row[_HASH]] for row in part]
    if any(a >= b for a, b in itertools.pairwise(ids)):
        raise RuntimeError("audit entries were numbered out of chain order; nothing was written")
    last_id = ids[-1]
    if chain.head_exists:
        await AuditHead.update({AuditHead.last_id: last_id, AuditHead.last_hash: chain.last_hash}).where(
            AuditHead.id == 1
        )
    else:
        await AuditHead.insert(AuditHead(id=1, last_id=last_id, last_hash=chain.last_hash))
    chain.head_id, chain.head_hash, chain.head_exists = last_id, chain.last_hash, True
    chain.rows.clear()


_QUOTED = tuple(f'"{c}"' for c in _COLUMNS)


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
