"""My notifications over HTTP: the in-app feed, marking one read, my preferences per kind, webhook subscriptions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from api.deps import PROVIDERS, Limit, NotificationsDep, Offset, WebhooksDep
from inspection.actor import Actor
from inspection.notifications import schemas as s

Me = NamedDependency[Actor]


class NotificationController(Controller):
    path = "/notifications"
    dependencies = {"notifications": PROVIDERS["notifications"]}
    tags = ["notifications"]

    @get("/", operation_id="list_notifications")
    async def list_(
        self,
        actor: Me,
        notifications: NotificationsDep,
        unread: FromQuery[bool] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> s.NotificationPage:
        """Notifications to me or to my organisation, newest first."""
        return await notifications.feed(actor, unread, limit, offset)

    @post("/{notification_id:str}/read", status_code=HTTP_200_OK, operation_id="mark_notification_read")
    async def mark_read(
        self, notification_id: FromPath[UUID], actor: Me, notifications: NotificationsDep
    ) -> s.NotificationOut:
        return await notifications.mark_read(actor, notification_id)

    @get("/preferences", operation_id="my_notification_preferences")
    async def preferences(self, actor: Me, notifications: NotificationsDep) -> s.PreferencesOut:
        """How I hear about each kind of event (at once, daily digest, off) and my digest time."""
        return await notifications.preferences(actor)

    @put("/preferences", operation_id="set_my_notification_preferences")
    async def set_preferences(
        self, data: JSONBody[s.PreferencesIn], actor: Me, notifications: NotificationsDep
    ) -> s.PreferencesOut:
        """Change my digest time (HH:MM, local) and the kinds listed; mandatory kinds stay at once."""
        return await notifications.set_preferences(actor, data)


class WebhookController(Controller):
    path = "/webhooks"
    dependencies = {"webhooks": PROVIDERS["webhooks"]}
    # under the tag it always had: the API's document is unchanged by the move
    tags = ["alerts"]

    @post("/", operation_id="create_webhook")
    async def create(
        self,
        data: JSONBody[s.SubscriptionCreate],
        actor: Me,
        webhooks: WebhooksDep,
        request: Request[Any, Any, Any],
    ) -> s.SubscriptionOut:
        """Receive every notification to my organisation (or me) as a signed POST. The answer
        shows the signing secret once."""
        url = request.url
        served_at = (url.hostname or "", url.port or (443 if url.scheme == "https" else 80))
        return await webhooks.create_subscription(actor, data, served_at)

    @get("/", operation_id="list_webhooks")
    async def list_(self, actor: Me, webhooks: WebhooksDep) -> list[s.SubscriptionOut]:
        return await webhooks.list_subscriptions(actor)

    @delete("/{subscription_id:str}", operation_id="remove_webhook")
    async def remove(self, subscription_id: FromPath[UUID], actor: Me, webhooks: WebhooksDep) -> None:
        await webhooks.remove_subscription(actor, subscription_id)

    @get("/{subscription_id:str}/deliveries", operation_id="webhook_deliveries")
    async def deliveries(
        self, subscription_id: FromPath[UUID], actor: Me, webhooks: WebhooksDep, limit: Limit = 50
    ) -> list[s.DeliveryOut]:
        """Recent deliveries to this URL: sent, waiting for a retry (with the last error), or failed."""
        return await webhooks.subscription_deliveries(actor, subscription_id, limit)
