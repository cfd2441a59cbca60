"""Pieces the portal's pages share: the signed-in viewer dependency, names for ids, the PDF
report links that exist in this build, and storing uploaded photos through the evidence service."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from urllib.parse import quote
from uuid import UUID

from litestar import Litestar
from litestar.di import NamedDependency

from api.deps import Services
from api.portal.forms import UploadedFile
from api.portal.session import Viewer
from inspection.actor import Actor
from inspection.errors import Forbidden, NotFound, ValidationFailed
from inspection.messages import t
from inspection.projects.access import project_access
from inspection.rectification.rules import ISSUING_ROLES

Me = NamedDependency[Viewer]
Svc = NamedDependency[Services]

# The reports the portal offers, by the path the reports API serves them at. A button appears
# only when this build has that route, so the pages work before and after the reports land.
PROJECT_REPORTS = [
    ("ledger", "整改台账", "/api/v1/reports/projects/{}/ledger.pdf"),
    ("weekly", "周报", "/api/v1/reports/projects/{}/weekly.pdf"),
    ("warranty", "保修清单", "/api/v1/reports/projects/{}/warranty.pdf"),
]
ORDER_REPORTS = [
    ("rectification", "整改通知单", "/api/v1/reports/rectification/{}.pdf"),
    ("rectification-reply", "整改回复单", "/api/v1/reports/rectification/{}.pdf?kind=reply"),
]
PROGRAMME_WEEKLY = "/api/v1/reports/programmes/weekly.pdf"
INSPECTION_REPORT = ("inspection", "检查记录 PDF", "/api/v1/reports/inspections/{}.pdf")

_PARAM = re.compile(r"\{[^}]*\}")


def _route_patterns(app: Litestar) -> list[re.Pattern[str]]:
    patterns: list[re.Pattern[str]] | None = getattr(app.state, "portal_route_patterns", None)
    if patterns is None:
        patterns = []
        for route in app.routes:
            if "GET" in getattr(route, "methods", ()):
                pieces = _PARAM.split(route.path)
                patterns.append(re.compile("[^/]+".join(re.escape(p) for p in pieces)))
        app.state.portal_route_patterns = patterns
    return patterns


def has_route(app: Litestar, url: str) -> bool:
    """Whether this build serves GET `url` (the reports arrive in their own branch)."""
    path = url.split("?", 1)[0]
    return any(p.fullmatch(path) for p in _route_patterns(app))


def report_links(app: Litestar, reports: Sequence[tuple[str, str, str]], record_id: UUID) -> list[dict[str, str]]:
    out = []
    for key, label, shape in reports:
        url = shape.format(record_id)
        if has_route(app, url):
            out.append({"key": key, "label": label, "url": url})
    return out


def programme_reports(app: Litestar, projects: Sequence[Any]) -> list[dict[str, str]]:
    """The programme weekly report, one per district and year among the user's projects."""
    if not has_route(app, PROGRAMME_WEEKLY):
        return []
    seen = sorted({(p.district, p.year) for p in projects if p.district})
    return [
        {
            "key": f"programme-weekly-{i}",
            "label": f"{district} {year} 年周报",
            "url": f"{PROGRAMME_WEEKLY}?district={quote(district)}&year={year}",
        }
        for i, (district, year) in enumerate(seen)
    ]


async def organisation_names(services: Services, actor: Actor, ids: set[UUID | None]) -> dict[UUID, str]:
    """Organisations are reference data every signed-in user may read."""
    out: dict[UUID, str] = {}
    for org_id in ids:
        if org_id is not None:
            out[org_id] = (await services.projects.get_organisation(actor, org_id)).name
    return out


async def member_names(services: Services, actor: Actor, project_id: UUID) -> dict[UUID, str]:
    """Display names of the project's members the actor may see (a contractor: its own people)."""
    page = await services.projects.list_members(actor, project_id, limit=500, offset=0)
    return {m.user_id: m.display_name for m in page.items}


async def store_photos(services: Services, actor: Actor, files: Sequence[UploadedFile], project_id: UUID) -> list[str]:
    """Each spooled photo through the evidence service, exactly as the API's PUT stores one: the
    service hashes it again while staging and refuses it unless the SHA-256 matches."""
    shas = []
    for f in files:
        stored = await services.evidence.upload(
            actor, f.sha256, f.chunks(), declared_size=f.size, project_id=project_id, original_name=f.filename
        )
        shas.append(stored.sha256)
    return shas


async def may_issue(actor: Actor, project_id: UUID) -> bool:
    """Whether the actor may issue, edit and discard the project's draft orders."""
    return (await project_access(actor, project_id)).has(*ISSUING_ROLES)


async def notice_numbers(services: Services, orders: Sequence[Any]) -> dict[UUID, str]:
    """The 整改通知单 number (ZGTZ-…) each order went out under: its notice's, when it went out
    with others; else its own notice's once numbered. Drafts have none yet."""
    return await services.reports.notice_numbers([o.id for o in orders])


async def place_labels(
    services: Services, actor: Actor, places: Sequence[tuple[UUID | None, UUID | None, UUID | None]]
) -> dict[tuple[UUID | None, UUID | None, UUID | None], str]:
    """'幸福里小区 3号楼 屋面防水改造' for each (site, building, work item), each name read once
    with the actor's rights (a name the actor may not read is left out)."""
    cache: dict[tuple[str, UUID], str] = {}

    async def name(kind: str, record_id: UUID | None) -> str:
        if record_id is None:
            return ""
        if (kind, record_id) not in cache:
            getter = {
                "site": services.projects.get_site,
                "building": services.projects.get_building,
                "work": services.projects.get_work_item,
            }[kind]
            try:
                found: Any = await getter(actor, record_id)
                cache[(kind, record_id)] = found.name
            except (NotFound, Forbidden):
                cache[(kind, record_id)] = ""
        return cache[(kind, record_id)]

    out = {}
    for site, building, work in dict.fromkeys(places):
        parts = [await name("site", site), await name("building", building), await name("work", work)]
        out[(site, building, work)] = " ".join(p for p in parts if p)
    return out


async def number_notice(services: Services, actor: Actor, order_id: UUID) -> str:
    """Give an issued order's 整改通知单 its number now, as printing it would; printing the same
    content later finds this number."""
    prepared = await services.reports.rectification(actor, order_id, "notice")
    return (await services.reports.number(actor, prepared)).number


def end_of_day(raw: str, tz: Any, field: str = "deadline") -> datetime:
    """A date from a form's date picker means the end of that day where the programme is."""
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed(t("portal.pick_date"), field=field) from None
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz)
