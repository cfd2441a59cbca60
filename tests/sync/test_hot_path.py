"""What one tablet edit costs the database: the statements a push of one field edit sends, counted
(BEGIN, SAVEPOINT and COMMIT included), on SQLite and PostgreSQL. A regression guard for the lean
path of issue 17: the session, the device, the record, the access check, the compare-and-set, the
scope lock, and the commit's own rows (index, audit, outcome, device, scope) sent together."""

from __future__ import annotations

import uuid
from typing import Any

from inspection import db
from tests.conftest import IS_SQLITE
from tests.factories import World

DEVICE = "test-device"
# Before scopes: 17 statements on SQLite, 20 round trips on PostgreSQL (shared/research/sync-scale.md).
# PostgreSQL: one statement is one round trip, and the commit's rows are one statement of WITH
# clauses. SQLite: those are five statements, sent to the connection's thread in one trip.
MOST = 14 if IS_SQLITE else 10


def site_edit(world: World, seq: int, households: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "id": str(uuid.uuid4()),
        "name": "site.update@1",
        "entity_id": str(world.id_of("site1")),
        "args": {"set": {"households": households}},
    }


async def test_a_one_field_edit_is_a_handful_of_statements(world: World) -> None:
    async def push(seq: int) -> None:
        r = await world.post(
            "owner",
            "/api/v1/sync/push",
            {"device_id": DEVICE, "schema_version": 1, "mutations": [site_edit(world, seq, 100 + seq)]},
        )
        assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", r.text

    await push(1)  # the device's first contact and the scope's first write are behind us
    async with db.trace_statements() as seen:
        await push(2)
    statements = [s.split()[0].upper() for s in seen]
    print(f"\n{len(seen)} statements: {' '.join(statements)}")
    assert len(seen) <= MOST, "\n".join(seen)
    assert sum(s.startswith('UPDATE "site"') and "version" in s for s in seen) == 1, "one compare-and-set"
