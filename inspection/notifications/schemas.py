"""What the notification API reads and writes: the feed, a user's preferences per kind, webhook subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from msgspec import Meta

from inspection.projects.schemas import Input, Output, row_to

_FK_OUT = {
    "project": "project_id",
    "recipient_user": "recipient_user_id",
    "recipient_organisation": "recipient_organisation_id",
    "organisation": "organisation_id",
    "user": "user_id",
    "notification": "notification_id",
}


def from_row(row: dict[str, Any], out: type[Any], **extra: Any) -> Any:
    return row_to(row, out, _FK_OUT, **extra)


class NotificationOut(Output, kw_only=True):
    id: UUID
    kind: str
    recipient_user_id: UUID | None
    recipient_organisation_id: UUID | None
    project_id: UUID | None
    subject_table: str
    subject_id: UUID
    rule: str
    occurrence: int
    threshold: int
    message: str
    created_at: datetime
    delivered_at: datetime | None
    read_at: datetime | None


class NotificationPage(Output, kw_only=True):
    items: list[NotificationOut]
    total: int
    unread: int
    limit: int
    offset: int


class KindPreference(Output, kw_only=True):
    kind: str
    name: str  # as the reader names it: 整改通知单下发, …
    mode: str  # immediate | digest | off
    mandatory: bool


class PreferencesOut(Output, kw_only=True):
    digest_time: str  # HH:MM, local time
    kinds: list[KindPreference]


class KindChoice(Input, kw_only=True):
    kind: Annotated[str, Meta(max_length=40)]
    mode: Annotated[str, Meta(max_length=20)]


class PreferencesIn(Input, kw_only=True):
    """Only what is given changes: the digest time, and the kinds listed."""

    digest_time: Annotated[str, Meta(max_length=5)] | None = None
    kinds: Annotated[list[KindChoice], Meta(max_length=50)] = []


class SubscriptionCreate(Input, kw_only=True):
    url: Annotated[str, Meta(min_length=1, max_length=500)]
    # notifications to my organisation (default) or to me alone
    scope: Literal["organisation", "user"] = "organisation"
    description: Annotated[str, Meta(max_length=200)] = ""


class SubscriptionOut(Output, kw_only=True):
    id: UUID
    url: str
    organisation_id: UUID | None
    user_id: UUID | None
    description: str
    active: bool
    created_at: datetime
    # shown once, when the subscription is made: the key of the X-Siteinspect-Signature HMAC
    secret: str | None = None


class DeliveryOut(Output, kw_only=True):
    id: UUID
    notification_id: UUID
    channel: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    sent_at: datetime | None
