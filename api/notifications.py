"""My notifications over HTTP: the in-app feed, marking one read, and my preferences per kind."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from api.deps import Limit, Offset, Services
from inspection.actor import Actor
from inspection.notifications import schemas as s

Svc = NamedDependency[Services]
Me = NamedDependency[Actor]


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]

    @get("/", operation_id="list_notifications")
    async def list_(
        self,
        actor: Me,
        services: Svc,
        unread: FromQuery[bool] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> s.NotificationPage:
        """Notifications to me or to my organisation, newest first."""
        return await services.notifications.feed(actor, unread, limit, offset)

    @post("/{notification_id:str}/read", status_code=HTTP_200_OK, operation_id="mark_notification_read")
    async def mark_read(self, notification_id: FromPath[UUID], actor: Me, services: Svc) -> s.NotificationOut:
        return await services.notifications.mark_read(actor, notification_id)

    @get("/preferences", operation_id="my_notification_preferences")
    async def preferences(self, actor: Me, services: Svc) -> s.PreferencesOut:
        """How I hear about each kind of event (at once, daily digest, off) and my digest time."""
        return await services.notifications.preferences(actor)

    @put("/preferences", operation_id="set_my_notification_preferences")
    async def set_preferences(self, data: JSONBody[s.PreferencesIn], actor: Me, services: Svc) -> s.PreferencesOut:
        """Change my digest time (HH:MM, local) and the kinds listed; mandatory kinds stay at once."""
        return await services.notifications.set_preferences(actor, data)
