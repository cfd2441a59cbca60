"""登录 / 退出: the same accounts, password rules and login rate limit as the API; the browser keeps
its access/refresh token pair in an HttpOnly cookie."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery

from api.deps import Services
from api.portal.cookies import (
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    SessionCookie,
    csrf_ok,
    csrf_token,
    new_device_id,
    new_pre_session,
)
from api.portal.errors import title_for
from api.portal.forms import read_form
from api.portal.session import check_csrf, portal_cookie_options, session_actor
from api.portal.templating import redirect, render
from inspection.errors import DomainError

Svc = NamedDependency[Services]


def safe_next(target: str | None) -> str:
    """Only a path on this site, so the login page cannot be used to bounce people elsewhere."""
    if not target:
        return "/portal/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/portal/"
    return target


class LoginController(Controller):
    path = "/portal"

    def _form(
        self, request: Request[Any, Any, Any], services: Services, next_url: str, status: int = 200, **ctx: Any
    ) -> Response[str]:
        pre = request.cookies.get(PRE_SESSION_COOKIE) or new_pre_session()
        return render(
            request,
            "login.html",
            status_code=status,
            cookies=[Cookie(key=PRE_SESSION_COOKIE, value=pre, **portal_cookie_options(request))],
            csrf=csrf_token(services.auth.key, pre),
            next_url=next_url,
            **ctx,
        )

    @get("/login", name="portal-login")
    async def login_page(
        self, request: Request[Any, Any, Any], services: Svc, next: FromQuery[str | None] = None
    ) -> Response[Any]:
        if await session_actor(request) is not None:
            return redirect(request, safe_next(next))
        return self._form(request, services, safe_next(next))

    @post("/login", status_code=303)
    async def login(self, request: Request[Any, Any, Any], services: Svc) -> Response[Any]:
        with ExitStack() as stack:
            form = await read_form(request, stack)
        next_url = safe_next(form.get("next"))
        username = form.get("username").strip()
        try:
            check_csrf(request, form.fields)
            client = request.client.host if request.client else "unknown"
            device_id = new_device_id()
            issued = await services.auth.login(
                username, form.get("password"), device_id, client, request.headers.get("user-agent", "")
            )
        except DomainError as exc:
            message = "用户名或密码不正确" if exc.status == 401 else f"{title_for(exc.status)}：{exc.detail}"
            response = self._form(request, services, next_url, status=exc.status, error=message, username=username)
            if exc.status == 429:
                response.headers["Retry-After"] = str(getattr(exc, "retry_after", 60))
            return response
        opts = portal_cookie_options(request)
        session = SessionCookie(issued.access_token, issued.refresh_token, device_id)
        return redirect(
            request,
            next_url,
            cookies=[
                Cookie(
                    key=SESSION_COOKIE,
                    value=session.encode(services.auth.key),
                    max_age=services.settings.security.refresh_token_ttl_s,
                    **opts,
                ),
                Cookie(key=PRE_SESSION_COOKIE, value="", max_age=0, **opts),
            ],
        )

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any], services: Svc) -> Response[Any]:
        found = await session_actor(request)
        if found is not None:
            actor, _ = found
            request.state.viewer = None
            with ExitStack() as stack:
                form = await read_form(request, stack)
            # the token is bound to the session being ended
            if not csrf_ok(services.auth.key, str(actor.session_id), form.get("csrf_token")):
                return render(
                    request, "error.html", status_code=403, title=title_for(403), detail="请刷新页面后再退出。"
                )
            if actor.session_id is not None:
                await services.auth.revoke_session(actor.session_id)
        opts = portal_cookie_options(request)
        request.state.portal_session = None
        return redirect(request, "/portal/login", cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, **opts)])
