"""Append to, checkpoint and verify the audit log: a hash chain per scope, signed checkpoints over all.

The log plugs into the change feed as a sink (`chain_entries`, registered by this app's
piccolo_app): when a write transaction commits, the feed has locked the rows of the scopes it
wrote, and the sink chains the transaction's entries onto each scope's head, which the feed then
stores with the scope's sequence. Nothing here is imported by the write path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from inspection import db
from inspection.audit import chain
from inspection.audit.chain import GENESIS, canonical_json, entry_hash
from inspection.audit.tables import AuditEntry
from inspection.changefeed.pending import Head, Statement, Step
from inspection.changefeed.scopes import scope_name
from inspection.clock import Clock
from inspection.messages import Message, t

if TYPE_CHECKING:
    from inspection.records import Write

__all__ = ["GENESIS", "append", "canonical_json", "chain_entries", "checkpoint", "entry_hash", "history", "verify"]

# Entries per INSERT (14 values each).
ENTRIES_PER_STATEMENT = 200
_COLUMNS = (
    "scope",
    "scope_no",
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
_QUOTED = ", ".join(f'"{c}"' for c in _COLUMNS)


async def _global_head() -> tuple[int, str]:
    rows = await db.raw("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
    return (int(rows[0]["last_id"]), rows[0]["last_hash"]) if rows else (0, GENESIS)


async def append(
    write: Write, action: str, table_name: str, record_id: Any, changes: dict[str, Any], *, scope: UUID | None = None
) -> None:
    """Add one entry to the caller's transaction; chained when it commits (see `Write.note` for
    which scope's chain it joins)."""
    write.note(action, table_name, record_id, changes, scope=scope)


async def chain_entries(steps: list[Step], heads: dict[UUID, Head]) -> list[Statement]:
    """The change feed's sink: each step's events as entries, chained per scope in step order."""
    rows: list[list[Any]] = []
    global_hash: str | None = None
    for step in steps:
        if not step.events:
            continue
        at = step.now.astimezone(UTC).isoformat(timespec="microseconds")
        for event in step.events:
            head = heads[event.scope]
            if not head.audit_hash:  # the scope's first entry
                if global_hash is None:
                    global_hash = (await _global_head())[1]
                head.audit_hash = chain.scope_seed(global_hash, scope_name(event.scope))
            head.audit_no += 1
            fields: dict[str, Any] = {
                "scope": scope_name(event.scope),
                "scope_no": head.audit_no,
                "seq": step.seq_in(event.scope),
                "at": at,
                "actor_id": str(step.actor.user_id or ""),
                "actor_name": step.actor.username,
                "device_id": step.actor.device_id,
                "action": event.action,
                "table_name": event.table_name,
                "record_id": str(event.record_id),
                "changes": canonical_json(event.changes),
            }
            digest = entry_hash(fields, head.audit_hash)
            rows.append([event.scope, *list(fields.values())[1:], head.audit_hash, digest, step.now])
            head.audit_hash = digest
    statements: list[Statement] = []
    for start in range(0, len(rows), ENTRIES_PER_STATEMENT):
        part = rows[start : start + ENTRIES_PER_STATEMENT]
        row_sql = "(" + ", ".join("{}" for _ in _COLUMNS) + ")"
        statements.append(
            (
                f"INSERT INTO audit_entry ({_QUOTED}) VALUES " + ", ".join(row_sql for _ in part),  # noqa: S608
                [value for row in part for value in row],
            )
        )
    return statements


# Checkpoints


@dataclass(frozen=True)
class Checkpoint:
    id: int
    at: datetime
    scopes: int
    entries: int
    root: str
    hash: str


async def _scope_heads() -> list[tuple[str, int, str]]:
    rows = await db.raw("SELECT scope, audit_no, audit_hash FROM sync_scope WHERE audit_no > 0")
    heads = [(scope_name(_uuid(r["scope"])), int(r["audit_no"]), r["audit_hash"]) for r in rows]
    last_id, last_hash = await _global_head()
    if last_id:
        heads.append(("global", last_id, last_hash))
    return sorted(heads)


