"""How the portal answers errors: a page in Chinese, or the login page when nobody is signed in."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException

from api.errors import EXCEPTION_HANDLERS as API_HANDLERS
from api.errors import http_detail
from api.portal.session import SignInRequired
from api.portal.templating import redirect, render
from inspection.errors import DomainError, RateLimited, TooLarge
from inspection.messages import DEFAULT_LANG
from inspection.messages import render as say

log = logging.getLogger("siteinspect.portal")

# the headline of an error page, by status (inspection/messages/: portal.title.<status>)
TITLED = {400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 503}


# The services' refusals render in Chinese here (the API renders them in the reader's language);
# the portal adds its own headline and keeps the detail, which names the field and the reason.
def title_for(status: int) -> str:
    return say(f"portal.title.{status}" if status in TITLED else "portal.title.other", DEFAULT_LANG)


def portal_error(exc: DomainError) -> str:
    """The line a form shows above itself when it comes back refused. A photo over the size limit
    says what to do next, since a phone user cannot act on a byte count."""
    limit = exc.extra.get("limit") if isinstance(exc, TooLarge) else None
    if limit and exc.field == "photos":
        detail = say("portal.photo_too_large_text_kept", DEFAULT_LANG, {"limit_mb": f"{limit / 1024 / 1024:g}"})
    else:
        detail = exc.detail
    return say("portal.form_refused", DEFAULT_LANG, {"title": title_for(exc.status), "detail": detail})


def error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, SignInRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(request, f"/portal/login?next={quote(target, safe='')}")
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        status, detail = exc.status, exc.detail
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, HTTPException):
        status, detail = exc.status_code, http_detail(request, exc.status_code, DEFAULT_LANG)
    else:
        log.exception("portal page failed", exc_info=exc)
        status, detail = 500, say("portal.internal_error", DEFAULT_LANG)
    response = render(request, "error.html", status_code=status, title=title_for(status), detail=detail)
    response.headers.update(headers)
    return response


# The same keys as the API's handlers (api/errors.py), so these, set on the portal's router,
# win over the app's for every kind of error a page can meet.
EXCEPTION_HANDLERS: dict[Any, Any] = {key: error_page for key in API_HANDLERS}
