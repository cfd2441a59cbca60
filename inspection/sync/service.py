"""Pull and push for offline tablets (see shared/DESIGN.md, "The sync protocol").

Pull: the cursor holds, per bucket, the sequence number the device has fully received. A pull
pins a target (the highest committed sequence when it starts) so all its pages form one snapshot,
walks the change index in (seq, table, id) order from a keyset position, and sends each record's
current row. New buckets arrive as a snapshot without tombstones; lost buckets as `purge`.

Push: a device numbers its mutations 1, 2, 3 …; a replay returns the stored outcome, a gap is
refused, and a permanent failure is stored as a `rejected` outcome so it never blocks the queue.
A push's mutations are applied in a few transactions of up to PUSH_TX_MUTATIONS each (a
transaction per mutation made a push of 1,000 take seconds), each mutation under its own
savepoint: a refused one is rolled back alone, with nothing of it left behind, and its stored
outcome commits with the others. A transient failure, or any unexpected one, commits the
mutations before it and stops the push (503 or 500); the tablet sends the rest again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from inspection import db, records
from inspection.actor import Actor
from inspection.clock import Clock
from inspection.errors import Conflict, DomainError, Unavailable, ValidationFailed
from inspection.messages import t
from inspection.projects.access import ProjectAccess
from inspection.projects.rules import OFFICE_ROLES, Role
from inspection.projects.tables import Membership
from inspection.records import (
    REFERENCE_BUCKET,
    context_bucket,
    contractor_bucket,
    new_id,
    office_bucket,
    project_bucket,
)
from inspection.signing import sign, unsign
from inspection.sync import registry, rules
from inspection.sync.commands import COMMANDS, AlreadyApplied, CommandContext, DomainServices, decode, refusal
from inspection.sync.tables import SyncDevice, SyncMutation

CURSOR_PURPOSE = "sync-cursor"
_encode = msgspec.json.Encoder().encode
MAX_LIMIT = 5000
DEFAULT_MAX_BYTES = 2_000_000
# Bounds of one push transaction. It holds the change counter (and on SQLite the write lock) to
# its commit, so other tablets' writes wait for it; and PostgreSQL keeps only 64 subtransactions
# (one per mutation's savepoint) per transaction in shared memory before every other session's
# snapshots get slower.
PUSH_TX_MUTATIONS = 50
PUSH_TX_SECONDS = 0.25


class UpgradeRequired(DomainError):
    status = 426
    slug = "upgrade-required"


class MutationOrderError(Conflict):
    slug = "mutation-order"


@dataclass
class BucketScope:
    """The buckets a user may read now, each with the project it belongs to."""

    buckets: dict[str, UUID | None]
    access: dict[UUID, ProjectAccess]


async def buckets_for(actor: Actor) -> BucketScope:
    """From the server's view of the user, never from what the client asks for."""
    rows = await Membership.select(Membership.project, Membership.role).where(
        (Membership.user == actor.user_id) & Membership.deleted.eq(False) & Membership.project.deleted.eq(False)  # type: ignore[union-attr]
    )
    roles: dict[UUID, set[Role]] = {}
    for r in rows:
        roles.setdefault(r["project"], set()).add(Role(r["role"]))
    buckets: dict[str, UUID | None] = {REFERENCE_BUCKET: None}
    access: dict[UUID, ProjectAccess] = {}
    for project_id, project_roles in roles.items():
        acc = ProjectAccess(project_id, frozenset(project_roles), actor.is_admin, actor.organisation_id)
        access[project_id] = acc
        if acc.contractor_only and actor.organisation_id is not None:
            buckets[contractor_bucket(project_id, actor.organisation_id)] = project_id
            buckets[context_bucket(project_id)] = project_id
        else:
            buckets[project_bucket(project_id)] = project_id
        # Residents' complaints (text, contact, photos) are written to the office bucket only: a
        # resident supervisor or a viewer of the project never receives them (issue 23, finding 5).
        if acc.has(*OFFICE_ROLES):
            buckets[office_bucket(project_id)] = project_id
    return BucketScope(buckets, access)


@dataclass
class PullResult:
    changes: dict[str, dict[str, list[Any]]]
    purge: list[dict[str, Any]]
    cursor: str
    has_more: bool
    last_mutation_seq: int
    server_now: datetime
    reset_required: bool = False


