"""Request and response shapes for organisations, people and projects (msgspec Structs)."""

from __future__ import annotations

import copy
import logging
from datetime import date, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec
import msgspec.inspect
from msgspec import UNSET, Meta, UnsetType

from inspection.projects.rules import OrgKind, ProjectStatus, Role, WorkCategory, WorkItemStatus, WorkType

log = logging.getLogger("siteinspect.records")
T = TypeVar("T", bound=msgspec.Struct)

Name = Annotated[str, Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, Meta(max_length=300)]
LongText = Annotated[str, Meta(max_length=5000)]
Phone = Annotated[str, Meta(max_length=30, pattern=r"^[0-9+\-() ]*$")]
# `\s` means slightly different things to Python (which checks requests) and to the JavaScript
# regular expressions of the OpenAPI document (which clients check against): what either counts as
# space or control is named too, so that both refuse the same addresses.
_NOT_IN_EMAIL = r"[^@\s\x00-\x1f\x7f\x85\ufeff]+"
Email = Annotated[str, Meta(max_length=254, pattern=rf"^$|^{_NOT_IN_EMAIL}@{_NOT_IN_EMAIL}\.{_NOT_IN_EMAIL}$")]
CreditCode = Annotated[str, Meta(min_length=18, max_length=18)]
Username = Annotated[str, Meta(min_length=3, max_length=150, pattern=r"^[A-Za-z0-9_.@\-]+$")]
Password = Annotated[str, Meta(min_length=1, max_length=256)]
DeviceId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Year = Annotated[int, Meta(ge=1900, le=2100)]
Count = Annotated[int, Meta(ge=0, le=1_000_000)]
SmallCount = Annotated[int, Meta(ge=0, le=500)]
Area = Annotated[float, Meta(ge=0, le=100_000_000)]
# a record's version is a change sequence number: a BIGINT in the database
Version = Annotated[int, Meta(ge=0, le=2**63 - 1)]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Request bodies: unknown fields are an error, not silently dropped. (msgspec bounds ints and
    floats through `Meta` but cannot bound decimals: the services check their ranges.)"""


class Output(msgspec.Struct, kw_only=True):
    pass


def row_to(row: dict[str, Any], out: type[Any], renames: dict[str, str], **extra: Any) -> Any:
    """A table row (foreign-key columns renamed to their `…_id` names, plus computed fields) as an
    output Struct. Each domain's `from_row` passes its own renames."""
    data = {renames.get(k, k): v for k, v in row.items()}
    data.update(extra)
    return convert_row(data, out)


_EMPTY: dict[type[msgspec.inspect.Type], Any] = {
    msgspec.inspect.IntType: 0,
    msgspec.inspect.FloatType: 0.0,
    msgspec.inspect.StrType: "",
    msgspec.inspect.BoolType: False,
    msgspec.inspect.ListType: [],
    msgspec.inspect.DictType: {},
}


def convert_row(data: dict[str, Any], out: type[T]) -> T:
    """Stored values as the output Struct `out`. A value the Struct cannot hold (written before a
    check existed, or by hand in the database) is logged and shown empty, so one bad field does
    not make every read of its project fail."""
    for _ in range(len(out.__struct_fields__) + 1):
        try:
            return msgspec.convert(data, out, strict=False)
        except msgspec.ValidationError as exc:
            message = str(exc)
            name = message.rpartition("`$.")[2].rstrip("`").split(".")[0].split("[")[0] if "`$." in message else ""
            if name not in data:
                raise
            log.error("%s: stored %s=%.200r does not fit (%s); shown empty", out.__name__, name, data[name], message)
            data = {**data, name: _empty_of(out, name)}
    raise AssertionError("unreachable: every field was replaced")


def _empty_of(out: type[msgspec.Struct], name: str) -> Any:
    info = next(f for f in msgspec.structs.fields(out) if f.name == name)
    if info.default is not msgspec.NODEFAULT:
        return info.default
    if info.default_factory is not msgspec.NODEFAULT:
        return info.default_factory()
    kind = msgspec.inspect.type_info(info.type)
    members = kind.types if isinstance(kind, msgspec.inspect.UnionType) else (kind,)
    if any(isinstance(m, msgspec.inspect.NoneType) for m in members):
        return None
    for m in members:
        if type(m) in _EMPTY:
            return copy.copy(_EMPTY[type(m)])
    return None


class Synced(Output, kw_only=True):
    version: int
    updated_at: datetime
    deleted: bool = False


# Organisations


class OrganisationCreate(Input, kw_only=True):
    id: UUID | None = None
    name: Name
    kind: OrgKind
    credit_code: CreditCode
    contact_phone: Phone = ""
    address: ShortText = ""


class OrganisationUpdate(Input, kw_only=True):
    version: Version
    name: Name | UnsetType = UNSET
    contact_phone: Phone | UnsetType = UNSET
    address: ShortText | UnsetType = UNSET


class OrganisationOut(Synced, kw_only=True):
    id: UUID
    name: str
    kind: OrgKind
    credit_code: str
    contact_phone: str
    address: str


# People


class UserCreate(Input, kw_only=True):
    id: UUID | None = None
    username: Username
    display_name: Name
    password: Password
    organisation_id: UUID | None = None
    phone: Phone = ""
    email: Email = ""
    is_admin: bool = False


