"""Readiness of the object store: asks the configured evidence store itself (S3: head_bucket;
disk: the root and its staging folder are writable)."""

from __future__ import annotations

from inspection.evidence.store import ObjectStore


async def storage_problem(store: ObjectStore) -> str | None:
    return await store.check()
