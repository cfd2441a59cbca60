"""Structured logging with the request id on every line, and one access line per request."""

from __future__ import annotations

import json
import logging
import secrets
import time
from contextvars import ContextVar
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from inspection.settings import Settings

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
access_log = logging.getLogger("siteinspect.access")
ACCESS_FIELDS = ("method", "path", "status", "ms", "user_id")
REQUEST_ID_HEADER = "x-request-id"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "msg": record.getMessage(),
        }
        for key in ACCESS_FIELDS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if settings.logging.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    root = logging.getLogger("siteinspect")
    root.handlers[:] = [handler]
    root.setLevel(settings.logging.level)
    root.propagate = False


def _valid_request_id(value: str) -> bool:
    return 0 < len(value) <= 64 and all(c.isalnum() or c in "-_." for c in value)


def _user_of(scope: Scope) -> str:
    """The signed-in user's id, once the auth guard has found it (API and portal alike)."""
    state = scope.get("state") or {}
    actor = state.get("actor") if isinstance(state, dict) else None
    user_id = getattr(actor, "user_id", None)
    return str(user_id) if user_id else "-"


def log_request(scope: Scope, status: int, started: float) -> None:
    """method, the route's path template (never the query string, which may carry a token, nor
    the raw path of an unknown route), status, milliseconds and user; the request id comes with
    every line."""
    ms = (time.perf_counter() - started) * 1000
    fields = {
        "method": scope.get("method", "-"),
        "path": scope.get("path_template") or "(no route)",
        "status": status,
        "ms": round(ms, 1),
        "user_id": _user_of(scope),
    }
    access_log.info("%(method)s %(path)s %(status)s %(ms).1f ms user=%(user_id)s", fields, extra=fields)


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Take the caller's X-Request-ID if it is sane, else make one; echo it on the response; log
    one access line when the request is done."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        rid = incoming if _valid_request_id(incoming) else secrets.token_hex(8)
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500  # what the server answers if the app fails before it starts a response

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            log_request(scope, status, started)
            request_id_var.reset(token)

    return middleware
