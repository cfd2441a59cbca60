"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response, get

from api.deps import PROVIDERS, EvidenceDep
from inspection import db
from inspection.storage_check import storage_problem


class HealthOut(msgspec.Struct):
    status: str
    version: str


class ReadyOut(msgspec.Struct):
    status: str
    database: str
    object_store: str


@get("/health", opt={"public": True}, tags=["health"], operation_id="health")
async def health() -> HealthOut:
    """The process is up."""
    from inspection import __version__

    return HealthOut(status="ok", version=__version__)


@get(
    "/ready",
    opt={"public": True},
    tags=["health"],
    operation_id="ready",
    dependencies={"evidence": PROVIDERS["evidence"]},
)
async def ready(evidence: EvidenceDep) -> Response[Any]:
    """The database and the object store answer; 503 otherwise."""
    database = "ok"
    try:
        await db.ping()
    except Exception as exc:
        database = f"unreachable: {type(exc).__name__}"
    store = await storage_problem(evidence.store) or "ok"
    ok = database == "ok" and store == "ok"
    body = ReadyOut(status="ok" if ok else "unavailable", database=database, object_store=store)
    return Response(content=body, status_code=200 if ok else 503)