class UserOut(Output, kw_only=True):
    id: UUID
    username: str
    display_name: str
    organisation_id: UUID | None
    organisation_name: str | None = None
    organisation_kind: OrgKind | None = None
    phone: str = ""
    email: str = ""
    is_admin: bool = False
    active: bool = True


class MembershipOut(Synced, kw_only=True):
    id: UUID
    project_id: UUID
    user_id: UUID
    role: Role
    display_name: str
    organisation_id: UUID | None
    organisation_name: str | None


class MembershipCreate(Input, kw_only=True):
    id: UUID | None = None
    user_id: UUID
    role: Role


class MeOut(Output, kw_only=True):
    user: UserOut
    memberships: list[MembershipOut]


# Projects


class ProjectCreate(Input, kw_only=True):
    id: UUID | None = None
    code: Annotated[str, Meta(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_\-]+$")]
    name: Name
    district: Annotated[str, Meta(max_length=100)] = ""
    year: Year
    status: ProjectStatus = ProjectStatus.planning
    owner_organisation_id: UUID | None = None
    description: LongText = ""


class ProjectUpdate(Input, kw_only=True):
    version: Version
    name: Name | UnsetType = UNSET
    district: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    year: Year | UnsetType = UNSET
    status: ProjectStatus | UnsetType = UNSET
    owner_organisation_id: UUID | UnsetType | None = UNSET
    description: LongText | UnsetType = UNSET


class ProjectOut(Synced, kw_only=True):
    id: UUID
    code: str
    name: str
    district: str
    year: int
    status: ProjectStatus
    owner_organisation_id: UUID | None
    description: str
    my_roles: list[Role] = []


class SiteCreate(Input, kw_only=True):
    id: UUID | None = None
    name: Name
    address: ShortText = ""
    year_built: Year | None = None
    building_count: SmallCount = 0
    households: Count = 0
    floor_area_m2: Area = 0.0


class SiteUpdate(Input, kw_only=True):
    version: Version
    name: Name | UnsetType = UNSET
    address: ShortText | UnsetType = UNSET
    year_built: Year | UnsetType | None = UNSET
    building_count: SmallCount | UnsetType = UNSET
    households: Count | UnsetType = UNSET
    floor_area_m2: Area | UnsetType = UNSET


class SiteOut(Synced, kw_only=True):
    id: UUID
    project_id: UUID
    name: str
    address: str
    year_built: int | None
    building_count: int
    households: int
    floor_area_m2: float


class BuildingCreate(Input, kw_only=True):
    id: UUID | None = None
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    floors: Annotated[int, Meta(ge=1, le=200)] | None = None
    units: Annotated[int, Meta(ge=1, le=100)] | None = None
    households: Annotated[int, Meta(ge=0, le=10_000)] = 0
    year_built: Year | None = None


class BuildingUpdate(Input, kw_only=True):
    version: Version
    name: Annotated[str, Meta(min_length=1, max_length=100)] | UnsetType = UNSET
    floors: Annotated[int, Meta(ge=1, le=200)] | UnsetType | None = UNSET
    units: Annotated[int, Meta(ge=1, le=100)] | UnsetType | None = UNSET
    households: Annotated[int, Meta(ge=0, le=10_000)] | UnsetType = UNSET
    year_built: Year | UnsetType | None = UNSET


class BuildingOut(Synced, kw_only=True):
    id: UUID
    project_id: UUID
    site_id: UUID
    name: str
    floors: int | None
    units: int | None
    households: int
    year_built: int | None


class WorkItemCreate(Input, kw_only=True):
    id: UUID | None = None
    site_id: UUID
    building_id: UUID | None = None
    category: WorkCategory
    work_type: WorkType
    name: Name
    contractor_id: UUID | None = None
    status: WorkItemStatus = WorkItemStatus.planned
    planned_start: date | None = None
    planned_end: date | None = None


class WorkItemUpdate(Input, kw_only=True):
    version: Version
    name: Name | UnsetType = UNSET
    contractor_id: UUID | UnsetType | None = UNSET
    status: WorkItemStatus | UnsetType = UNSET
    planned_start: date | UnsetType | None = UNSET
    planned_end: date | UnsetType | None = UNSET


class WorkItemOut(Synced, kw_only=True):
    id: UUID
    project_id: UUID
    site_id: UUID
    building_id: UUID | None
    category: WorkCategory
    work_type: WorkType
    name: str
    contractor_id: UUID | None
    status: WorkItemStatus
    planned_start: date | None
    planned_end: date | None


class Page(Output, kw_only=True):
    """Offset pages for office screens (tablets use the sync feed instead)."""

    total: int
    limit: int
    offset: int


class OrganisationPage(Page, kw_only=True):
    items: list[OrganisationOut]


class ProjectPage(Page, kw_only=True):
    items: list[ProjectOut]


class SitePage(Page, kw_only=True):
    items: list[SiteOut]


class BuildingPage(Page, kw_only=True):
    items: list[BuildingOut]


class WorkItemPage(Page, kw_only=True):
    items: list[WorkItemOut]


class MembershipPage(Page, kw_only=True):
    items: list[MembershipOut]
