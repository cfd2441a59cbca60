"""Domain exceptions, raised by services and mapped to RFC 9457 problem JSON in one place (api/errors.py)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        errors: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.errors = errors or ([{"field": field, "message": detail}] if field else [])
        self.extra = extra


class ValidationFailed(DomainError):
    status = 422
    slug = "validation"
    title = "A field is not valid"


class Unauthorized(DomainError):
    status = 401
    slug = "unauthorized"
    title = "Not signed in"


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = "Conflict with the current state"


class VersionConflict(Conflict):
    slug = "version-conflict"
    title = "The record changed since it was read"


class InvalidTransition(Conflict):
    slug = "invalid-transition"
    title = "That move is not allowed from the current state"


class RateLimited(DomainError):
    status = 429
    slug = "rate-limited"
    title = "Too many attempts"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class Unavailable(DomainError):
    status = 503
    slug = "unavailable"
    title = "A backing service is unavailable"

    def __init__(self, detail: str, *, retry_after: int = 30, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class ShuttingDown(Unavailable):
    """The server is stopping: the request was not done; another process, or this one restarted,
    will do it."""

    slug = "shutting-down"
    title = "服务器正在停止"


class RequestTimeout(DomainError):
    status = 408
    slug = "request-timeout"
    title = "The request body arrived too slowly"


class TooLarge(DomainError):
    status = 413
    slug = "payload-too-large"
    title = "The request body is too large"


class UnsupportedMediaType(DomainError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"
