"""One process at a time per scheduled job: a PostgreSQL advisory transaction lock per job name."""

from __future__ import annotations

import hashlib

from inspection import db


def lock_key(name: str) -> int:
    """A stable signed 64-bit key per job for PostgreSQL's advisory locks."""
    return int.from_bytes(hashlib.sha256(f"siteinspect:job:{name}".encode()).digest()[:8], "big", signed=True)


async def try_job_lock(name: str) -> bool:
    """Inside a transaction: True when this process may run the job now. On PostgreSQL another
    process holding it makes this False at once (no queueing); the lock ends with the transaction,
    so a crashed process never leaves it held. SQLite has one writer at a time anyway."""
    if db.is_sqlite():
        return True
    rows = await db.raw("SELECT pg_try_advisory_xact_lock({}) AS ok", lock_key(name))
    return bool(rows[0]["ok"])
