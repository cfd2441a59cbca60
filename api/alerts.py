"""Alerts, my alert feed, webhook subscriptions and inspection schedules over HTTP."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from api.deps import Limit, Offset, Services
from inspection.actor import Actor
from inspection.alerts import schemas as s
from inspection.notifications import schemas as rs

Svc = NamedDependency[Services]
Me = NamedDependency[Actor]


class AlertController(Controller):
    path = "/api/v1/alerts"
    tags = ["alerts"]

    @get("/", operation_id="list_alerts")
    async def list_(
        self,
        actor: Me,
        services: Svc,
        project_id: FromQuery[UUID],
        rule: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> s.AlertPage:
        """A project's alerts (warranty expiring, retention due, orders due, missed inspections…), newest first."""
        return await services.alerts.list_alerts(actor, project_id, rule, limit, offset)

    @get("/mine", operation_id="my_alerts")
    async def mine(
        self, actor: Me, services: Svc, unread: FromQuery[bool] = False, limit: Limit = 50, offset: Offset = 0
    ) -> rs.NotificationPage:
        """The in-app feed: alerts and notifications to me or my organisation, with the unread count."""
        return await services.alerts.my_alerts(actor, unread, limit, offset)

    @get("/mine/unread", operation_id="my_unread_count")
    async def unread(self, actor: Me, services: Svc) -> s.UnreadOut:
        return await services.alerts.unread(actor)

    @post("/mine/{notification_id:str}/read", status_code=HTTP_200_OK, operation_id="mark_alert_read")
    async def mark_read(self, notification_id: FromPath[UUID], actor: Me, services: Svc) -> rs.NotificationOut:
        return await services.alerts.mark_read(actor, notification_id)


class WebhookController(Controller):
    path = "/api/v1/webhooks"
    tags = ["alerts"]

    @post("/", operation_id="create_webhook")
    async def create(
        self, data: JSONBody[s.SubscriptionCreate], actor: Me, services: Svc, request: Request[Any, Any, Any]
    ) -> s.SubscriptionOut:
        """Receive every notification to my organisation (or me) as a signed POST. The answer
        shows the signing secret once."""
        url = request.url
        served_at = (url.hostname or "", url.port or (443 if url.scheme == "https" else 80))
        return await services.alerts.create_subscription(actor, data, served_at)

    @get("/", operation_id="list_webhooks")
    async def list_(self, actor: Me, services: Svc) -> list[s.SubscriptionOut]:
        return await services.alerts.list_subscriptions(actor)

    @delete("/{subscription_id:str}", operation_id="remove_webhook")
    async def remove(self, subscription_id: FromPath[UUID], actor: Me, services: Svc) -> None:
        await services.alerts.remove_subscription(actor, subscription_id)

    @get("/{subscription_id:str}/deliveries", operation_id="webhook_deliveries")
    async def deliveries(
        self, subscription_id: FromPath[UUID], actor: Me, services: Svc, limit: Limit = 50
    ) -> list[s.DeliveryOut]:
        """Recent deliveries to this URL: sent, waiting for a retry (with the last error), or failed."""
        return await services.alerts.subscription_deliveries(actor, subscription_id, limit)


class ScheduleController(Controller):
    path = "/api/v1/schedules"
    tags = ["alerts"]

    @post("/", operation_id="create_inspection_schedule")
    async def create(self, data: JSONBody[s.ScheduleCreate], actor: Me, services: Svc) -> s.ScheduleOut:
        """A recurring inspection: daily, weekly or monthly, optionally on working days only."""
        return await services.alerts.create_schedule(actor, data)

    @get("/", operation_id="list_inspection_schedules")
    async def list_(self, actor: Me, services: Svc, project_id: FromQuery[UUID]) -> list[s.ScheduleOut]:
        return await services.alerts.list_schedules(actor, project_id)

    @get("/occurrences", operation_id="list_inspection_occurrences")
    async def occurrences(
        self,
        actor: Me,
        services: Svc,
        project_id: FromQuery[UUID],
        mine: FromQuery[bool] = False,
        status: FromQuery[str | None] = None,
    ) -> s.OccurrencePage:
        """Due, fulfilled and missed inspections; `mine=true` for those assigned to me or my role."""
        return await services.alerts.list_occurrences(actor, project_id, mine, status)
