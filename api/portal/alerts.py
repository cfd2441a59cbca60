"""提醒: the in-app notification feed with its unread count; marking one or all as read."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery

from api.portal.common import Me, Svc
from api.portal.forms import read_form
from api.portal.session import check_csrf, current_viewer
from api.portal.templating import redirect, render

PAGE = 50


class AlertPages(Controller):
    path = "/portal/alerts"
    dependencies = {"viewer": Provide(current_viewer)}

    @get("/", name="portal-alerts")
    async def feed(
        self,
        request: Request[Any, Any, Any],
        viewer: Me,
        services: Svc,
        unread: FromQuery[bool] = False,
        offset: FromQuery[int] = 0,
    ) -> Response[str]:
        page = await services.rectification.notifications(
            viewer.actor, unread_only=unread, limit=PAGE, offset=max(offset, 0)
        )
        return render(request, "alerts.html", page=page, unread_only=unread, offset=max(offset, 0), page_size=PAGE)

    @post("/{notification_id:uuid}/read", status_code=303)
    async def mark_read(
        self, request: Request[Any, Any, Any], notification_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        await services.rectification.mark_read(viewer.actor, notification_id)
        return redirect(request, "/portal/alerts/")

    @post("/read-all", status_code=303)
    async def mark_all_read(self, request: Request[Any, Any, Any], viewer: Me, services: Svc) -> Response[Any]:
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        while True:
            page = await services.rectification.notifications(viewer.actor, unread_only=True, limit=200)
            if not page.items:
                break
            for n in page.items:
                await services.rectification.mark_read(viewer.actor, n.id)
        return redirect(request, "/portal/alerts/")
