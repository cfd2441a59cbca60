"""Security headers on every response, and time limits on reading request bodies."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from inspection.errors import RequestTimeout, ValidationFailed
from inspection.messages import t

_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    # Browsers heed this only over HTTPS, where production runs behind its TLS proxy.
    (b"strict-transport-security", b"max-age=31536000"),
]


# Evidence is bytes that users uploaded, served from the API's own origin: whatever a browser
# makes of them, they run in a sandbox (an opaque origin, no script, no forms), so a PDF's
# JavaScript or a file that some browser sniffs as HTML can reach neither cookies nor the API.
EVIDENCE_PREFIX = "/api/v1/evidence"
_EVIDENCE_CSP = (b"content-security-policy", b"sandbox")


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook rather than a middleware, so that the router's own answers (404, 405)
    carry the headers too."""
    if message["type"] != "http.response.start":
        return
    headers = [*message.get("headers", []), *_HEADERS]
    if scope.get("path", "").startswith(EVIDENCE_PREFIX):
        headers.append(_EVIDENCE_CSP)
    if not any(name.lower() == b"cache-control" for name, _ in headers):
        # Records, tokens and problems are for this caller only: no cache keeps them. Answers
        # meant to be cached (static files, photos, notices) say so themselves.
        headers.append((b"cache-control", b"no-store"))
    message["headers"] = headers


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False


def body_timeout_middleware(app: ASGIApp) -> ASGIApp:
    """Time limits on reading a request body: server.body_idle_timeout_s between two pieces and
    server.body_total_timeout_s for the whole. A client that trickles its body to hold a connection
    (slow loris) gets a 408 problem naming the body, and the handler reading it throws away what
    came, as for any cut-off body. Any answer given before the body is all in closes the
    connection. Once the body is complete, receive is passed through untouched (streaming
    responses wait on it to see the client leave)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        server = scope["app"].state.services.settings.server
        loop = asyncio.get_running_loop()
        deadline = loop.time() + server.body_total_timeout_s
        body_done = not _has_body(scope)

        async def timed_receive() -> ReceiveMessage:
            nonlocal body_done
            if body_done:
                return await receive()
            wait = min(server.body_idle_timeout_s, deadline - loop.time())
            try:
                async with asyncio.timeout(max(wait, 0)):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout(
                    t("api.request_body_stopped_arriving_came_too"),
                    field="body",
                ) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def closing_send(message: Message) -> None:
            # Answering before the body is all in (408, 413, 401 on an upload...): close the
            # connection after the answer rather than wait out keep-alive on an unread body.
            if message["type"] == "http.response.start" and not body_done:
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await app(scope, timed_receive, closing_send)

    return middleware


async def refuse_nul_in_parameters(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook: no path or query parameter may hold U+0000. PostgreSQL cannot
    compare text with it (the request would fail in the database); no id, code or filter has one."""
    for source, params in (("path", request.path_params), ("query", request.query_params)):
        for name, value in params.items():
            values = value if isinstance(value, list) else [value]
            if any(isinstance(v, str) and "\x00" in v for v in values):
                raise ValidationFailed(t("api.parameter_must_not_contain_nul_character", source=source), field=name)
