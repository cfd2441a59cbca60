"""The audit log per ordering scope: each project's chain, the signed checkpoints over all of
them, and what `audit verify` finds when either is tampered with; the weekly PDF prints the
latest checkpoint's root (tests/reports/test_audit_anchor.py)."""

from __future__ import annotations

from typing import Any

from inspection import db
from inspection.audit.service import checkpoint, verify
from inspection.settings import get_settings, secret_key
from tests.factories import World

KEY = secret_key(get_settings())
COPIED = ["seq", "at", "actor_id", "actor_name", "device_id", "action", "table_name", "record_id", "changes"]


async def _edits(world: World, n: int) -> None:
    path = f"/api/v1/sites/{world.id_of('site1')}"
    for i in range(n):
        version = (await world.get("owner", path)).json()["version"]
        r = await world.patch("owner", path, {"version": version, "households": 400 + i})
        assert r.status_code == 200, r.text


async def _chain(scope: Any) -> list[dict[str, Any]]:
    return await db.raw("SELECT * FROM audit_entry WHERE scope = {} ORDER BY scope_no", scope)


async def test_each_project_has_its_own_chain(world: World) -> None:
    await _edits(world, 2)
    p1, p2 = world.id_of("p1"), world.id_of("p2")
    for project in (p1, p2):
        entries = await _chain(project)
        assert [e["scope_no"] for e in entries] == list(range(1, len(entries) + 1))
        head = (await db.raw("SELECT audit_no, audit_hash FROM sync_scope WHERE scope = {}", project))[0]
        assert (head["audit_no"], head["audit_hash"]) == (entries[-1]["scope_no"], entries[-1]["hash"])
    result = await verify(KEY)
    assert result.ok, result.reason


async def test_an_edited_entry_names_its_scope(world: World) -> None:
    await _edits(world, 2)
    entries = await _chain(world.id_of("p1"))
    target = entries[len(entries) // 2]
    await db.raw("UPDATE audit_entry SET actor_name = {} WHERE id = {}", "someone-else", target["id"])
    result = await verify(KEY)
    assert not result.ok and result.first_bad_id == target["id"] and "被改动过" in str(result.reason)
    assert result.scope == str(world.id_of("p1"))


async def test_a_removed_entry_within_a_scope_is_found(world: World) -> None:
    await _edits(world, 2)
    entries = await _chain(world.id_of("p1"))
    await db.raw("DELETE FROM audit_entry WHERE id = {}", entries[2]["id"])
    result = await verify(KEY)
    assert not result.ok and result.first_bad_id == entries[3]["id"] and "被删除" in str(result.reason)


async def test_reordered_entries_within_a_scope_are_found(world: World) -> None:
    await _edits(world, 2)
    a, b = (await _chain(world.id_of("p1")))[2:4]
    # swap everything but the numbers, hashes included: each still matches its own content
    for target, source in [(a, b), (b, a)]:
        columns = [*COPIED, "prev_hash", "hash"]
        sets = ", ".join(f'"{c}" = {{}}' for c in columns)
        await db.raw(f"UPDATE audit_entry SET {sets} WHERE id = {{}}", *[source[c] for c in columns], target["id"])
    result = await verify(KEY)
    assert not result.ok and result.first_bad_id == a["id"]


async def test_removed_newest_entries_of_a_scope_are_found(world: World) -> None:
    await _edits(world, 1)
    newest = (await _chain(world.id_of("p1")))[-1]
    await db.raw("DELETE FROM audit_entry WHERE id = {}", newest["id"])
    result = await verify(KEY)
    assert not result.ok and "最新的记录" in str(result.reason) and result.scope == str(world.id_of("p1"))


async def test_a_whole_scope_deleted_is_found_by_the_checkpoint(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    p2 = world.id_of("p2")
    made = await checkpoint(KEY, clock)
    assert made.scopes >= 3  # ref, sys, p1, p2 …
    assert (await verify(KEY)).ok
    # the entries and the head together: each chain alone still looks whole
    await db.raw("DELETE FROM audit_entry WHERE scope = {}", p2)
    await db.raw("DELETE FROM sync_scope WHERE scope = {}", p2)
    result = await verify(KEY)
    assert not result.ok and "被删除" in str(result.reason) and result.scope == str(p2)


async def test_checkpoints_chain_and_are_signed(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    first = await checkpoint(KEY, clock)
    assert (await checkpoint(KEY, clock)).id == first.id, "nothing written since: no new checkpoint"
    await _edits(world, 1)
    second = await checkpoint(KEY, clock)
    assert second.id != first.id and second.root != first.root
    result = await verify(KEY)
    assert result.ok and result.checkpoints == 2, result.reason
    assert not (await verify(b"another-server-key-0123456789abcdef")).ok, "signed with this server's key"
    # a rewritten chain with a recomputed head no longer matches what the checkpoint signed
    await db.raw("UPDATE audit_checkpoint SET root = {} WHERE id = {}", "0" * 64, first.id)
    result = await verify(KEY)
    assert not result.ok and f"审计检查点 {first.id}" in str(result.reason)
    await db.raw("UPDATE audit_checkpoint SET root = {} WHERE id = {}", first.root, first.id)
    await db.raw("DELETE FROM audit_checkpoint WHERE id = {}", first.id)
    result = await verify(KEY)
    assert not result.ok and "被删除或调换了顺序" in str(result.reason)


async def test_a_rewritten_scope_chain_does_not_match_the_checkpoint(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    """Whoever edits an entry and recomputes every hash after it, and the head, leaves a chain
    that verifies on its own: the checkpoint signed the old head."""
    from inspection.audit.chain import entry_hash

    await _edits(world, 1)
    await checkpoint(KEY, clock)
    p1 = world.id_of("p1")
    entries = await _chain(p1)
    prev = entries[0]["prev_hash"]
    for i, e in enumerate(entries):
        fields = {**e, "scope": str(p1), "changes": '{"forged":true}' if i == 1 else e["changes"]}
        digest = entry_hash(fields, prev)
        await db.raw(
            "UPDATE audit_entry SET changes = {}, prev_hash = {}, hash = {} WHERE id = {}",
            fields["changes"],
            prev,
            digest,
            e["id"],
        )
        prev = digest
    await db.raw("UPDATE sync_scope SET audit_hash = {} WHERE scope = {}", prev, p1)
    result = await verify(KEY)
    assert not result.ok and "检查点" in str(result.reason) and result.scope == str(p1)