class SyncService:
    def __init__(self, key: bytes, clock: Clock, services: DomainServices, tombstone_days: int = 180) -> None:
        self.key = key
        self.clock = clock
        self.services = services  # what tablet commands call, as the API's controllers do
        self.tombstone_days = tombstone_days

    # Devices and clocks

    async def _device(
        self, actor: Actor, device_id: str, schema_version: int, device_now: datetime | None
    ) -> dict[str, Any]:
        """The device row for (install, person), created on first contact; records clock skew."""
        seen = self._seen(schema_version, device_now)
        row = await self._find_or_create_device(actor, device_id, seen)
        await self._mark_seen(row["id"], seen)
        return row

    def _seen(self, schema_version: int, device_now: datetime | None) -> _Seen:
        now = self.clock.now()
        if device_now is not None and device_now.tzinfo is None:
            raise ValidationFailed(t("sync.give_device_now_time_zone_offset"), field="device_now")
        skew = int((now - device_now).total_seconds() * 1000) if device_now else 0
        return _Seen(now, skew, schema_version)

    async def _find_or_create_device(self, actor: Actor, device_id: str, seen: _Seen) -> dict[str, Any]:
        found = await self._find_device(actor, device_id)
        if found is not None:
            return found
        fresh: dict[str, Any] = {
            "id": new_id(),
            "device_id": device_id,
            "user_id": actor.user_id,
            "last_mutation_seq": 0,
            "schema_version": seen.schema_version,
            "first_seen_at": seen.at,
            "last_seen_at": seen.at,
            "clock_skew_ms": seen.skew_ms,
        }
        try:
            await SyncDevice.insert(SyncDevice(**fresh))
            return fresh
        except Exception:  # a parallel first contact created it: use that one
            found = await self._find_device(actor, device_id)
            if found is None:
                raise
            return found

    @staticmethod
    async def _mark_seen(device_row_id: UUID, seen: _Seen) -> int:
        """Record the device's contact and clock; returns its last applied mutation (read under
        the write's lock when called inside one)."""
        rows = await db.raw(
            "UPDATE sync_device SET last_seen_at = {}, clock_skew_ms = {}, schema_version = {}"
            " WHERE id = {} RETURNING last_mutation_seq",
            seen.at,
            seen.skew_ms,
            seen.schema_version,
            device_row_id,
        )
        return int(rows[0]["last_mutation_seq"]) if rows else 0

    async def _find_device(self, actor: Actor, device_id: str) -> dict[str, Any] | None:
        return (
            await SyncDevice.select()
            .where(  # type: ignore[no-any-return]
                (SyncDevice.device_id == device_id) & (SyncDevice.user_id == actor.user_id)
            )
            .first()
        )

    # Pull

    def _cursor(self, payload: dict[str, Any]) -> str:
        return sign(payload, self.key, CURSOR_PURPOSE)

    def _read_cursor(self, actor: Actor, device_id: str, cursor: str | None) -> dict[str, Any]:
        if not cursor:
            return {"b": {}, "tgt": None, "k": None}
        payload = unsign(cursor, self.key, CURSOR_PURPOSE, max_length=200_000)
        if payload is None:
            raise ValidationFailed(t("sync.cursor_not_one_server_issued"), field="cursor")
        if payload.get("uid") != str(actor.user_id) or payload.get("dev") != device_id:
            raise ValidationFailed(t("sync.cursor_belongs_another_user_device"), field="cursor")
        return payload

    async def pull(
        self,
        actor: Actor,
        device_id: str,
        cursor: str | None,
        schema_version: int,
        limit: int = 1000,
        max_bytes: int = DEFAULT_MAX_BYTES,
        device_now: datetime | None = None,
    ) -> PullResult:
        if schema_version < rules.PULL_MIN:
            raise UpgradeRequired(
                t("sync.schema_no_longer_served", schema_version=schema_version),
                field="schema_version",
                min_schema_version=rules.PULL_MIN,
            )
        if schema_version > rules.SCHEMA_CURRENT:
            raise ValidationFailed(
                t("sync.server_speaks_schema_versions_up", SCHEMA_CURRENT=rules.SCHEMA_CURRENT), field="schema_version"
            )
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationFailed(t("sync.limit_must_from_1", MAX_LIMIT=MAX_LIMIT), field="limit")
        state = self._read_cursor(actor, device_id, cursor)
        device = await self._device(actor, device_id, schema_version, device_now)
        scope = await buckets_for(actor)

        horizon = await self._purged_through()
        known: dict[str, int] = {b: int(s) for b, s in state.get("b", {}).items()}
        if horizon and any(seq < horizon for b, seq in known.items() if b in scope.buckets):
            return PullResult(
                changes={},
                purge=[],
                cursor=self._cursor({"uid": str(actor.user_id), "dev": device_id, "b": {}, "tgt": None, "k": None}),
                has_more=False,
                last_mutation_seq=device["last_mutation_seq"],
                server_now=self.clock.now(),
                reset_required=True,
            )

        target = state.get("tgt")
        if target is None:
            target = await self._committed_seq()
        purge = [
            {"bucket": b, "project_id": str(p) if p else None}
            for b in known
            if b not in scope.buckets
            for p in [self._project_of_bucket(b)]
        ]
        existing = {b: s for b, s in known.items() if b in scope.buckets}
        new = [b for b in scope.buckets if b not in known]
        keyset = state.get("k")

        rows = await self._changes(existing, new, target, keyset, limit + 1)
        page_full = len(rows) > limit
        rows = rows[:limit]
        changes, cut_at = await self._materialise(rows, max_bytes)
        if cut_at is not None:
            rows = rows[:cut_at]
            page_full = True
        if page_full and rows:
            last = rows[-1]
            next_state = {
                "b": state.get("b", {}),
                "tgt": target,
                "k": [last["seq"], last["table_name"], str(last["row_id"])],
            }
            # keep buckets that were purged out of the cursor already
            next_state["b"] = {b: s for b, s in known.items() if b in scope.buckets}
        else:
            page_full = False
            next_state = {"b": {b: target for b in scope.buckets}, "tgt": None, "k": None}
        next_state.update({"uid": str(actor.user_id), "dev": device_id, "v": 1})
        return PullResult(
            changes=changes,
            purge=purge,
            cursor=self._cursor(next_state),
            has_more=page_full,
            last_mutation_seq=device["last_mutation_seq"],
            server_now=self.clock.now(),
        )

    @staticmethod
    def _project_of_bucket(bucket: str) -> UUID | None:
        parts = bucket.split(":")
        if len(parts) >= 2 and parts[0] == "project":
            try:
                return UUID(parts[1])
            except ValueError:
                return None
        return None

    async def _committed_seq(self) -> int:
        rows = await db.raw("SELECT value FROM sync_counter WHERE id = 1")
        return int(rows[0]["value"]) if rows else 0

    async def _purged_through(self) -> int:
        rows = await db.raw("SELECT purged_through_seq FROM sync_horizon WHERE id = 1")
        return int(rows[0]["purged_through_seq"]) if rows else 0

    async def _changes(
        self, existing: dict[str, int], new: list[str], target: int, keyset: list[Any] | None, limit: int
    ) -> list[dict[str, Any]]:
        if not existing and not new:
            return []
        clauses: list[str] = []
        args: list[Any] = []
        for bucket, since in existing.items():
            clauses.append("(bucket = {} AND seq > {})")
            args += [bucket, since]
        if new:
            clauses.append("(bucket IN (" + ", ".join("{}" for _ in new) + ") AND deleted = {})")
            args += [*new, False]
        sql = (
            "SELECT DISTINCT seq, table_name, CAST(row_id AS TEXT) AS row_id, deleted"  # noqa: S608
            " FROM sync_change WHERE seq <= {} AND (" + " OR ".join(clauses) + ")"
        )
        args = [target, *args]
        if keyset:
            seq, table_name, row_id = keyset
            sql += " AND (seq > {} OR (seq = {} AND (table_name > {} OR (table_name = {} AND row_id > {}))))"
            args += [seq, seq, table_name, table_name, UUID(row_id)]
        sql += " ORDER BY seq, table_name, row_id LIMIT {}"
        args.append(limit)
        found = await db.fetch_tuples(sql, *args)
        # A record changed in one transaction may be listed under two buckets with different
        # deleted flags only if the buckets disagree; the newest state wins, once.
        seen: set[tuple[str, str]] = set()
        unique = []
        for seq, table_name, row_id, deleted in found:
            key = (table_name, str(row_id))
            if key in seen:
                continue
            seen.add(key)
            unique.append({"seq": seq, "table_name": table_name, "row_id": row_id, "deleted": bool(deleted)})
        return unique

    async def _materialise(
        self, rows: list[dict[str, Any]], max_bytes: int
    ) -> tuple[dict[str, dict[str, list[Any]]], int | None]:
        """Fetch the current rows for a page of changes; stop early when the page passes max_bytes."""
        tables = registry.synced_tables()
        wanted: dict[str, list[Any]] = {}
        for r in rows:
            if not r["deleted"] and r["table_name"] in tables:
                wanted.setdefault(r["table_name"], []).append(r["row_id"])
        current: dict[tuple[str, str], dict[str, Any]] = {}
        for name, ids in wanted.items():
            # plain SQL: Piccolo's query builder costs more than the query for a thousand ids
            placeholders = ", ".join("{}" for _ in ids)
            sql = f'SELECT * FROM "{name}" WHERE id IN ({placeholders})'  # noqa: S608 - registered table names
            for found in await db.raw(sql, *ids):
                current[(name, str(found["id"]))] = found
        changes: dict[str, dict[str, list[Any]]] = {}
        used = 0
        for index, r in enumerate(rows):
            name, rid = r["table_name"], str(r["row_id"])
            if name not in tables:
                continue
            entry = changes.setdefault(name, {"upsert": [], "delete": []})
            row = current.get((name, rid))
            if r["deleted"] or row is None or row.get("deleted"):
                entry["delete"].append(rid)
                used += 40
            else:
                data = registry.serialise(name, row)
                used += len(_encode(data))
                entry["upsert"].append(data)
            if used > max_bytes and index + 1 < len(rows):
                return changes, index + 1
        return changes, None

    async def purge_tombstones(self, now: datetime | None = None) -> int:
        """Drop tombstones older than the retention horizon; cursors behind it must re-sync."""
        now = now or self.clock.now()
        cutoff = now - timedelta(days=self.tombstone_days)
        rows = await db.raw("SELECT MAX(seq) AS seq FROM audit_entry WHERE written_at < {}", cutoff)
        through = rows[0]["seq"] if rows and rows[0]["seq"] is not None else 0
        if not through:
            return 0
        async with db.transaction():
            deleted = await db.raw(
                "SELECT COUNT(*) AS n FROM sync_change WHERE deleted = {} AND seq <= {}", True, through
            )
            await db.raw("DELETE FROM sync_change WHERE deleted = {} AND seq <= {}", True, through)
            existing = await db.raw("SELECT purged_through_seq FROM sync_horizon WHERE id = 1")
            if existing:
                await db.raw(
                    "UPDATE sync_horizon SET purged_through_seq = {} WHERE id = 1 AND purged_through_seq < {}",
                    through,
                    through,
                )
            else:
                await db.raw("INSERT INTO sync_horizon (id, purged_through_seq) VALUES (1, {})", through)
        return int(deleted[0]["n"])

    # Push

    async def push(
        self,
        actor: Actor,
        device_id: str,
        schema_version: int,
        mutations: list[dict[str, Any]],
        device_now: datetime | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """Apply mutations in order; returns their results and the device's last applied seq."""
        if schema_version < rules.PUSH_MIN:
            raise UpgradeRequired(
                t("sync.schema_can_no_longer_push", schema_version=schema_version),
                field="schema_version",
                min_schema_version=rules.PUSH_MIN,
            )
        seen = self._seen(schema_version, device_now)
        device = await self._find_or_create_device(actor, device_id, seen)
        if not mutations:
            return [], await self._mark_seen(device["id"], seen)
        results: list[dict[str, Any]] = []
        last = 0
        while len(results) < len(mutations):
            last = await self._push_some(actor, device["id"], seen, mutations[len(results) :], results)
        return results, last

    async def _push_some(
        self,
        actor: Actor,
        device_row_id: UUID,
        seen: _Seen,
        mutations: list[dict[str, Any]],
        results: list[dict[str, Any]],
    ) -> int:
        """Apply mutations from the front of `mutations` in ONE transaction, each under its own
        savepoint, until the transaction's bounds; append their results to `results` and store
        them, with the device's new sequence, in the same transaction. Returns that sequence.
        Anything that stops the push commits the mutations before it, then propagates."""
        stop: Exception | None = None
        outcomes: list[_Outcome] = []
        async with records.batch(self.clock) as batch:
            # under the batch's lock: no other push of this device can move its sequence now
            last = await self._mark_seen(device_row_id, seen)
            started = time.monotonic()  # the lock is held from here: bound how long
            for m in mutations:
                if outcomes and (len(outcomes) >= PUSH_TX_MUTATIONS or time.monotonic() - started > PUSH_TX_SECONDS):
                    break
                try:
                    outcome = await self._push_one(batch, actor, device_row_id, m, last, outcomes)
                except Exception as exc:
                    stop = exc
                    break
                outcomes.append(outcome)
                results.append(outcome.result)
                if outcome.new:
                    last = outcome.seq
            await self._store(device_row_id, [o for o in outcomes if o.new], last)
        if stop is not None:
            raise stop
        return last

    async def _push_one(
        self,
        batch: records.Batch,
        actor: Actor,
        device_row_id: UUID,
        m: dict[str, Any],
        last: int,
        earlier: list[_Outcome],
    ) -> _Outcome:
        digest = rules.payload_hash(m)
        seq = int(m["seq"])
        check = rules.check_seq(last, seq)
        if check.kind == "gap":
            raise MutationOrderError(
                t("sync.mutation_out_of_order", seq=seq, expected=check.expected),
                field="seq",
                expected_seq=check.expected,
            )
        if check.kind == "replay":
            return _Outcome(m, seq, digest, await self._replay(device_row_id, seq, digest, earlier), None, new=False)
        command = COMMANDS.get(m["name"])
        try:
            if command is None:
                raise ValidationFailed(t("sync.unknown_mutation", name=m["name"]), field="name")
            args = decode(m.get("args") or {}, command.args)
            async with batch.write(actor) as w:
                ctx = CommandContext(
                    w=w, actor=actor, clock=self.clock, mutation=m, device_row_id=device_row_id, services=self.services
                )
                outcome = await command.run(ctx, args)
            result = {
                "seq": seq,
                "id": str(m["id"]),
                "status": outcome.status,
                "version": outcome.version,
                "commit_seq": w.seq,
                **outcome.extra,
            }
            return _Outcome(m, seq, digest, result, w.seq)
        except AlreadyApplied as done:
            # what the attempt wrote was rolled back to its savepoint; the effect was there before
            result = {
                "seq": seq,
                "id": str(m["id"]),
                "status": done.outcome.status,
                "version": done.outcome.version,
                **done.outcome.extra,
            }
            return _Outcome(m, seq, digest, result, None)
        except (Unavailable, OSError, ConnectionError, TimeoutError) as exc:
            raise Unavailable(t("sync.server_could_not_apply_mutation_now", seq=seq), retry_after=5) from exc
        except DomainError as exc:
            # A permanent refusal is an outcome too: everything the command wrote was rolled back
            # to its savepoint; the outcome is stored and the device's sequence moves on.
            return _Outcome(m, seq, digest, {"seq": seq, "id": str(m["id"]), **refusal(exc)}, None)

    async def _replay(self, device_row_id: UUID, seq: int, digest: str, earlier: list[_Outcome]) -> dict[str, Any]:
        """The stored outcome of a mutation applied before (perhaps earlier in this very push)."""
        same = [o for o in earlier if o.new and o.seq == seq]
        if same:
            stored_digest, result = same[0].digest, same[0].result
        else:
            stored = await self._stored(device_row_id, seq)
            if stored is None:
                raise MutationOrderError(t("sync.mutation_older_than_history", seq=seq), field="seq")
            stored_digest, result = stored["payload_sha256"], json.loads(stored["result"])
        if stored_digest != digest:
            raise MutationOrderError(
                t("sync.mutation_reused", seq=seq),
                field="seq",
                reason="device_reuse",
            )
        return result

    async def _stored(self, device_row_id: UUID, seq: int) -> dict[str, Any] | None:
        return (
            await SyncMutation.select()
            .where((SyncMutation.device == device_row_id) & (SyncMutation.seq == seq))
            .first()
        )

    async def _store(self, device_row_id: UUID, outcomes: list[_Outcome], last: int) -> None:
        """The outcomes of newly applied or refused mutations, and the device's new sequence."""
        if not outcomes:
            return
        now = self.clock.now()
        for start in range(0, len(outcomes), _OUTCOMES_PER_STATEMENT):
            part = outcomes[start : start + _OUTCOMES_PER_STATEMENT]
            args: list[Any] = []
            for o in part:
                m = o.mutation
                args += [
                    device_row_id,
                    o.seq,
                    m["id"] if isinstance(m["id"], UUID) else UUID(str(m["id"])),
                    str(m["name"])[:80],
                    o.digest,
                    o.result["status"],
                    json.dumps(o.result, default=str),
                    o.commit_seq,
                    now,
                    str(m.get("device_ts") or "")[:40],
                ]
            await db.raw(
                "INSERT INTO sync_mutation (device, seq, mutation_id, name, payload_sha256, status, result,"  # noqa: S608
                " commit_seq, received_at, device_ts) VALUES "
                + ", ".join("({}, {}, {}, {}, {}, {}, {}, {}, {}, {})" for _ in part),
                *args,
            )
        await db.raw("UPDATE sync_device SET last_mutation_seq = {} WHERE id = {}", last, device_row_id)


_OUTCOMES_PER_STATEMENT = 200


@dataclass(frozen=True)
class _Seen:
    """One contact of a device: the server's time, the device's clock skew, its schema version."""

    at: datetime
    skew_ms: int
    schema_version: int


@dataclass(frozen=True)
class _Outcome:
    mutation: dict[str, Any]
    seq: int
    digest: str
    result: dict[str, Any]
    commit_seq: int | None
    new: bool = True  # False: a replay of an outcome stored before
