"""The one place where exceptions become RFC 9457 problem JSON."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from typing import Any

import asyncpg
import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import request_id_var
from inspection.errors import DomainError, RateLimited, ShuttingDown, Unauthorized, Unavailable
from inspection.messages import Lang, negotiate, render
from inspection.messages.decoding import explain

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "urn:siteinspect:problem:"
log = logging.getLogger("siteinspect.api")

_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "rate-limited",
    503: "unavailable",
}
_HTTP_DETAILS = {slug: f"http.{slug}" for slug in _HTTP_SLUGS.values() if slug != "conflict"}

# msgspec says e.g. "Expected `int`, got `str` - at `$.year`" or "Object contains unknown field `x`".
_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_UNKNOWN = re.compile(r"unknown field `(?P<name>[^`]+)`")
_MISSING = re.compile(r"missing required field `(?P<name>[^`]+)`")


def _field_from_msgspec(message: str) -> tuple[str | None, str]:
    m = _AT.match(message)
    text, path = (m.group("msg"), m.group("path")) if m else (message, None)
    name = None
    if path:
        name = path.lstrip(".") or None
    for pattern in (_UNKNOWN, _MISSING):
        found = pattern.search(text)
        if found:
            inner = found.group("name")
            name = f"{name}.{inner}" if name else inner
    return name, text


def language(request: Request[Any, Any, Any] | None) -> Lang:
    """The reader's language: Chinese unless the request's Accept-Language prefers English."""
    return negotiate(request.headers.get("accept-language") if request is not None else None)


def problem(
    request: Request[Any, Any, Any] | None,
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    if errors:
        body["errors"] = errors
        body["field"] = errors[0].get("field")
    body.update({k: v for k, v in extra.items() if v is not None})
    rid = request_id_var.get()
    if rid:
        body["request_id"] = rid
    return Response(content=body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    headers = None
    if isinstance(exc, (RateLimited, Unavailable)):
        headers = {"Retry-After": str(exc.retry_after)}
    elif isinstance(exc, Unauthorized):
        headers = {"WWW-Authenticate": "Bearer"}
    lang = language(request)
    return problem(
        request,
        exc.status,
        exc.slug,
        exc.title_in(lang),
        exc.detail_in(lang),
        errors=exc.errors_in(lang),
        headers=headers,
        **exc.extra_in(lang),
    )


def validation_error_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    lang = language(request)
    errors: list[dict[str, str]] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        name, text = _field_from_msgspec(str(item.get("message", "")))
        key = item.get("key")
        source = item.get("source")
        field = name or (str(key) if key else None) or ("body" if source == "body" else None)
        errors.append(
            {
                "field": field or "body",
                "message": explain(text or str(exc.detail)).render(lang),
                "source": str(getattr(source, "value", source) or "body"),
            }
        )
    if not errors:
        # a body msgspec could not decode at all: its message still says why (malformed, truncated)
        errors.append({"field": "body", "message": explain(str(exc.detail)).render(lang), "source": "body"})
    detail = "; ".join(render("field.summary", lang, {"field": e["field"], "message": e["message"]}) for e in errors)
    return problem(request, 400, "validation", render("title.request-invalid", lang), detail, errors=errors)


def http_detail(request: Request[Any, Any, Any], status: int, lang: str) -> str:
    """What a framework error (no route, wrong method, body over the limit) says to the reader: the
    framework's own wording is English and sometimes internal, so the catalogue's instead."""
    slug = _HTTP_SLUGS.get(status, "http-error")
    params: dict[str, Any] = {"status": status, "method": request.method}
    if status == 413:
        handler = request.scope.get("route_handler")
        resolve = getattr(handler, "resolve_request_max_body_size", None)
        limit = resolve() if resolve is not None else None
        params["limit_mb"] = f"{(limit or 0) / 1048576:g}"
    return render(_HTTP_DETAILS.get(slug, "http.other"), lang, params)


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    lang = language(request)
    status = exc.status_code
    slug = _HTTP_SLUGS.get(status, "http-error")
    headers = dict(exc.headers or {})
    if isinstance(exc, NotAuthorizedException):
        headers.setdefault("WWW-Authenticate", "Bearer")
    if status >= 500:
        log.error("server error %s: %s", status, exc.detail)
    detail = http_detail(request, status, lang)
    # a 400 that is not a field validation (malformed JSON, bad encoding) is about the body
    errors = [{"field": "body", "message": detail, "source": "body"}] if status == 400 else None
    return problem(request, status, slug, render(f"title.{slug}", lang), detail, errors=errors, headers=headers or None)


def nesting_error_handler(request: Request[Any, Any, Any], exc: RecursionError) -> Response[dict[str, Any]]:
    """A body nested deeper than the decoder's recursion limit: hostile or broken, never valid."""
    lang = language(request)
    detail = render("http.nested-too-deeply", lang)
    errors = [{"field": "body", "message": detail, "source": "body"}]
    return problem(request, 400, "validation", render("title.request-invalid", lang), detail, errors=errors)


# The database went away, is restarting or is full: the request failed cleanly and can be retried
# (the pool reconnects by itself), so it is a 503 with Retry-After, never a 500.
DATABASE_DOWN: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.InterfaceError,
    # asyncpg's own protocol state error: seen when the server shuts down while a connection is
    # being reset on its way back to the pool (tests/reliability/test_database_restart.py).
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
    TimeoutError,
)


def database_down_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.warning("database unavailable on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    lang = language(request)
    return problem(
        request,
        503,
        "unavailable",
        render("title.unavailable", lang),
        render("http.database-down", lang),
        headers={"Retry-After": "5"},
    )


def sqlite_operational_handler(
    request: Request[Any, Any, Any], exc: sqlite3.OperationalError
) -> Response[dict[str, Any]]:
    if "locked" in str(exc) or "busy" in str(exc):
        return database_down_handler(request, exc)
    return internal_error_handler(request, exc)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    lang = language(request)
    return problem(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal",
        render("title.internal", lang),
        render("http.internal", lang),
    )


def shutdown_middleware(app: ASGIApp) -> ASGIApp:
    """When the server stops, uvicorn lets requests in flight run for the grace period
    (server.shutdown_grace_s), then cancels the rest and would answer them a bare text 500. Such a
    request answers 503 problem JSON with Retry-After instead: a transaction it had open rolled
    back, so it can be sent again, to another process or to this one restarted. A request whose
    answer had begun is cut off as before (nothing else can be said on that connection)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if started or task is None:
                raise
            task.uncancel()  # the request task ends here, with this answer
            accept = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
            lang = negotiate(accept)
            body: dict[str, Any] = {
                "type": PROBLEM_BASE + ShuttingDown.slug,
                "title": render(f"title.{ShuttingDown.slug}", lang),
                "status": 503,
                "detail": render("http.shutting-down", lang),
                "instance": scope["path"],
            }
            if request_id_var.get():
                body["request_id"] = request_id_var.get()
            content = msgspec.json.encode(body)
            headers = [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(content)).encode()),
                (b"retry-after", b"5"),
                (b"connection", b"close"),
            ]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": content, "more_body": False})

    return middleware


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    RecursionError: nesting_error_handler,
    **dict.fromkeys(DATABASE_DOWN, database_down_handler),
    sqlite3.OperationalError: sqlite_operational_handler,
    Exception: internal_error_handler,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_MEDIA_TYPE", "MediaType", "problem"]
