"""Use cases for alerts, webhook subscriptions and inspection schedules; rights checked here.

- Alerts of a project: its members read them; a member who is only a contractor there reads
  the alerts that were sent to its organisation.
- "My alerts" is the notification feed of the rectification outbox (one feed for everything).
- Webhook subscriptions belong to the subscriber's organisation (or the subscriber alone); the
  URL must be http(s), and every address its host resolves to must be one a webhook may reach
  (inspection/notifications/targets.py, which checks again at each delivery).
- Inspection schedules are set by the project's owner, supervisor or inspectors.
"""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.alerts import schemas as s
from inspection.alerts.rules import Frequency, Recurrence, recurrence_problem
from inspection.alerts.tables import Alert, InspectionOccurrence, InspectionSchedule
from inspection.clock import Clock
from inspection.errors import Forbidden, NotFound, ValidationFailed
from inspection.messages import t
from inspection.notifications import feed as outbox
from inspection.notifications import schemas as rs
from inspection.notifications import targets
from inspection.notifications.outbox_tables import AlertDelivery, Notification, WebhookSubscription
from inspection.notifications.rules import UrlProblem
from inspection.projects.access import project_access
from inspection.projects.rules import Role
from inspection.projects.tables import Membership, Site
from inspection.records import new_id, project_bucket, retry_races, write
from inspection.settings import Settings

SCHEDULING_ROLES = (Role.owner, Role.supervisor, Role.inspector)
IO = InspectionOccurrence


# the refusal a user reads for each UrlProblem (the enum's own values are the log's English)
URL_PROBLEM_TEXT = {
    UrlProblem.scheme: t("alerts.url.scheme"),
    UrlProblem.host: t("alerts.url.host"),
    UrlProblem.credentials: t("alerts.url.credentials"),
    UrlProblem.self_target: t("alerts.url.self_target"),
    UrlProblem.special: t("alerts.url.special"),
    UrlProblem.private: t("alerts.url.private"),
    UrlProblem.unresolved: t("alerts.url.unresolved"),
}


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

    # Webhooks

    async def create_subscription(
        self, actor: Actor, data: s.SubscriptionCreate, served_at: tuple[str, int] | None = None
    ) -> s.SubscriptionOut:
        if actor.user_id is None:
            raise Forbidden(t("alerts.sign_subscribe"))
        if data.scope == "organisation" and actor.organisation_id is None:
            raise ValidationFailed(t("alerts.you_belong_no_organisation_subscribe_scope"), field="scope")
        url = data.url.strip()
        try:
            # checked again, and its host resolved again, at every delivery (targets.py)
            await targets.check(url, self.settings, served_at)
        except targets.TargetRefused as exc:
            raise ValidationFailed(URL_PROBLEM_TEXT[exc.problem], field="url") from None
        row: dict[str, Any] = {
            "id": new_id(),
            "organisation": actor.organisation_id if data.scope == "organisation" else None,
            "user": actor.user_id if data.scope == "user" else None,
            "url": url,
            "secret": secrets.token_urlsafe(32),
            "description": data.description,
            "active": True,
            "created_by": actor.user_id,
            "created_at": self.clock.now(),
        }
        await WebhookSubscription.insert(WebhookSubscription(**row))
        return s.from_row(row, s.SubscriptionOut)  # type: ignore[no-any-return]

    def _mine(self, actor: Actor) -> Any:
        clause: Any = WebhookSubscription.user == actor.user_id
        if actor.organisation_id is not None:
            clause |= WebhookSubscription.organisation == actor.organisation_id
        return clause

    async def list_subscriptions(self, actor: Actor) -> list[s.SubscriptionOut]:
        rows = await WebhookSubscription.select(
            *[c for c in WebhookSubscription.all_columns() if c._meta.name != "secret"]
        ).where(self._mine(actor) & WebhookSubscription.active.eq(True))
        return [s.from_row(r, s.SubscriptionOut) for r in rows]

    async def _own_subscription(self, actor: Actor, subscription_id: UUID) -> dict[str, Any]:
        row = (
            await WebhookSubscription.select()
            .where((WebhookSubscription.id == subscription_id) & self._mine(actor))
            .first()
        )
        if row is None:
            raise NotFound(t("alerts.webhook_subscription_does_not_exist", subscription_id=subscription_id))
        return row  # type: ignore[no-any-return]

    async def remove_subscription(self, actor: Actor, subscription_id: UUID) -> None:
        await self._own_subscription(actor, subscription_id)
        await WebhookSubscription.update({WebhookSubscription.active: False}).where(
            WebhookSubscription.id == subscription_id
        )

    async def subscription_deliveries(self, actor: Actor, subscription_id: UUID, limit: int) -> list[s.DeliveryOut]:
        await self._own_subscription(actor, subscription_id)
        rows = await (
            AlertDelivery.select()
            .where((AlertDelivery.channel == "webhook") & (AlertDelivery.target == str(subscription_id)))
            .order_by(AlertDelivery.created_at, ascending=False)
            .limit(limit)
        )
        return [s.from_row(r, s.DeliveryOut) for r in rows]

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
