"""Use cases for alerts and inspection schedules; rights checked here.

- Alerts of a project: its members read them; a member who is only a contractor there reads
  the alerts that were sent to its organisation.
- "My alerts" is the notification feed of the rectification outbox (one feed for everything).
- Webhook subscriptions are the notifications domain's (inspection/notifications/webhooks.py).
- Inspection schedules are set by the project's owner, supervisor or inspectors.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.alerts import schemas as s
from inspection.alerts.rules import Frequency, Recurrence, recurrence_problem
from inspection.alerts.tables import Alert, InspectionOccurrence, InspectionSchedule
from inspection.clock import Clock
from inspection.errors import Forbidden, ValidationFailed
from inspection.messages import t
from inspection.notifications import feed as outbox
from inspection.notifications import schemas as rs
from inspection.notifications.outbox_tables import Notification
from inspection.projects.access import project_access
from inspection.projects.rules import Role
from inspection.projects.tables import Membership, Site
from inspection.records import new_id, project_bucket, retry_races, write
from inspection.settings import Settings

SCHEDULING_ROLES = (Role.owner, Role.supervisor, Role.inspector)
IO = InspectionOccurrence


@retry_races
class AlertsService:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    # Alerts and the feed

    async def list_alerts(
        self, actor: Actor, project_id: UUID, rule: str | None = None, limit: int = 50, offset: int = 0
    ) -> s.AlertPage:
        access = await project_access(actor, project_id)
        where: Any = Alert.project == project_id
        if rule:
            where &= Alert.rule == rule
        if access.contractor_only:
            sent = await Notification.select(Notification.subject_id).where(
                (Notification.project == project_id) & (Notification.recipient_organisation == actor.organisation_id)
            )
            where &= Alert.subject_id.is_in([r["subject_id"] for r in sent] or [UUID(int=0)])
        rows = await (
            Alert.select()
            .where(where)
            .order_by(Alert.created_at, ascending=False)
            .order_by(Alert.id)
            .limit(limit)
            .offset(offset)
        )
        total = await Alert.count().where(where)
        return s.AlertPage(items=[s.from_row(r, s.AlertOut) for r in rows], total=total, limit=limit, offset=offset)

    async def my_alerts(self, actor: Actor, unread_only: bool, limit: int, offset: int) -> rs.NotificationPage:
        return await outbox.feed(actor, unread_only, limit, offset)

    async def unread(self, actor: Actor) -> s.UnreadOut:
        page = await outbox.feed(actor, True, 1, 0)
        return s.UnreadOut(unread=page.unread)

    async def mark_read(self, actor: Actor, notification_id: UUID) -> rs.NotificationOut:
        return await outbox.mark_read(actor, notification_id, self.clock.now())

    # Inspection schedules

    async def create_schedule(self, actor: Actor, data: s.ScheduleCreate) -> s.ScheduleOut:
        access = await project_access(actor, data.project_id)
        if not access.has(*SCHEDULING_ROLES):
            raise Forbidden(t("alerts.project_s_owner_supervisor_inspectors_set"))
        if data.site_id is not None:
            site = await Site.select(Site.project).where((Site.id == data.site_id) & Site.deleted.eq(False)).first()
            if site is None or site["project"] != data.project_id:
                raise ValidationFailed(t("alerts.site_not_part_project"), field="site_id")
        problem = recurrence_problem(
            Recurrence(
                frequency=Frequency(data.frequency),
                starts_on=data.starts_on,
                ends_on=data.ends_on,
                interval=data.interval,
                weekday=data.weekday,
                day_of_month=data.day_of_month,
                working_days_only=data.working_days_only,
            )
        )
        if problem:
            raise ValidationFailed(problem[1], field=problem[0])
        if data.inspector_id is None and data.role is None:
            raise ValidationFailed(t("alerts.name_inspector_role_responsible"), field="inspector_id")
        if data.inspector_id is not None:
            held = await Membership.select(Membership.role).where(
                (Membership.project == data.project_id)
                & (Membership.user == data.inspector_id)
                & Membership.deleted.eq(False)
            )
            if not {r["role"] for r in held} & {r.value for r in SCHEDULING_ROLES}:
                raise ValidationFailed(
                    t("alerts.inspector_must_inspector_supervisor_owner_project"), field="inspector_id"
                )
        async with write(actor, self.clock) as w:
            row = await w.insert(
                InspectionSchedule,
                {
                    "id": data.id or new_id(),
                    "project": data.project_id,
                    "site": data.site_id,
                    "title": data.title,
                    "kind": data.kind,
                    "frequency": data.frequency.value,
                    "interval": data.interval,
                    "weekday": data.weekday,
                    "day_of_month": data.day_of_month,
                    "working_days_only": data.working_days_only,
                    "starts_on": data.starts_on,
                    "ends_on": data.ends_on,
                    "inspector": data.inspector_id,
                    "role": data.role.value if data.role else "",
                    "active": True,
                },
                [project_bucket(data.project_id)],
            )
        return s.from_row(row, s.ScheduleOut)  # type: ignore[no-any-return]

    async def list_schedules(self, actor: Actor, project_id: UUID) -> list[s.ScheduleOut]:
        access = await project_access(actor, project_id)
        if access.contractor_only:
            return []  # see list_occurrences
        rows = await InspectionSchedule.select().where(
            (InspectionSchedule.project == project_id) & InspectionSchedule.deleted.eq(False)
        )
        return [s.from_row(r, s.ScheduleOut) for r in rows]

    async def list_occurrences(
        self, actor: Actor, project_id: UUID, mine: bool = False, status: str | None = None
    ) -> s.OccurrencePage:
        access = await project_access(actor, project_id)
        if access.contractor_only:
            # When the inspectors come is the supervision side's plan, not the contractors' to know
            # (unannounced checks); their tablets do not receive schedules either.
            return s.OccurrencePage(items=[], total=0)
        where: Any = (IO.project == project_id) & IO.deleted.eq(False)
        if mine:
            roles = [r.value for r in access.roles]
            where &= (IO.inspector == actor.user_id) | (IO.inspector.is_null() & IO.role.is_in(roles or [""]))
        if status:
            where &= IO.status == status
        rows = await IO.select(*IO.all_columns(), IO.schedule.title.as_alias("title")).where(where).order_by(IO.due_on)
        return s.OccurrencePage(items=[s.from_row(r, s.OccurrenceOut) for r in rows], total=len(rows))
