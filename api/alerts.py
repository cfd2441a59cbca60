"""Alerts, my alert feed and inspection schedules over HTTP."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from api.deps import PROVIDERS, AlertsDep, Limit, Offset
from inspection.actor import Actor
from inspection.alerts import schemas as s
from inspection.notifications import schemas as rs

Me = NamedDependency[Actor]


class AlertController(Controller):
    path = "/alerts"
    dependencies = {"alerts": PROVIDERS["alerts"]}
    tags = ["alerts"]

    @get("/", operation_id="list_alerts")
    async def list_(
        self,
        actor: Me,
        alerts: AlertsDep,
        project_id: FromQuery[UUID],
        rule: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> s.AlertPage:
        """A project's alerts (warranty expiring, retention due, orders due, missed inspections…), newest first."""
        return await alerts.list_alerts(actor, project_id, rule, limit, offset)

    @get("/mine", operation_id="my_alerts")
    async def mine(
        self,
        actor: Me,
        alerts: AlertsDep,
        unread: FromQuery[bool] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> rs.NotificationPage:
        """The in-app feed: alerts and notifications to me or my organisation, with the unread count."""
        return await alerts.my_alerts(actor, unread, limit, offset)

    @get("/mine/unread", operation_id="my_unread_count")
    async def unread(self, actor: Me, alerts: AlertsDep) -> s.UnreadOut:
        return await alerts.unread(actor)

    @post("/mine/{notification_id:str}/read", status_code=HTTP_200_OK, operation_id="mark_alert_read")
    async def mark_read(self, notification_id: FromPath[UUID], actor: Me, alerts: AlertsDep) -> rs.NotificationOut:
        return await alerts.mark_read(actor, notification_id)


class ScheduleController(Controller):
    path = "/schedules"
    dependencies = {"alerts": PROVIDERS["alerts"]}
    tags = ["alerts"]

    @post("/", operation_id="create_inspection_schedule")
    async def create(self, data: JSONBody[s.ScheduleCreate], actor: Me, alerts: AlertsDep) -> s.ScheduleOut:
        """A recurring inspection: daily, weekly or monthly, optionally on working days only."""
        return await alerts.create_schedule(actor, data)

    @get("/", operation_id="list_inspection_schedules")
    async def list_(self, actor: Me, alerts: AlertsDep, project_id: FromQuery[UUID]) -> list[s.ScheduleOut]:
        return await alerts.list_schedules(actor, project_id)

    @get("/occurrences", operation_id="list_inspection_occurrences")
    async def occurrences(
        self,
        actor: Me,
        alerts: AlertsDep,
        project_id: FromQuery[UUID],
        mine: FromQuery[bool] = False,
        status: FromQuery[str | None] = None,
    ) -> s.OccurrencePage:
        """Due, fulfilled and missed inspections; `mine=true` for those assigned to me or my role."""
        return await alerts.list_occurrences(actor, project_id, mine, status)
