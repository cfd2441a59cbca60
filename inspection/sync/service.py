"""Pull and push for offline tablets (see shared/DESIGN.md, "The sync protocol").

Pull: the cursor holds, per bucket, the sequence number (in the bucket's ordering scope: its
project, or `ref`) the device has fully received. A pull pins a target per scope (its last
committed number when the pull starts) so all its pages come from one range, walks the change
index in (scope, seq, table, id) order from a keyset position, and sends each record's current
row; each page reads the targets, the index and the rows in one read-only snapshot, so it never
shows part of a transaction committed meanwhile. New buckets arrive as a snapshot without
tombstones; lost buckets as `purge`.

Push: a device numbers its mutations 1, 2, 3 …; a replay returns the stored outcome, a gap is
refused, and a permanent failure is stored as a `rejected` outcome so it never blocks the queue.
A push's mutations are applied in a few transactions of up to PUSH_TX_MUTATIONS savepoints each
(a transaction per mutation made a push of 1,000 take seconds), each mutation under its own
savepoint: a refused one is rolled back alone, with nothing of it left behind, and its stored
outcome commits with the others. A transaction keeps to one project: a mutation in another one
starts the next transaction. A mutation that loses a race for a record (someone else wrote it
between its read and its write) is rolled back and run again on what is there now. A transient
failure, or any unexpected one, commits the mutations before it and stops the push (503 or
500); the tablet sends the rest again.

Field edits (site, building, work item) run set-based: a transaction reads and locks their
records in one statement per table before its first mutation, each edit then reads its record
from memory and takes no savepoint (it writes nothing until the end, unless it records a
conflict), and their compare-and-sets are written in one statement per table before the change
index, audit and outcome rows. Outcomes, conflict records and audit entries are each edit's own,
as before (records.Batch.hold).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from inspection import db, records
from inspection.actor import Actor
from inspection.changefeed import feed
from inspection.changefeed.pending import ProjectSwitch
from inspection.changefeed.scopes import (
    REFERENCE_BUCKET,
    context_bucket,
    contractor_bucket,
    office_bucket,
    project_bucket,
    project_of_bucket,
    scope_of_bucket,
)
from inspection.clock import Clock
from inspection.errors import Conflict, DomainError, Unavailable, ValidationFailed
from inspection.ids import new_id
from inspection.messages import t
from inspection.projects.access import ProjectAccess, access_by_project
from inspection.projects.rules import OFFICE_ROLES
from inspection.signing import sign, unsign
from inspection.sync import registry, rules
from inspection.sync.commands import COMMANDS, AlreadyApplied, CommandContext, DomainServices, decode, refusal
from inspection.sync.tables import SyncMutation

CURSOR_PURPOSE = "sync-cursor"
_encode = msgspec.json.Encoder().encode
MAX_LIMIT = 5000
DEFAULT_MAX_BYTES = 2_000_000
# Bounds of one push transaction. It keeps the records it wrote locked to its commit (and on
# SQLite the write lock), so other tablets' writes of them wait for it; and PostgreSQL keeps only
# 64 subtransactions (one per mutation's savepoint) per transaction in shared memory before every
# other session's snapshots get slower. A field edit of a held record takes no savepoint (unless
# it records a conflict): up to PUSH_TX_EDITS of them share a transaction, PUSH_TX_MUTATIONS
# bounds the savepoints.
PUSH_TX_MUTATIONS = 50
PUSH_TX_EDITS = 500
PUSH_TX_SECONDS = 0.25
# Times a mutation that lost a race for a record is run again on what is there now.
RACE_ATTEMPTS = 3
# Times a push transaction the database gave up on (deadlock victim, serialisation failure) is run again.
TRANSIENT_ATTEMPTS = 5
# A pull records the device's contact only when it is older than this, or its clock or schema
# version changed: pulls read; they should not queue for writing.
CONTACT_EVERY = timedelta(seconds=60)
SKEW_CHANGE_MS = 2000


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


_MEMBERSHIPS = (
    "SELECT m.project, m.role FROM membership m JOIN project p ON p.id = m.project"
    ' WHERE m."user" = {} AND m.deleted = {} AND p.deleted = {}'
)


async def buckets_for(actor: Actor, snapshot: db.Snapshot | None = None) -> BucketScope:
    """From the server's view of the user, never from what the client asks for."""
    args = (actor.user_id, False, False)
    rows = await snapshot.tuples(_MEMBERSHIPS, *args) if snapshot else await db.fetch_tuples(_MEMBERSHIPS, *args)
    access = access_by_project(actor, rows)
    buckets: dict[str, UUID | None] = {REFERENCE_BUCKET: None}
    for project_id, acc in access.items():
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

    def upserts(self, table: str) -> list[dict[str, Any]]:
        """The page's rows of a table, decoded (they travel as JSON already encoded, `msgspec.Raw`)."""
        rows = self.changes.get(table, {}).get("upsert", [])
        return [msgspec.json.decode(r) if isinstance(r, msgspec.Raw) else r for r in rows]


