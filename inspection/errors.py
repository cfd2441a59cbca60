"""Domain exceptions, raised by services and mapped to RFC 9457 problem JSON in one place (api/errors.py)."""

from __future__ import annotations

from typing import Any

from inspection.messages import DEFAULT_LANG, Message, localise, localise_all, render


class DomainError(Exception):
    """A refusal a user reads: its text is a Message (a key of inspection/messages/), put into
    words by whoever shows it, in the reader's language; `type` (the slug) and `field` stay stable."""

    status = 400
    slug = "bad-request"

    def __init__(
        self,
        message: Message,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message.key)
        self.message = message
        self.field = field
        self._errors = errors or ([{"field": field, "message": message}] if field else [])
        self.extra = extra

    @property
    def title(self) -> str:
        return self.title_in(DEFAULT_LANG)

    @property
    def detail(self) -> str:
        return self.message.render(DEFAULT_LANG)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.errors_in(DEFAULT_LANG)

    def title_in(self, lang: str) -> str:
        return render(f"title.{self.slug}", lang)

    def detail_in(self, lang: str) -> str:
        return self.message.render(lang)

    def errors_in(self, lang: str) -> list[dict[str, Any]]:
        return [{k: localise(v, lang) for k, v in e.items()} for e in self._errors]

    def extra_in(self, lang: str) -> dict[str, Any]:
        return {k: localise_all(v, lang) for k, v in self.extra.items()}

    def __str__(self) -> str:
        return self.detail


class ValidationFailed(DomainError):
    status = 422
    slug = "validation"


class Unauthorized(DomainError):
    status = 401
    slug = "unauthorized"


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"


class NotFound(DomainError):
    status = 404
    slug = "not-found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"


class VersionConflict(Conflict):
    slug = "version-conflict"


class InvalidTransition(Conflict):
    slug = "invalid-transition"


class RateLimited(DomainError):
    status = 429
    slug = "rate-limited"

    def __init__(self, message: Message, *, retry_after: int, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.retry_after = retry_after


class Unavailable(DomainError):
    status = 503
    slug = "unavailable"

    def __init__(self, message: Message, *, retry_after: int = 30, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.retry_after = retry_after


class ShuttingDown(Unavailable):
    """The server is stopping: the request was not done; another process, or this one restarted,
    will do it."""

    slug = "shutting-down"


class RequestTimeout(DomainError):
    status = 408
    slug = "request-timeout"


class TooLarge(DomainError):
    status = 413
    slug = "payload-too-large"


class UnsupportedMediaType(DomainError):
    status = 415
    slug = "unsupported-media-type"


class RulebookError(ValueError):
    """A rule data file (rules.toml of rectification or samples) that cannot be used: read by the
    operator who edited it, at start-up or in the command line, so it says what is wrong in words
    from the catalogue; a ValueError, as every caller of a parser expects."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render(DEFAULT_LANG))
        self.message = message
