"""A Content-Security-Policy for the portal's pages: scripts, styles and forms from this site only;
images also from the object store when photos are served from S3 by redirect."""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from inspection.settings import Settings


def content_security_policy(settings: Settings) -> str:
    images = ["'self'", "data:"]
    if settings.storage.backend == "s3":
        endpoint = settings.storage.s3_endpoint_url
        if endpoint:
            parts = urlsplit(endpoint)
            images.append(f"{parts.scheme}://{parts.netloc}")
        else:
            images.append("https://*.amazonaws.com")
    return (
        "default-src 'self'; "
        f"img-src {' '.join(images)}; "
        "script-src 'self'; style-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )


def portal_headers_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        settings = scope["app"].state.services.settings
        csp = content_security_policy(settings).encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"content-security-policy", csp)]}
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