_DEVICE_COLUMNS = "id, last_mutation_seq, last_seen_at, clock_skew_ms, schema_version"


class SyncService:
    def __init__(self, key: bytes, clock: Clock, services: DomainServices, tombstone_days: int = 180) -> None:
        self.key = key
        self.clock = clock
        self.services = services  # what tablet commands call, as the API's controllers do
        self.tombstone_days = tombstone_days

    # Devices and clocks

    def _seen(self, schema_version: int, device_now: datetime | None) -> _Seen:
        now = self.clock.now()
        if device_now is not None and device_now.tzinfo is None:
            raise ValidationFailed(t("sync.give_device_now_time_zone_offset"), field="device_now")
        skew = int((now - device_now).total_seconds() * 1000) if device_now else 0
        return _Seen(now, skew, schema_version)

    @staticmethod
    async def _touch_device(actor: Actor, device_id: str, seen: _Seen) -> tuple[UUID, int]:
        """Inside a write transaction: record the device's contact and clock, creating its row
        on first contact, and lock the row to the commit, so no other push of this device moves
        its sequence meanwhile. Returns its id and last applied mutation."""
        update = (
            "UPDATE sync_device SET last_seen_at = {}, clock_skew_ms = {}, schema_version = {}"
            " WHERE device_id = {} AND user_id = {} RETURNING id, last_mutation_seq"
        )
        args = (seen.at, seen.skew_ms, seen.schema_version, device_id, actor.user_id)
        rows = await db.raw(update, *args)
        if not rows:
            await db.raw(
                "INSERT INTO sync_device (id, device_id, user_id, last_mutation_seq, schema_version, app_version,"
                " first_seen_at, last_seen_at, clock_skew_ms) VALUES ({}, {}, {}, 0, {}, '', {}, {}, {})"
                " ON CONFLICT (device_id, user_id) DO NOTHING",
                new_id(),
                device_id,
                actor.user_id,
                seen.schema_version,
                seen.at,
                seen.at,
                seen.skew_ms,
            )
            rows = await db.raw(update, *args)
        return UUID(str(rows[0]["id"])), int(rows[0]["last_mutation_seq"])

    async def _note_contact(self, actor: Actor, device_id: str, device: tuple[Any, ...] | None, seen: _Seen) -> None:
        """After a pull: write the device's contact only when there is news (first contact, a
        minute since the last, its clock or schema version changed)."""
        if device is not None:
            _, _, last_seen, skew_ms, schema_version = device
            if (
                seen.at - last_seen < CONTACT_EVERY
                and abs(int(skew_ms) - seen.skew_ms) < SKEW_CHANGE_MS
                and int(schema_version) == seen.schema_version
            ):
                return
        async with records.bookkeeping():
            await self._touch_device(actor, device_id, seen)

    # Pull

    def _cursor(self, actor: Actor, device_id: str, position: feed.Position) -> str:
        return sign({**position.payload(), "uid": str(actor.user_id), "dev": device_id}, self.key, CURSOR_PURPOSE)

    def _read_cursor(self, actor: Actor, device_id: str, cursor: str | None) -> feed.Position:
        if not cursor:
            return feed.Position()
        payload = unsign(cursor, self.key, CURSOR_PURPOSE, max_length=200_000)
        if payload is None:
            raise ValidationFailed(t("sync.cursor_not_one_server_issued"), field="cursor")
        if payload.get("uid") != str(actor.user_id) or payload.get("dev") != device_id:
            raise ValidationFailed(t("sync.cursor_belongs_another_user_device"), field="cursor")
        try:
            return feed.Position.from_payload(payload)
        except (TypeError, ValueError, IndexError, AttributeError):
            raise ValidationFailed(t("sync.cursor_not_one_server_issued"), field="cursor") from None

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
        position = self._read_cursor(actor, device_id, cursor)
        seen = self._seen(schema_version, device_now)
        async with db.snapshot() as snap:
            found = await snap.tuples(
                f"SELECT {_DEVICE_COLUMNS} FROM sync_device WHERE device_id = {{}} AND user_id = {{}}",  # noqa: S608
                device_id,
                actor.user_id,
            )
            device = found[0] if found else None
            result = await self._pull_page(snap, actor, device_id, position, limit, max_bytes)
        result.last_mutation_seq = int(device[1]) if device else 0
        await self._note_contact(actor, device_id, device, seen)
        return result

    async def _pull_page(
        self, snap: db.Snapshot, actor: Actor, device_id: str, position: feed.Position, limit: int, max_bytes: int
    ) -> PullResult:
        scope = await buckets_for(actor, snap)
        scopes = sorted({scope_of_bucket(b) for b in scope.buckets})
        heads = await feed.heads(snap, scopes)
        known = {b: seq for b, seq in position.buckets.items() if b in scope.buckets}
        if any(seq < heads[scope_of_bucket(b)].purged_through for b, seq in known.items()):
            return PullResult(
                changes={},
                purge=[],
                cursor=self._cursor(actor, device_id, feed.Position()),
                has_more=False,
                last_mutation_seq=0,
                server_now=self.clock.now(),
                reset_required=True,
            )
        # The pull's targets: pinned when it began; a scope it did not know then (a project
        # granted since) is read up to its number now.
        targets = {s: (position.targets or {}).get(s, heads[s].seq) for s in scopes}
        purge = [
            {"bucket": b, "project_id": str(p) if p else None}
            for b in position.buckets
            if b not in scope.buckets
            for p in [project_of_bucket(b)]
        ]
        new = [b for b in scope.buckets if b not in known]
        listed = await feed.page(snap, known, new, targets, position.key, limit + 1)
        page_full = len(listed) > limit
        listed = listed[:limit]
        changes, cut_at = await self._materialise(snap, listed, max_bytes)
        if cut_at is not None:
            listed = listed[:cut_at]
            page_full = True
        if page_full and listed:
            last = listed[-1]
            # buckets dropped from the user's view leave the cursor now (announced in `purge` once)
            following = feed.Position(known, targets, (last.scope, last.seq, last.table_name, last.row_id))
        else:
            page_full = False
            following = feed.Position({b: targets[scope_of_bucket(b)] for b in scope.buckets})
        return PullResult(
            changes=changes,
            purge=purge,
            cursor=self._cursor(actor, device_id, following),
            has_more=page_full,
            last_mutation_seq=0,
            server_now=self.clock.now(),
        )

    async def _materialise(
        self, snap: db.Snapshot, listed: list[feed.Listed], max_bytes: int
    ) -> tuple[dict[str, dict[str, list[Any]]], int | None]:
        """Fetch the current rows for a page of changes; stop early when the page passes max_bytes.
        Each row comes as its JSON (`registry.fetch`), which the response writes as it is."""
        tables = registry.synced_tables()
        wanted: dict[str, list[str]] = {}
        for r in listed:
            if not r.deleted and r.table_name in tables:
                wanted.setdefault(r.table_name, []).append(r.row_id)
        current: dict[tuple[str, str], registry.Fetched] = {}
        for name, ids in wanted.items():
            for found in await registry.fetch(snap, name, ids):
                current[(name, found.id)] = found
        changes: dict[str, dict[str, list[Any]]] = {}
        used = 0
        for index, r in enumerate(listed):
            name, rid = r.table_name, r.row_id
            if name not in tables:
                continue
            entry = changes.setdefault(name, {"upsert": [], "delete": []})
            row = current.get((name, rid))
            if r.deleted or row is None or row.deleted:
                entry["delete"].append(rid)
                used += 40
            else:
                used += len(row.body)
                entry["upsert"].append(row.body)
            if used > max_bytes and index + 1 < len(listed):
                return changes, index + 1
        return changes, None

    async def purge_tombstones(self, now: datetime | None = None) -> int:
        """Drop tombstones older than the retention horizon, per scope; cursors behind a scope's
        horizon must re-sync."""
        now = now or self.clock.now()
        cutoff = now - timedelta(days=self.tombstone_days)
        # an entry of the global chain (before scopes) numbered every scope at once
        rows = await db.raw("SELECT MAX(seq) AS seq FROM audit_entry WHERE scope IS NULL AND written_at < {}", cutoff)
        before_scopes = int(rows[0]["seq"] or 0) if rows else 0
        through = {
            r["scope"]: int(r["seq"])
            for r in await db.raw(
                "SELECT scope, MAX(seq) AS seq FROM audit_entry WHERE scope IS NOT NULL AND written_at < {}"
                " GROUP BY scope",
                cutoff,
            )
        }
        if before_scopes:
            for r in await db.raw("SELECT scope FROM sync_scope"):
                through[r["scope"]] = max(through.get(r["scope"], 0), before_scopes)
        deleted = 0
        for scope, seq in sorted(through.items(), key=lambda kv: str(kv[0])):
            async with records.bookkeeping():
                n = await db.raw(
                    "SELECT COUNT(*) AS n FROM sync_change WHERE scope = {} AND deleted = {} AND seq <= {}",
                    scope,
                    True,
                    seq,
                )
                await db.raw(
                    "DELETE FROM sync_change WHERE scope = {} AND deleted = {} AND seq <= {}", scope, True, seq
                )
                await db.raw(
                    "UPDATE sync_scope SET purged_through = {} WHERE scope = {} AND purged_through < {}",
                    seq,
                    scope,
                    seq,
                )
            deleted += int(n[0]["n"])
        return deleted

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
        if not mutations:
            async with records.bookkeeping():
                return [], (await self._touch_device(actor, device_id, seen))[1]
        results: list[dict[str, Any]] = []
        last = 0
        lost = 0  # transactions in a row the database gave up on for a concurrent one
        while len(results) < len(mutations):
            done = len(results)
            try:
                last = await self._push_some(actor, device_id, seen, mutations[done:], results)
                lost = 0
            except Exception as exc:
                if not db.is_transient(exc):
                    raise
                # the whole transaction may have been rolled back (a failure at COMMIT): none of
                # its results stand
                del results[done:]
                lost += 1
                if lost >= TRANSIENT_ATTEMPTS:
                    raise Unavailable(
                        t("sync.server_could_not_apply_mutation_now", seq=mutations[done]["seq"]), retry_after=1
                    ) from exc
                # the other transaction holds what this one needs: let it finish first
                await asyncio.sleep(random.uniform(0.01, 0.05) * lost)
        return results, last

    async def _push_some(
        self,
        actor: Actor,
        device_id: str,
        seen: _Seen,
        mutations: list[dict[str, Any]],
        results: list[dict[str, Any]],
    ) -> int:
        """Apply mutations from the front of `mutations` in ONE transaction, each under its own
        savepoint, until the transaction's bounds (or a mutation of another project); append
        their results to `results` and store them, with the device's new sequence, in the same
        transaction. Returns that sequence. Anything that stops the push commits the mutations
        before it, then propagates."""
        stop: Exception | None = None
        outcomes: list[_Outcome] = []
        async with records.batch(self.clock) as batch:
            device_row_id, last = await self._touch_device(actor, device_id, seen)
            await self._hold_edited(actor, batch, mutations[:PUSH_TX_EDITS], last)
            started = time.monotonic()  # its records stay locked from here: bound how long
            for m in mutations:
                if outcomes and (
                    len(outcomes) >= PUSH_TX_EDITS
                    or batch.savepoints >= PUSH_TX_MUTATIONS
                    or time.monotonic() - started > PUSH_TX_SECONDS
                ):
                    break
                try:
                    outcome = await self._push_one(batch, actor, device_row_id, m, last, outcomes)
                except ProjectSwitch:
                    if not outcomes:
                        raise
                    break  # the next transaction starts with it
                except Exception as exc:
                    if outcomes and db.is_transient(exc):
                        # the database chose this mutation's write as a deadlock's victim (rolled
                        # back to its savepoint): commit what precedes it, which releases their
                        # locks, and run it again in a transaction of its own
                        break
                    stop = exc
                    break
                outcomes.append(outcome)
                results.append(outcome.result)
                if outcome.new:
                    last = outcome.seq
            new = [o for o in outcomes if o.new]

            async def stored() -> list[db.Statement]:
                return self._store(device_row_id, new, last)

            batch.before_commit(stored)
        if stop is not None:
            raise stop
        return last

    @staticmethod
    async def _hold_edited(actor: Actor, batch: records.Batch, mutations: list[dict[str, Any]], last: int) -> None:
        """Read the records this transaction's field edits will change, one statement a table, and
        lock them to its commit: the edits then read them from memory and their compare-and-sets
        are written together at the end (`records.Batch.hold`), instead of a read and an update
        per edit. What each edit does, refuses or records is decided as before, one by one."""
        by_table: dict[str, list[UUID]] = {}
        for m in mutations:
            table = FIELD_EDITS.get(str(m.get("name")))
            if table is None or not isinstance(m.get("seq"), int) or m["seq"] <= last:
                continue
            try:
                by_table.setdefault(table, []).append(UUID(str(m.get("entity_id"))))
            except ValueError:
                continue  # refused as it is run, naming the field
        # only records of the user's own projects are locked up front: naming another project's
        # records must not hold them for the length of this transaction
        member = None if actor.is_admin or actor.user_id is None else actor.user_id
        tables = registry.synced_tables()
        for name in sorted(by_table):
            await batch.hold(tables[name], by_table[name], member)

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
            lost: list[records.RaceLost] = []
            for attempt in range(1, RACE_ATTEMPTS + 1):
                try:
                    with records.contended(lost):
                        outcome, w = await self._run_command(batch, actor, device_row_id, m, command, args)
                    break
                except records.RaceLost as exc:
                    # rolled back to its savepoint: read what is there now (the record it lost
                    # locked, so it cannot lose it again) and merge again
                    if attempt == RACE_ATTEMPTS:
                        again = t("sync.mutation_kept_meeting_concurrent_changes", seq=seq)
                        raise Unavailable(again, retry_after=1) from exc
                    lost.append(exc)
            result = {
                "seq": seq,
                "id": str(m["id"]),
                "status": outcome.status,
                "version": outcome.version,
                **outcome.extra,
            }
            return _Outcome(m, seq, digest, result, w)
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
        except ProjectSwitch:
            raise
        except DomainError as exc:
            # A permanent refusal is an outcome too: everything the command wrote was rolled back
            # to its savepoint; the outcome is stored and the device's sequence moves on.
            return _Outcome(m, seq, digest, {"seq": seq, "id": str(m["id"]), **refusal(exc)}, None)

    async def _run_command(
        self, batch: records.Batch, actor: Actor, device_row_id: UUID, m: dict[str, Any], command: Any, args: Any
    ) -> tuple[Any, records.Write]:
        """One attempt at a mutation, under its own savepoint."""
        async with batch.write(actor, lazy=m["name"] in FIELD_EDITS) as w:
            ctx = CommandContext(
                w=w,
                actor=actor,
                clock=self.clock,
                mutation=m,
                device_row_id=device_row_id,
                services=self.services,
            )
            outcome = await command.run(ctx, args)
        return outcome, w

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

    def _store(self, device_row_id: UUID, outcomes: list[_Outcome], last: int) -> list[db.Statement]:
        """The outcomes of newly applied or refused mutations, and the device's new sequence, as
        statements run with the batch's numbered changes (so each applied one knows its number)."""
        if not outcomes:
            return []
        now = self.clock.now()
        statements: list[db.Statement] = []
        for start in range(0, len(outcomes), _OUTCOMES_PER_STATEMENT):
            part = outcomes[start : start + _OUTCOMES_PER_STATEMENT]
            args: list[Any] = []
            for o in part:
                m = o.mutation
                commit_seq = o.commit_seq
                if commit_seq is not None:
                    o.result["commit_seq"] = commit_seq
                args += [
                    device_row_id,
                    o.seq,
                    m["id"] if isinstance(m["id"], UUID) else UUID(str(m["id"])),
                    str(m["name"])[:80],
                    o.digest,
                    o.result["status"],
                    json.dumps(o.result, default=str),
                    commit_seq,
                    now,
                    str(m.get("device_ts") or "")[:40],
                ]
            statements.append(
                (
                    "INSERT INTO sync_mutation (device, seq, mutation_id, name, payload_sha256, status, result,"  # noqa: S608
                    " commit_seq, received_at, device_ts) VALUES "
                    + ", ".join("({}, {}, {}, {}, {}, {}, {}, {}, {}, {})" for _ in part),
                    args,
                )
            )
        statements.append(("UPDATE sync_device SET last_mutation_seq = {} WHERE id = {}", [last, device_row_id]))
        return statements


_OUTCOMES_PER_STATEMENT = 200
# The field edits (commands/projects.py), by the table whose record each changes: what they read
# besides that record is the caller's access (unchanged by them), and what they write is the
# record (through `Write.update`) and perhaps a conflict record (through `Write.insert`), so a
# push may hold their records (`_hold_edited`) and run them without a savepoint each.
FIELD_EDITS = {"site.update@1": "site", "building.update@1": "building", "work_item.update@1": "work_item"}


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
    write: records.Write | None
    new: bool = True  # False: a replay of an outcome stored before

    @property
    def commit_seq(self) -> int | None:
        """The number of the applied mutation's change in its project (or its only scope)."""
        if self.write is None or not self.write.step.scopes:
            return None
        return self.write.seq
