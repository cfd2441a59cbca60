"""Request and response shapes for alerts and inspection schedules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from msgspec import Meta

from inspection.alerts.rules import Frequency
from inspection.projects.rules import Role
from inspection.projects.schemas import Input, Output, Synced, row_to


class AlertOut(Output, kw_only=True):
    id: UUID
    rule: str
    subject_table: str
    subject_id: UUID
    threshold: int
    project_id: UUID | None
    message: str
    due_on: date | None
    created_at: datetime


class AlertPage(Output, kw_only=True):
    items: list[AlertOut]
    total: int
    limit: int
    offset: int


class UnreadOut(Output, kw_only=True):
    unread: int


class ScheduleCreate(Input, kw_only=True):
    id: UUID | None = None
    project_id: UUID
    # leave out for every active site of the project
    site_id: UUID | None = None
    title: Annotated[str, Meta(min_length=1, max_length=200)]
    kind: Annotated[str, Meta(min_length=1, max_length=40)] = "safety"
    frequency: Frequency
    interval: Annotated[int, Meta(ge=1, le=52)] = 1
    weekday: Annotated[int, Meta(ge=0, le=6)] | None = None
    day_of_month: Annotated[int, Meta(ge=1, le=31)] | None = None
    working_days_only: bool = False
    starts_on: date
    ends_on: date | None = None
    inspector_id: UUID | None = None
    role: Role | None = None


class ScheduleOut(Synced, kw_only=True):
    id: UUID
    project_id: UUID
    site_id: UUID | None
    title: str
    kind: str
    frequency: str
    interval: int
    weekday: int | None
    day_of_month: int | None
    working_days_only: bool
    starts_on: date
    ends_on: date | None
    inspector_id: UUID | None
    role: str
    active: bool


class OccurrenceOut(Synced, kw_only=True):
    id: UUID
    schedule_id: UUID
    project_id: UUID
    site_id: UUID
    due_on: date
    inspector_id: UUID | None
    role: str
    status: str
    inspection_id: UUID | None
    fulfilled_at: datetime | None
    title: str = ""


class OccurrencePage(Output, kw_only=True):
    items: list[OccurrenceOut]
    total: int


_FK_OUT = {
    "project": "project_id",
    "site": "site_id",
    "schedule": "schedule_id",
    "inspector": "inspector_id",
    "organisation": "organisation_id",
    "user": "user_id",
    "notification": "notification_id",
}


def from_row(row: dict[str, Any], out: type[Any], **extra: Any) -> Any:
    return row_to(row, out, _FK_OUT, **extra)
