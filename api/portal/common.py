"""Pieces the portal's pages share: the signed-in viewer dependency, names for ids, the PDF
report links that exist in this build, and storing uploaded photos through the evidence service."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote
from uuid import UUID

from litestar import Litestar
from litestar.di import NamedDependency

from api.deps import Services
from api.portal.forms import UploadedFile
from api.portal.session import Viewer
from inspection.actor import Actor

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
