"""The audit log's hashes: entries chained per scope, scope chains seeded from the closed global
chain, and checkpoints that sign a Merkle tree over every scope's head. Pure functions."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

GENESIS = "0" * 64
CHECKPOINT_PURPOSE = b"siteinspect-audit-checkpoint"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


_FIELDS = ("seq", "at", "actor_id", "actor_name", "device_id", "action", "table_name", "record_id", "changes")


def entry_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 over the entry's own fields and the previous hash, in a fixed text form. An entry
    of a scope's chain also covers its scope and its number there, so it cannot be moved to
    another chain or place unseen; an entry of the global chain (before scopes) has neither."""
    body = {k: fields[k] for k in _FIELDS}
    if fields.get("scope") is not None:
        body["scope"] = str(fields["scope"])
        body["scope_no"] = int(fields["scope_no"])
    return hashlib.sha256(f"{prev_hash}\n{canonical_json(body)}".encode()).hexdigest()


def scope_seed(global_head_hash: str, scope_name: str) -> str:
    """The `prev_hash` of a scope's first entry: the closed global chain's last hash (GENESIS
    when there was none) bound to the scope's name, so each scope's chain starts from the
    global one and no two scopes start alike."""
    return hashlib.sha256(f"{global_head_hash}\nscope:{scope_name}".encode()).hexdigest()


def leaf(scope_name: str, audit_no: int, audit_hash: str) -> bytes:
    return f"{scope_name}\n{audit_no}\n{audit_hash}".encode()


def merkle_root(leaves: list[bytes]) -> str:
    """RFC 6962's Merkle tree hash: leaves prefixed 0x00, nodes 0x01, split at the largest power
    of two below the count. The empty tree is the hash of nothing."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    return _tree(leaves).hex()


def _tree(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return hashlib.sha256(b"\x01" + _tree(leaves[:split]) + _tree(leaves[split:])).digest()


def checkpoint_hash(at: str, scopes: int, entries: int, root: str, prev_hash: str) -> str:
    body = canonical_json({"at": at, "scopes": scopes, "entries": entries, "root": root, "prev_hash": prev_hash})
    return hashlib.sha256(body.encode()).hexdigest()


def checkpoint_key(secret_key: bytes) -> bytes:
    """The checkpoints' own HMAC key, derived from the server's secret so it signs nothing else."""
    return hmac.new(secret_key, CHECKPOINT_PURPOSE, hashlib.sha256).digest()


def sign(key: bytes, checkpoint_hash_hex: str) -> str:
    return hmac.new(key, checkpoint_hash_hex.encode(), hashlib.sha256).hexdigest()
