"""What handlers receive: the acting user and the services they call, each built once per app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.params import QueryParameter

from api.portal.cookies import SESSION_COOKIE, SessionCookie
from inspection.actor import Actor
from inspection.alerts.service import AlertsService
from inspection.checklists.service import ChecklistsService
from inspection.checklists.supervision import SupervisionService
from inspection.clock import Clock
from inspection.complaints.service import ComplaintsService
from inspection.errors import Unauthorized
from inspection.evidence.service import EvidenceService
from inspection.messages import t
from inspection.notifications.service import NotificationsService
from inspection.notifications.webhooks import WebhookService
from inspection.programme.service import ProgrammeService
from inspection.projects.auth import Authenticator
from inspection.projects.service import ProjectsService
from inspection.rectification.service import RectificationService
from inspection.reports.service import ReportsService
from inspection.samples.service import SamplesService
from inspection.settings import Settings
from inspection.sync.service import SyncService
from inspection.warranty.service import WarrantyService

# Paging, the same on every list. Offsets stop at a million rows: paging deeper is of no use, and
# a number past 64 bits failed in the database (a 500) instead of being refused (a 400).
MAX_OFFSET = 1_000_000
Limit = Annotated[int, QueryParameter(name="limit", ge=1, le=500, description="page size")]
Offset = Annotated[int, QueryParameter(name="offset", ge=0, le=MAX_OFFSET, description="rows to skip")]

# What a handler's parameter says it takes: the service its controller's provider hands out.
AuthenticatorDep = NamedDependency[Authenticator]
ProjectsDep = NamedDependency[ProjectsService]
SyncDep = NamedDependency[SyncService]
OrdersDep = NamedDependency[RectificationService]
EvidenceDep = NamedDependency[EvidenceService]
ChecklistsDep = NamedDependency[ChecklistsService]
SupervisionDep = NamedDependency[SupervisionService]
SamplesDep = NamedDependency[SamplesService]
WarrantyDep = NamedDependency[WarrantyService]
AlertsDep = NamedDependency[AlertsService]
NotificationsDep = NamedDependency[NotificationsService]
WebhooksDep = NamedDependency[WebhookService]
ReportsDep = NamedDependency[ReportsService]
ComplaintsDep = NamedDependency[ComplaintsService]
ProgrammeDep = NamedDependency[ProgrammeService]


@dataclass
class Services:
    """The service objects of one app, built once by `api.plugin.SiteinspectPlugin`. Controllers do
    not see it: each declares providers of the services it calls (`PROVIDERS`). It stays for what
    is wired by hand around the routes: the guard (`auth`), the portal pages, the tablet files and
    the security middleware (`settings`), the lifespan (`reports`)."""

    settings: Settings
    clock: Clock
    auth: Authenticator
    projects: ProjectsService
    sync: SyncService
    rectification: RectificationService
    evidence: EvidenceService
    checklists: ChecklistsService
    supervision: SupervisionService
    samples: SamplesService
    warranty: WarrantyService
    alerts: AlertsService
    notifications: NotificationsService
    webhooks: WebhookService
    reports: ReportsService
    complaints: ComplaintsService
    programme: ProgrammeService


def services_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Services:
    return connection.app.state.services  # type: ignore[no-any-return]


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(t("api.send_authorization_bearer_access_token_post"))
    return token.strip()


def portal_cookie_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The access token in the web portal's session cookie, for reads only: the photos and PDFs a
    portal page links to. Writes through the API always need the bearer header, so a cookie sent
    by a page from another site can never change anything."""
    if connection.scope.get("method") not in ("GET", "HEAD") or "authorization" in connection.headers:
        return None
    cookie = SessionCookie.decode(connection.cookies.get(SESSION_COOKIE), services_of(connection).auth.key)
    return cookie.access_token if cookie else None


async def require_actor(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """App-wide guard: every route needs a valid access token unless its handler (or a router
    above it) is marked `opt={"public": True}`; tests/projects/test_authorisation_matrix.py keeps
    the reviewed list of those."""
    if handler.opt.get("public"):
        return
    token = portal_cookie_token(connection) or bearer_token(connection)
    connection.state.actor = await services_of(connection).auth.actor_for(token)


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    actor = getattr(request.state, "actor", None)
    if actor is None:  # a public route asked for an actor: treat as unauthenticated
        raise Unauthorized(t("api.route_needs_signed_user"))
    return actor  # type: ignore[no-any-return]


async def provide_services(request: Request[Any, Any, Any]) -> Services:
    return services_of(request)


def _provider(pick: Callable[[Services], Any]) -> Provide:
    # The object built with the app's settings and clock, handed out as is: never one per request.
    def provide(state: State) -> Any:
        return pick(state.services)

    return Provide(provide, sync_to_thread=False)


# One provider per service, by the name handlers take it under; a controller declares those it uses
# (`dependencies = {"orders": PROVIDERS["orders"]}`), so a handler asking for another fails at startup.
PROVIDERS: dict[str, Provide] = {
    "authenticator": _provider(lambda s: s.auth),
    "projects": _provider(lambda s: s.projects),
    "sync": _provider(lambda s: s.sync),
    "orders": _provider(lambda s: s.rectification),
    "evidence": _provider(lambda s: s.evidence),
    "checklists": _provider(lambda s: s.checklists),
    "supervision": _provider(lambda s: s.supervision),
    "samples": _provider(lambda s: s.samples),
    "warranty": _provider(lambda s: s.warranty),
    "alerts": _provider(lambda s: s.alerts),
    "notifications": _provider(lambda s: s.notifications),
    "webhooks": _provider(lambda s: s.webhooks),
    "reports": _provider(lambda s: s.reports),
    "complaints": _provider(lambda s: s.complaints),
    "programme": _provider(lambda s: s.programme),
}
