"""How many changes a pull has yet to send, so a tablet can show "已同步 12,000 / 20,053 条".

An estimate, counted over the same change index and buckets as the pull itself (service.py,
`_changes`): from the cursor's position up to its pinned target, or up to the latest committed
change when the pull is just starting. Changes committed during a long pull are not counted.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from inspection import db
from inspection.actor import Actor
from inspection.signing import unsign
from inspection.sync.service import CURSOR_PURPOSE, buckets_for


async def changes_to_come(key: bytes, actor: Actor, device_id: str, cursor: str | None) -> int:
    state: dict[str, Any] = {"b": {}, "tgt": None, "k": None}
    if cursor:
        found = unsign(cursor, key, CURSOR_PURPOSE, max_length=200_000)
        # the pull that ran just before this count refused a cursor that is not this device's
        if found is None or found.get("uid") != str(actor.user_id) or found.get("dev") != device_id:
            return 0
        state = found
    scope = await buckets_for(actor)
    known = {b: int(s) for b, s in (state.get("b") or {}).items() if b in scope.buckets}
    new = [b for b in scope.buckets if b not in known]
    if not known and not new:
        return 0
    target = state.get("tgt")
    if target is None:
        rows = await db.raw("SELECT value FROM sync_counter WHERE id = 1")
        target = int(rows[0]["value"]) if rows else 0
    clauses: list[str] = []
    args: list[Any] = [target]
    for bucket, since in known.items():
        clauses.append("(bucket = {} AND seq > {})")
        args += [bucket, since]
    if new:
        clauses.append("(bucket IN (" + ", ".join("{}" for _ in new) + ") AND deleted = {})")
        args += [*new, False]
    sql = (
        "SELECT DISTINCT seq, table_name, row_id FROM sync_change WHERE seq <= {} AND ("  # noqa: S608 - placeholders only
        + " OR ".join(clauses)
        + ")"
    )
    keyset = state.get("k")
    if keyset:
        seq, table_name, row_id = keyset
        sql += " AND (seq > {} OR (seq = {} AND (table_name > {} OR (table_name = {} AND row_id > {}))))"
        args += [seq, seq, table_name, table_name, UUID(row_id)]
    rows = await db.raw(f"SELECT COUNT(*) AS n FROM ({sql}) AS to_come", *args)  # noqa: S608 - placeholders only
    return int(rows[0]["n"]) if rows else 0