async def checkpoint(secret_key: bytes, clock: Clock) -> Checkpoint:
    """Sign the Merkle root over every scope's chain head (and the closed global chain's), chained
    to the checkpoint before. Two made at once cannot both follow the same one: `prev_hash` is
    unique, and the loser tries again on the new last."""
    key = chain.checkpoint_key(secret_key)
    for _ in range(5):
        try:
            async with db.transaction():
                last = await db.raw("SELECT id, hash, root FROM audit_checkpoint ORDER BY id DESC LIMIT 1")
                prev_hash = last[0]["hash"] if last else GENESIS
                heads = await _scope_heads()
                root = chain.merkle_root([chain.leaf(*h) for h in heads])
                if last and last[0]["root"] == root:
                    return await _checkpoint_row(int(last[0]["id"]))  # nothing written since
                now = clock.now()
                at = now.astimezone(UTC).isoformat(timespec="microseconds")
                entries = sum(h[1] for h in heads)
                digest = chain.checkpoint_hash(at, len(heads), entries, root, prev_hash)
                rows = await db.raw(
                    "INSERT INTO audit_checkpoint (at, scopes, entries, leaves, root, prev_hash, hash, signature)"
                    " VALUES ({}, {}, {}, {}, {}, {}, {}, {}) RETURNING id",
                    now,
                    len(heads),
                    entries,
                    json.dumps([list(h) for h in heads]),
                    root,
                    prev_hash,
                    digest,
                    chain.sign(key, digest),
                )
            return Checkpoint(int(rows[0]["id"]), now, len(heads), entries, root, digest)
        except Exception as exc:  # the unique prev_hash: another checkpoint came first
            if "prev_hash" not in str(exc) and "unique" not in str(exc).lower():
                raise
    raise RuntimeError("could not make an audit checkpoint: others kept coming first")


def _as_checkpoint(r: dict[str, Any]) -> Checkpoint:
    return Checkpoint(int(r["id"]), r["at"], int(r["scopes"]), int(r["entries"]), r["root"], r["hash"])


async def _checkpoint_row(checkpoint_id: int) -> Checkpoint:
    rows = await db.raw("SELECT id, at, scopes, entries, root, hash FROM audit_checkpoint WHERE id = {}", checkpoint_id)
    return _as_checkpoint(rows[0])


async def latest_checkpoint(at_or_before: datetime | None = None) -> Checkpoint | None:
    """The newest checkpoint (made at or before a moment, when given)."""
    sql = "SELECT id, at, scopes, entries, root, hash FROM audit_checkpoint"
    args: list[Any] = []
    if at_or_before is not None:
        sql += " WHERE at <= {}"
        args.append(at_or_before)
    rows = await db.raw(sql + " ORDER BY id DESC LIMIT 1", *args)
    return _as_checkpoint(rows[0]) if rows else None


# Verification


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: Message | None = None  # what was found, for the operator (Chinese by default)
    scope: str | None = None
    checkpoints: int = 0


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _bad(checked: int, entry_id: int | None, reason: Message, scope: str | None = None) -> VerifyResult:
    return VerifyResult(ok=False, checked=checked, first_bad_id=entry_id, reason=reason, scope=scope)


async def verify(secret_key: bytes | None = None, batch: int = 5000) -> VerifyResult:
    """Check the closed global chain, every scope's chain and the checkpoints. The first entry
    whose stored hash does not match its content was edited; one whose `prev_hash` does not match
    the entry before it, or whose number skips, follows a removal or a reordering; a chain that
    ends before its head (or before the last checkpoint saw it) lost its newest entries; a scope
    the last checkpoint covered and that is gone was deleted whole. Signatures are checked when
    `secret_key` is given."""
    result, global_hash = await _verify_global(batch)
    if not result.ok:
        return result
    checked = result.checked
    stored_heads = {
        scope_name(_uuid(r["scope"])): (int(r["audit_no"]), r["audit_hash"])
        for r in await db.raw("SELECT scope, audit_no, audit_hash FROM sync_scope")
    }
    ends: dict[str, tuple[int, str]] = {}
    wanted = await _checkpoint_leaves()
    seen_leaves: set[str] = set()
    after: tuple[Any, int] | None = None
    current: str | None = None
    no, prev = 0, GENESIS
    while True:
        clause, args = (
            ("WHERE scope IS NOT NULL", [])
            if after is None
            else (
                "WHERE scope IS NOT NULL AND (scope > {} OR (scope = {} AND scope_no > {}))",
                [after[0], after[0], after[1]],
            )
        )
        rows = await db.raw(f"SELECT * FROM audit_entry {clause} ORDER BY scope, scope_no LIMIT {int(batch)}", *args)  # noqa: S608
        if not rows:
            break
        for row in rows:
            name = scope_name(_uuid(row["scope"]))
            if name != current:
                if current is not None:
                    ends[current] = (no, prev)
                current, no, prev = name, 0, chain.scope_seed(global_hash, name)
            if row["scope_no"] != no + 1 or row["prev_hash"] != prev:
                reason = (
                    t("audit.out_of_order", entry=row["id"], previous=no, scope=name)
                    if no
                    else t("audit.out_of_order_start", entry=row["id"], scope=name)
                )
                return _bad(checked, row["id"], reason, name)
            fields = {**row, "scope": name}
            if entry_hash(fields, row["prev_hash"]) != row["hash"]:
                return _bad(checked, row["id"], t("audit.entry_edited", entry=row["id"]), name)
            leaf = wanted.get(name)
            if leaf is not None and leaf[0] == row["scope_no"]:
                if leaf[1] != row["hash"]:
                    return _bad(checked, row["id"], t("audit.not_the_signed_entry", entry=row["id"], scope=name), name)
                seen_leaves.add(name)
            no, prev = row["scope_no"], row["hash"]
            checked += 1
        after = (rows[-1]["scope"], rows[-1]["scope_no"])
    if current is not None:
        ends[current] = (no, prev)
    for name in sorted(set(ends) | {n for n, h in stored_heads.items() if h[0] > 0}):
        end, head = ends.get(name, (0, "")), stored_heads.get(name)
        if head is None:
            return _bad(checked, None, t("audit.scope_without_head", scope=name), name)
        if head[0] != end[0] or (head[0] and head[1] != end[1]):
            return _bad(checked, None, t("audit.scope_chain_short", scope=name, end=end[0], head=head[0]), name)
    for name, (no, _) in sorted(wanted.items()):
        if name != "global" and name not in seen_leaves:
            return _bad(checked, None, t("audit.signed_entry_gone", no=no, scope=name), name)
    counted = await _verify_checkpoints(secret_key)
    if isinstance(counted, VerifyResult):
        return VerifyResult(False, checked, counted.first_bad_id, counted.reason, counted.scope)
    return VerifyResult(ok=True, checked=checked, checkpoints=counted)


