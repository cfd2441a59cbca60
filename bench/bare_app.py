"""The floor of bench/load.py: a minimal Litestar app whose one endpoint takes a small JSON body and
answers a small JSON object, served by the same launcher and uvicorn settings as the real server
(`uvicorn --app-dir bench bare_app:app`)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get, post


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@post("/bare", status_code=200)
async def bare(data: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "keys": len(data)}


app = Litestar(route_handlers=[health, bare])
