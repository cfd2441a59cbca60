"""Assembles the application: routes, providers, hooks, lifespan and document, as one Litestar plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.app import AppConfig
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import InitPlugin

from api import (
    alerts,
    auth,
    checklists,
    complaints,
    evidence,
    health,
    notifications,
    programme,
    projects,
    rectification,
    reports,
    samples,
    sync,
    tablet,
    warranty,
)
from api.deps import Services, provide_actor, provide_services, require_actor
from api.docs import docs_router, render_plugins
from api.errors import EXCEPTION_HANDLERS, shutdown_middleware
from api.logs import configure_logging, request_id_middleware
from api.openapi import DocumentConfig
from api.portal.router import portal_router, root
from api.security import add_security_headers, body_timeout_middleware, refuse_nul_in_parameters
from inspection import __version__, db
from inspection.alerts.scheduler import build_scheduler
from inspection.alerts.service import AlertsService
from inspection.checklists.service import ChecklistsService
from inspection.checklists.supervision import SupervisionService
from inspection.clock import Clock
from inspection.complaints.service import ComplaintsService
from inspection.evidence.service import EvidenceService
from inspection.notifications.service import NotificationsService
from inspection.notifications.webhooks import WebhookService
from inspection.programme.service import ProgrammeService
from inspection.projects.auth import Authenticator
from inspection.projects.service import ProjectsService
from inspection.rectification.service import RectificationService
from inspection.reports.service import ReportsService
from inspection.samples.service import SamplesService
from inspection.settings import Settings, secret_key
from inspection.sync.commands import DomainServices
from inspection.sync.service import SyncService
from inspection.warranty.service import WarrantyService


class UnmigratedDatabase(RuntimeError):
    pass


def build_services(settings: Settings, clock: Clock) -> Services:
    """Every service once, with the app's settings and clock; the composition root of the house."""
    evidence_service = EvidenceService(settings, clock)
    commanded = DomainServices(
        projects=ProjectsService(settings, clock),
        checklists=ChecklistsService(settings, clock),
        rectification=RectificationService(settings, clock),
        samples=SamplesService(settings, clock),
    )
    return Services(
        settings=settings,
        clock=clock,
        auth=Authenticator(settings, secret_key(settings), clock),
        projects=commanded.projects,
        sync=SyncService(secret_key(settings), clock, commanded),
        rectification=commanded.rectification,
        checklists=commanded.checklists,
        supervision=SupervisionService(clock),
        samples=commanded.samples,
        warranty=WarrantyService(settings, clock),
        alerts=AlertsService(settings, clock),
        notifications=NotificationsService(settings, clock),
        webhooks=WebhookService(settings, clock),
        reports=ReportsService(settings, clock),
        evidence=evidence_service,
        complaints=ComplaintsService(settings, clock, evidence_service),
        programme=ProgrammeService(settings, clock),
    )


def api_router() -> Router:
    """The JSON API, every controller below /api/v1 (their own paths name the resource only)."""
    return Router(
        "/api/v1",
        route_handlers=[
            auth.AuthController,
            projects.OrganisationController,
            projects.UserController,
            projects.ProjectController,
            projects.SiteController,
            sync.SyncController,
            rectification.OrderController,
            notifications.NotificationController,
            evidence.EvidenceController,
            checklists.TemplateController,
            checklists.SupervisionController,
            checklists.InspectionController,
            samples.SamplesController,
            warranty.WarrantyController,
            alerts.AlertController,
            notifications.WebhookController,
            alerts.ScheduleController,
            reports.ReportController,
            complaints.ComplaintController,
            *programme.CONTROLLERS,
        ],
    )


class SiteinspectPlugin(InitPlugin):
    """The whole app for one settings and clock. The services are built here, once; controllers get
    them through the providers in `api.deps.PROVIDERS`, which read them from the app's state."""

    __slots__ = ("check_migrations", "clock", "openapi_config", "services", "settings")

    def __init__(self, settings: Settings, clock: Clock, check_migrations: bool = True) -> None:
        self.settings = settings
        self.clock = clock
        self.check_migrations = check_migrations
        self.services = build_services(settings, clock)
        self.openapi_config = DocumentConfig(
            title="siteinspect",
            version=__version__,
            description="Construction quality and safety inspection for old residential community renovation.",
            # the documentation is public: marked on its router like every other public route
            openapi_router=docs_router(),
            render_plugins=render_plugins(),
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="signed token")
                }
            ),
            security=[{"BearerToken": []}],
        )

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        settings, services = self.settings, self.services
        async with db.connection_pool(settings):
            if self.check_migrations:
                pending = await db.pending_migrations()
                if pending:
                    raise UnmigratedDatabase(
                        f"the database has {len(pending)} migration(s) not applied "
                        f"({', '.join(pending[:3])}{'…' if len(pending) > 3 else ''}); run: siteinspect migrate"
                    )
            services.reports.start()
            scheduler = build_scheduler(settings, self.clock) if settings.scheduler.enabled else None
            if scheduler is not None:
                scheduler.start()
            try:
                yield
            finally:
                # after the shutdown grace period (server.shutdown_grace_s): a job still running
                # is cancelled (its transaction rolls back), render workers are killed
                if scheduler is not None:
                    scheduler.shutdown(wait=False)
                await services.reports.close()

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        settings = self.settings
        configure_logging(settings)
        app_config.route_handlers.extend(
            [
                health.health,
                health.ready,
                api_router(),
                reports.VerifyController,
                root,
                portal_router(),
                tablet.tablet_router(),
            ]
        )
        app_config.guards.append(require_actor)
        app_config.dependencies["actor"] = Provide(provide_actor)
        # the portal's pages still take the whole bag; the API's controllers take one service each
        app_config.dependencies["services"] = Provide(provide_services)
        app_config.exception_handlers.update(EXCEPTION_HANDLERS)
        app_config.middleware.extend([shutdown_middleware, body_timeout_middleware])
        app_config.before_send.append(add_security_headers)
        app_config.before_request = refuse_nul_in_parameters
        app_config.lifespan.append(self.lifespan)
        if settings.server.cors_origins:
            app_config.cors_config = CORSConfig(allow_origins=settings.server.cors_origins)
        app_config.openapi_config = self.openapi_config
        app_config.debug = False
        app_config.state.services = self.services
        return app_config

    def finish(self, app: Litestar) -> Litestar:
        """What Litestar lets no plugin do before the app exists."""
        self.openapi_config.app = app  # the document reads the route handlers, which only the app knows
        # Around the whole app, not as route middleware: the router's own 404 and 405 get a request
        # id and an access line too (Litestar wraps its CORS middleware the same way).
        app.asgi_handler = request_id_middleware(app.asgi_handler)
        # Litestar 2.25 takes the app's body limit from its constructor's argument and ignores the one
        # a plugin sets in AppConfig; handlers read it at their first request, so setting it here holds
        # (tests/api/test_bad_input.py::test_oversized_body).
        app.request_max_body_size = self.settings.server.max_body_bytes
        return app