async def _verify_global(batch: int) -> tuple[VerifyResult, str]:
    """The global chain of the entries made before scopes, by id, ending at `audit_head`."""
    prev_hash, prev_id, checked = GENESIS, 0, 0
    while True:
        rows = await db.raw(
            "SELECT * FROM audit_entry WHERE scope IS NULL AND id > {} ORDER BY id LIMIT {}", prev_id, batch
        )
        if not rows:
            break
        for row in rows:
            if row["prev_hash"] != prev_hash:
                reason = (
                    t("audit.global_out_of_order", entry=row["id"], previous=prev_id)
                    if prev_id
                    else t("audit.global_out_of_order_start", entry=row["id"])
                )
                return _bad(checked, row["id"], reason), prev_hash
            if entry_hash({**row, "scope": None}, row["prev_hash"]) != row["hash"]:
                return _bad(checked, row["id"], t("audit.entry_edited", entry=row["id"])), prev_hash
            prev_hash, prev_id = row["hash"], row["id"]
            checked += 1
    last_id, last_hash = await _global_head()
    if (last_id, last_hash if last_id else GENESIS) != (prev_id, prev_hash):
        reason = (
            t("audit.global_chain_short", end=prev_id, head=last_id)
            if prev_id
            else t("audit.global_chain_empty", head=last_id)
        )
        return _bad(checked, last_id, reason), prev_hash
    return VerifyResult(ok=True, checked=checked), prev_hash


async def _checkpoint_leaves() -> dict[str, tuple[int, str]]:
    rows = await db.raw("SELECT leaves FROM audit_checkpoint ORDER BY id DESC LIMIT 1")
    return {name: (int(no), digest) for name, no, digest in json.loads(rows[0]["leaves"])} if rows else {}


async def _verify_checkpoints(secret_key: bytes | None) -> int | VerifyResult:
    key = chain.checkpoint_key(secret_key) if secret_key else None
    prev_hash, count = GENESIS, 0
    for row in await db.raw("SELECT * FROM audit_checkpoint ORDER BY id"):
        at = row["at"].astimezone(UTC).isoformat(timespec="microseconds")
        leaves = [chain.leaf(name, int(no), digest) for name, no, digest in json.loads(row["leaves"])]
        problem: Message | None = None
        if row["prev_hash"] != prev_hash:
            problem = t("audit.checkpoint_out_of_order", id=row["id"])
        elif chain.merkle_root(leaves) != row["root"]:
            problem = t("audit.checkpoint_root_edited", id=row["id"])
        elif chain.checkpoint_hash(at, row["scopes"], row["entries"], row["root"], row["prev_hash"]) != row["hash"]:
            problem = t("audit.checkpoint_edited", id=row["id"])
        elif key is not None and chain.sign(key, row["hash"]) != row["signature"]:
            problem = t("audit.checkpoint_unsigned", id=row["id"])
        if problem is not None:
            return _bad(0, None, problem)
        prev_hash = row["hash"]
        count += 1
    return count


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
        .order_by(AuditEntry.at)
        .order_by(AuditEntry.id)
    )
    for row in rows:
        row["changes"] = json.loads(row["changes"])
        row["at"] = datetime.fromisoformat(row["at"])
    return rows
