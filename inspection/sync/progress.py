"""How many changes a pull has yet to send, so a tablet can show "已同步 12,000 / 20,053 条".

An estimate, counted over the same change index and buckets as the pull itself (service.py,
`_pull_page`, and changefeed/feed.py, `page`): per scope, from the cursor's positions up to the
pull's pinned targets, or up to each scope's latest committed number when the pull is just
starting; after the key of the last change sent when the pull is under way. Changes committed
during a long pull are not counted.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from inspection import db
from inspection.actor import Actor
from inspection.changefeed import feed
from inspection.changefeed.scopes import scope_of_bucket
from inspection.signing import unsign
from inspection.sync.service import CURSOR_PURPOSE, buckets_for


async def changes_to_come(key: bytes, actor: Actor, device_id: str, cursor: str | None) -> int:
    position = feed.Position()
    if cursor:
        found = unsign(cursor, key, CURSOR_PURPOSE, max_length=200_000)
        # the pull that ran just before this count refused a cursor that is not this device's
        if found is None or found.get("uid") != str(actor.user_id) or found.get("dev") != device_id:
            return 0
        try:
            position = feed.Position.from_payload(found)
        except (TypeError, ValueError, IndexError, AttributeError):
            return 0
    async with db.snapshot() as snap:
        scope = await buckets_for(actor, snap)
        known = {b: s for b, s in position.buckets.items() if b in scope.buckets}
        new = [b for b in scope.buckets if b not in known]
        if not known and not new:
            return 0
        scopes = sorted({scope_of_bucket(b) for b in scope.buckets})
        heads = await feed.heads(snap, scopes)
        targets = {s: (position.targets or {}).get(s, heads[s].seq) for s in scopes}
        after = position.key
        clauses: list[str] = []
        args: list[Any] = []
        for bucket, since in [*known.items(), *((b, 0) for b in new)]:
            bucket_scope = scope_of_bucket(bucket)
            if after is not None and bucket_scope < after[0]:
                continue  # pages walk the scopes in order: this one is sent already
            clause = "(bucket = {} AND seq > {} AND seq <= {}"
            args += [bucket, since, targets[bucket_scope]]
            if bucket not in known:  # a new bucket arrives as a snapshot of what is alive
                clause += " AND deleted = {}"
                args.append(False)
            if after is not None and bucket_scope == after[0]:
                clause += " AND (seq, table_name, row_id) > ({}, {}, {})"
                args += [after[1], after[2], UUID(after[3])]
            clauses.append(clause + ")")
        if not clauses:
            return 0
        sql = "SELECT DISTINCT scope, seq, table_name, row_id FROM sync_change WHERE " + " OR ".join(clauses)  # noqa: S608
        rows = await snap.tuples(f"SELECT COUNT(*) FROM ({sql}) AS to_come", *args)  # noqa: S608 - placeholders only
    return int(rows[0][0]) if rows else 0
