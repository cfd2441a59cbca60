"""通知设置: each kind of notification at once, in the daily digest (at my time) or off; mandatory kinds fixed."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromQuery

from api.portal.common import Me, Svc
from api.portal.errors import portal_error
from api.portal.forms import read_form
from api.portal.session import check_csrf, current_viewer
from api.portal.templating import redirect, render
from inspection.errors import ValidationFailed
from inspection.notifications import schemas as ns
from inspection.notifications.kinds import MODE_NAMES, Mode


class NotificationSettingsPages(Controller):
    path = "/portal/notifications"
    dependencies = {"viewer": Provide(current_viewer)}

    @get("/settings", name="portal-notification-settings")
    async def form(
        self, request: Request[Any, Any, Any], viewer: Me, services: Svc, saved: FromQuery[bool] = False
    ) -> Response[str]:
        return await self._page(request, viewer, services, saved=saved)

    @post("/settings", status_code=303)
    async def save(self, request: Request[Any, Any, Any], viewer: Me, services: Svc) -> Response[Any]:
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        current = await services.notifications.preferences(viewer.actor)
        choices = [
            ns.KindChoice(kind=k.kind, mode=form.get(f"mode-{k.kind}", k.mode))
            for k in current.kinds
            if not k.mandatory
        ]
        try:
            await services.notifications.set_preferences(
                viewer.actor, ns.PreferencesIn(digest_time=form.get("digest_time", current.digest_time), kinds=choices)
            )
        except ValidationFailed as exc:
            return await self._page(request, viewer, services, error=portal_error(exc), status_code=exc.status)
        return redirect(request, "/portal/notifications/settings?saved=true")

    async def _page(
        self, request: Request[Any, Any, Any], viewer: Me, services: Svc, status_code: int = 200, **extra: Any
    ) -> Response[str]:
        prefs = await services.notifications.preferences(viewer.actor)
        modes = [(m.value, MODE_NAMES[m].render()) for m in Mode]
        return render(request, "notification_settings.html", status_code=status_code, prefs=prefs, modes=modes, **extra)
