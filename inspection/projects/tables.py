"""Organisations, people and the structure of a renovation project (persistence only)."""

from piccolo.columns import (
    UUID,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Real,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspection.records import SyncColumns


class Organisation(SyncColumns, Table):
    """单位 — an owner, contractor, supervisor, designer, lab, authority, community or property company."""

    id = UUID(primary_key=True)
    name = Varchar(length=200)
    kind = Varchar(length=20, index=True)
    credit_code = Varchar(length=18, unique=True)
    contact_phone = Varchar(length=30, default="")
    address = Varchar(length=300, default="")


class User(SyncColumns, Table, tablename="app_user"):
    """人员 — a person who signs in; belongs to at most one organisation."""

    id = UUID(primary_key=True)
    username = Varchar(length=150, unique=True)
    display_name = Varchar(length=100)
    phone = Varchar(length=30, default="")
    email = Varchar(length=254, default="")
    organisation = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)
    password_hash = Varchar(length=200, secret=True)
    is_admin = Boolean(default=False)
    active = Boolean(default=True)


class Project(SyncColumns, Table):
    """改造项目 — one renovation project of a programme, covering one or more sites."""

    id = UUID(primary_key=True)
    code = Varchar(length=50, unique=True)
    name = Varchar(length=200)
    district = Varchar(length=100, default="")
    year = Integer()
    status = Varchar(length=20, default="planning", index=True)
    owner_organisation = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)
    description = Text(default="")


class Site(SyncColumns, Table):
    """小区 — a residential site inside a project."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=200)
    address = Varchar(length=300, default="")
    year_built = Integer(null=True, default=None)
    building_count = Integer(default=0)
    households = Integer(default=0)
    floor_area_m2 = Real(default=0.0)


class Building(SyncColumns, Table):
    """楼栋 — a building on a site."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    site = ForeignKey(references=Site, null=False, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=100)
    floors = Integer(null=True, default=None)
    units = Integer(null=True, default=None)
    households = Integer(default=0)
    year_built = Integer(null=True, default=None)


class WorkItem(SyncColumns, Table):
    """改造内容 — one piece of renovation work on a site (or building), done by one contractor."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    site = ForeignKey(references=Site, null=False, on_delete=OnDelete.restrict, index=True)
    building = ForeignKey(references=Building, null=True, default=None, on_delete=OnDelete.restrict)
    category = Varchar(length=20)
    work_type = Varchar(length=40, index=True)
    name = Varchar(length=200)
    contractor = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)
    status = Varchar(length=20, default="planned")
    planned_start = Date(null=True, default=None)
    planned_end = Date(null=True, default=None)


class Membership(SyncColumns, Table):
    """项目成员 — a person's role in one project (unique per project, user and role: see the
    projects migration that adds the index; Piccolo's Unique constraint does not apply on SQLite)."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.restrict, index=True)
    role = Varchar(length=30)


class DeviceSession(Table):
    """A refresh token bound to one device; the access tokens issued from it name its id."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade, index=True)
    device_id = Varchar(length=64, index=True)
    refresh_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    last_used_at = Timestamptz()
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    user_agent = Varchar(length=300, default="")


class RetiredRefreshToken(Table):
    """A refresh token that was swapped for a new one (SHA-256 only). One of these presented again
    means two parties hold the device session's tokens: the session is revoked (see
    inspection/projects/auth.py). Kept for as long as a refresh token lives."""

    hash = Varchar(length=64, unique=True)
    session = ForeignKey(references=DeviceSession, null=False, on_delete=OnDelete.cascade, index=True)
    retired_at = Timestamptz(index=True)


class RateEvent(Table):
    """One counted event (a failed sign-in, a public complaint) under a key such as
    `login-account:203.0.113.5|wang` or `complaint:203.0.113.5`. Counted in the database so every server process
    shares the count and a restart forgets nothing; rows older than their window are pruned."""

    key = Varchar(length=200, index=True)
    at = Timestamptz(index=True)
