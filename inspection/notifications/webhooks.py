"""Use cases of webhook subscriptions: subscribe, list, unsubscribe, and a subscription's deliveries.

A subscription belongs to the subscriber's organisation (or the subscriber alone) and receives
every notification addressed there (delivery.py signs and sends them). The URL must be http(s),
and every address its host resolves to must be one a webhook may reach (targets.py, which checks
again at each delivery).
"""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.clock import Clock
from inspection.errors import Forbidden, NotFound, ValidationFailed
from inspection.messages import t
from inspection.notifications import schemas as s
from inspection.notifications import targets
from inspection.notifications.outbox_tables import AlertDelivery, WebhookSubscription
from inspection.notifications.rules import UrlProblem
from inspection.records import new_id
from inspection.settings import Settings

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


def _mine(actor: Actor) -> Any:
    clause: Any = WebhookSubscription.user == actor.user_id
    if actor.organisation_id is not None:
        clause |= WebhookSubscription.organisation == actor.organisation_id
    return clause


class WebhookService:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

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

    async def list_subscriptions(self, actor: Actor) -> list[s.SubscriptionOut]:
        rows = await WebhookSubscription.select(
            *[c for c in WebhookSubscription.all_columns() if c._meta.name != "secret"]
        ).where(_mine(actor) & WebhookSubscription.active.eq(True))
        return [s.from_row(r, s.SubscriptionOut) for r in rows]

    async def _own_subscription(self, actor: Actor, subscription_id: UUID) -> dict[str, Any]:
        row = (
            await WebhookSubscription.select().where((WebhookSubscription.id == subscription_id) & _mine(actor)).first()
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


__all__ = ["URL_PROBLEM_TEXT", "WebhookService"]
