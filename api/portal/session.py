"""Who is looking at a portal page: the session cookie turned into the same Actor the API uses,
refreshed before its access token runs out, and the CSRF check for form posts."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from api.deps import Services, services_of
from api.portal.cookies import (
    CSRF_FIELD,
    CSRF_HEADER,
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    SessionCookie,
    cookie_options,
    csrf_ok,
    csrf_token,
    wants_secure,
)
from inspection.actor import Actor
from inspection.errors import DomainError, Forbidden, Unauthorized
from inspection.messages import t
from inspection.projects.auth import IssuedTokens
from inspection.projects.rules import OrgKind
from inspection.signing import unsign

# Refresh this long before the access token expires, so the photos and PDFs a page links to
# (fetched from the API with the same cookie) still find a live token.
REFRESH_MARGIN_S = 5 * 60
# Two tabs refreshing with the same refresh token at once: the second gets the first's new pair
# instead of being signed out by the rotation. Kept short: within it a copy of the old cookie
# would be upgraded too.
_RECENT_S = 10.0
_recent: dict[str, tuple[float, IssuedTokens]] = {}
_refresh_lock = asyncio.Lock()


class SignInRequired(DomainError):
    """Raised by portal pages when nobody is signed in; answered with a redirect to the login page."""

    status = 401
    slug = "unauthorized"


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as the templates see them."""

    actor: Actor
    display_name: str
    organisation_name: str
    csrf: str
    unread: int

    @property
    def is_contractor(self) -> bool:
        return self.actor.organisation_kind == OrgKind.contractor.value


async def _refresh(services: Services, cookie: SessionCookie) -> IssuedTokens:
    key = hashlib.sha256(cookie.refresh_token.encode()).hexdigest()
    async with _refresh_lock:
        now = services.clock.now().timestamp()
        for k in [k for k, (at, _) in _recent.items() if now - at > _RECENT_S]:
            del _recent[k]
        if key in _recent:
            return _recent[key][1]
        issued = await services.auth.refresh(cookie.refresh_token, cookie.device_id)
        _recent[key] = (now, issued)
        return issued


async def session_actor(request: Request[Any, Any, Any]) -> tuple[Actor, SessionCookie] | None:
    """The actor behind the cookie, or None. A token close to expiry is refreshed and the new
    cookie is queued on request.state for the response (see `with_cookies`)."""
    services = services_of(request)
    key = services.auth.key
    cookie = SessionCookie.decode(request.cookies.get(SESSION_COOKIE), key)
    if cookie is None:
        return None
    payload = unsign(cookie.access_token, key, "access")
    if payload is None or not isinstance(payload.get("exp"), int):
        return None
    if payload["exp"] - services.clock.now().timestamp() < REFRESH_MARGIN_S:
        try:
            issued = await _refresh(services, cookie)
        except Unauthorized:
            request.state.portal_clear_session = True
            return None
        cookie = SessionCookie(issued.access_token, issued.refresh_token, cookie.device_id)
        request.state.portal_session = cookie
    try:
        actor = await services.auth.actor_for(cookie.access_token)
    except Unauthorized:
        request.state.portal_clear_session = True
        return None
    request.state.actor = actor  # as the API's guard does: the access log names the user
    return actor, cookie


async def current_viewer(request: Request[Any, Any, Any]) -> Viewer:
    """Dependency of every signed-in page."""
    found = await session_actor(request)
    if found is None:
        raise SignInRequired(t("portal.sign_in_to_see_page"))
    actor, _ = found
    services = services_of(request)
    me = await services.projects.me(actor)
    unread = (await services.rectification.notifications(actor, unread_only=True, limit=1)).unread
    org_name = ""
    if actor.organisation_id is not None:
        org_name = (await services.projects.get_organisation(actor, actor.organisation_id)).name
    assert actor.session_id is not None
    viewer = Viewer(
        actor=actor,
        display_name=me.user.display_name,
        organisation_name=org_name,
        csrf=csrf_token(services.auth.key, str(actor.session_id)),
        unread=unread,
    )
    request.state.viewer = viewer
    return viewer


def csrf_binding(request: Request[Any, Any, Any]) -> str | None:
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    if viewer is not None and viewer.actor.session_id is not None:
        return str(viewer.actor.session_id)
    return request.cookies.get(PRE_SESSION_COOKIE)


def check_csrf(request: Request[Any, Any, Any], form: dict[str, str]) -> None:
    """Form posts carry the token in a hidden field (or, from script, in a header); the browser's
    Origin, when sent, must be this site."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        expected = f"{request.url.scheme}://{request.url.netloc}"
        if origin != expected:
            raise Forbidden(t("portal.form_was_sent_from_another_site"))
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not csrf_ok(services_of(request).auth.key, csrf_binding(request), sent):
        raise Forbidden(t("portal.form_has_expired_did_not_come"))


def portal_cookie_options(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The session cookies' attributes for this request (see cookies.wants_secure)."""
    settings = services_of(request).settings
    secure = wants_secure(
        settings.mode,
        request.scope.get("scheme", "http"),
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-proto"),
        settings.server.trusted_proxies,
    )
    return cookie_options(secure)


def queued_cookies(request: Request[Any, Any, Any]) -> list[Cookie]:
    """Cookies a page's processing decided on: a refreshed session, or its removal."""
    opts = portal_cookie_options(request)
    out: list[Cookie] = []
    new: SessionCookie | None = getattr(request.state, "portal_session", None)
    if new is not None:
        out.append(Cookie(key=SESSION_COOKIE, value=new.encode(services_of(request).auth.key), **opts))
    elif getattr(request.state, "portal_clear_session", False):
        out.append(Cookie(key=SESSION_COOKIE, value="", max_age=0, **opts))
    return out
