"""From one global change counter to a sequence per scope, without resetting any tablet.

Every scope (each project, `ref`, `sys`) starts at the counter's value G: the index rows already
there keep their numbers (all at most G), and a cursor holding bucket positions from before goes
on from them, as every later change in any scope is numbered above G. The tombstone horizon
becomes each scope's. The global audit chain is closed with one last entry naming the scopes,
and each scope's chain is seeded from it (see inspection/audit/chain.py, `scope_seed`).
"""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

from inspection.changefeed.scopes import REF_SCOPE, SYS_SCOPE, scope_name

# The audit chain's hash rules as they stood when this migration was written (inspection/audit/
# chain.py): a migration runs the same way for ever, whatever the live code later becomes, and the
# change feed stays below the audit log in the import graph.
GENESIS = "0" * 64
_FIELDS = ("seq", "at", "actor_id", "actor_name", "device_id", "action", "table_name", "record_id", "changes")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def entry_hash(fields: dict[str, Any], prev_hash: str) -> str:
    body = {k: fields[k] for k in _FIELDS}
    if fields.get("scope") is not None:
        body["scope"] = str(fields["scope"])
        body["scope_no"] = int(fields["scope_no"])
    return hashlib.sha256(f"{prev_hash}\n{canonical_json(body)}".encode()).hexdigest()


def scope_seed(global_head_hash: str, scope_name: str) -> str:
    return hashlib.sha256(f"{global_head_hash}\nscope:{scope_name}".encode()).hexdigest()


ID = "2026-12-01T09:02:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "scopes from the global counter; close the global audit chain"


class _Any(Table, tablename="sync_scope"):
    pass


async def _value(sql: str, default: int = 0) -> int:
    rows = await _Any.raw(sql)
    return int(next(iter(rows[0].values()))) if rows and next(iter(rows[0].values())) is not None else default


def _uuid(value) -> UUID:  # type: ignore[no-untyped-def]
    return value if isinstance(value, UUID) else UUID(str(value))


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="changefeed", description=DESCRIPTION)

    async def split() -> None:
        sqlite = _Any._meta.db.engine_type == "sqlite"
        counter = await _value("SELECT value FROM sync_counter WHERE id = 1")
        horizon = await _value("SELECT purged_through_seq FROM sync_horizon WHERE id = 1")
        # the index's scope: `ref`, or the project a bucket's name starts with
        project_of_bucket = "substr(bucket, 9, 36)" if sqlite else "CAST(substr(bucket, 9, 36) AS uuid)"
        await _Any.raw(f"UPDATE sync_change SET scope = {project_of_bucket} WHERE bucket LIKE 'project:%'")  # noqa: S608
        await _Any.raw("UPDATE sync_change SET scope = {} WHERE bucket = 'ref'", REF_SCOPE)
        scopes = {REF_SCOPE, SYS_SCOPE}
        scopes |= {_uuid(r["id"]) for r in await _Any.raw("SELECT id FROM project")}
        scopes |= {
            _uuid(r["scope"]) for r in await _Any.raw("SELECT DISTINCT scope FROM sync_change WHERE scope IS NOT NULL")
        }
        names = sorted(scope_name(s) for s in scopes)

        head = await _Any.raw("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
        closing = GENESIS
        if head and int(head[0]["last_id"]):
            now = datetime.now(UTC)
            fields = {
                "seq": counter,
                "at": now.isoformat(timespec="microseconds"),
                "actor_id": "",
                "actor_name": "system",
                "device_id": "server",
                "action": "split",
                "table_name": "sync_scope",
                "record_id": "",
                "changes": canonical_json({"scopes": names, "from_seq": counter}),
            }
            closing = entry_hash(fields, head[0]["last_hash"])
            rows = await _Any.raw(
                "INSERT INTO audit_entry (seq, at, actor_id, actor_name, device_id, action, table_name, record_id,"
                " changes, prev_hash, hash, written_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})"
                " RETURNING id",
                *fields.values(),
                head[0]["last_hash"],
                closing,
                now,
            )
            await _Any.raw("UPDATE audit_head SET last_id = {}, last_hash = {} WHERE id = 1", rows[0]["id"], closing)
        for scope in sorted(scopes):
            await _Any.raw(
                "INSERT INTO sync_scope (scope, seq, audit_no, audit_hash, purged_through) VALUES ({}, {}, 0, {}, {})",
                scope,
                counter,
                scope_seed(closing, scope_name(scope)),
                horizon,
            )
        await _Any.raw("CREATE INDEX sync_change_scope_seq ON sync_change (scope, seq)")
        # a page of a bucket is read in (seq, table, record) order: straight off this index
        await _Any.raw("CREATE INDEX sync_change_bucket_page ON sync_change (bucket, seq, table_name, row_id)")
        await _Any.raw("DROP INDEX sync_change_bucket_seq")
        await _Any.raw("CREATE UNIQUE INDEX audit_entry_scope_no ON audit_entry (scope, scope_no)")
        await _Any.raw("CREATE UNIQUE INDEX audit_checkpoint_prev ON audit_checkpoint (prev_hash)")
        await _Any.raw("DROP TABLE sync_counter")
        await _Any.raw("DROP TABLE sync_horizon")

    async def join() -> None:
        await _Any.raw("CREATE TABLE sync_counter (id INTEGER PRIMARY KEY, value BIGINT NOT NULL DEFAULT 0)")
        await _Any.raw(
            "CREATE TABLE sync_horizon (id INTEGER PRIMARY KEY, purged_through_seq BIGINT NOT NULL DEFAULT 0)"
        )
        await _Any.raw("INSERT INTO sync_counter (id, value) SELECT 1, COALESCE(MAX(seq), 0) FROM sync_scope")
        await _Any.raw(
            "INSERT INTO sync_horizon (id, purged_through_seq) SELECT 1, COALESCE(MIN(purged_through), 0) FROM sync_scope"
        )
        await _Any.raw("DROP INDEX sync_change_scope_seq")
        await _Any.raw("DROP INDEX sync_change_bucket_page")
        await _Any.raw("CREATE INDEX sync_change_bucket_seq ON sync_change (bucket, seq)")
        await _Any.raw("DROP INDEX audit_entry_scope_no")
        await _Any.raw("DROP INDEX audit_checkpoint_prev")

    manager.add_raw(split)
    manager.add_raw_backwards(join)
    return manager
