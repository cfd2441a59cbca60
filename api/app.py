"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi.spec import Components, SecurityScheme

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
from inspection.clock import Clock, SystemClock
from inspection.complaints.service import ComplaintsService
from inspection.evidence.service import EvidenceService
from inspection.notifications.service import NotificationsService
from inspection.programme.service import ProgrammeService
from inspection.projects.auth import Authenticator
from inspection.projects.service import ProjectsService
from inspection.rectification.service import RectificationService
from inspection.reports.service import ReportsService
from inspection.samples.service import SamplesService
from inspection.settings import Settings, get_settings, secret_key
from inspection.sync.commands import DomainServices
from inspection.sync.service import SyncService
from inspection.warranty.service import WarrantyService


class UnmigratedDatabase(RuntimeError):
    pass


def build_services(settings: Settings, clock: Clock) -> Services:
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
        reports=ReportsService(settings, clock),
        evidence=evidence_service,
        complaints=ComplaintsService(settings, clock, evidence_service),
        programme=ProgrammeService(settings, clock),
    )


def create_app(settings: Settings | None = None, clock: Clock | None = None, check_migrations: bool = True) -> Litestar:
    settings = settings or get_settings()
    clock = clock or SystemClock(settings.warranty.timezone)
    configure_logging(settings)
    services = build_services(settings, clock)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with db.connection_pool(settings):
            if check_migrations:
                pending = await db.pending_migrations()
                if pending:
                    raise UnmigratedDatabase(
                        f"the database has {len(pending)} migration(s) not applied "
                        f"({', '.join(pending[:3])}{'…' if len(pending) > 3 else ''}); run: siteinspect migrate"
                    )
            services.reports.start()
            scheduler = build_scheduler(settings, clock) if settings.scheduler.enabled else None
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

    cors = CORSConfig(allow_origins=settings.server.cors_origins) if settings.server.cors_origins else None
    openapi_config = DocumentConfig(
        title="siteinspect",
        version=__version__,
        description="Construction quality and safety inspection for old residential community renovation.",
        # the documentation is public: marked on its router like every other public route
        openapi_router=docs_router(),
        render_plugins=render_plugins(),
        components=Components(
            security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="signed token")}
        ),
        security=[{"BearerToken": []}],
    )
    app = Litestar(
        route_handlers=[
            health.health,
            health.ready,
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
            alerts.WebhookController,
            alerts.ScheduleController,
            reports.ReportController,
            reports.VerifyController,
            complaints.ComplaintController,
            *programme.CONTROLLERS,
            root,
            portal_router(),
            tablet.tablet_router(),
        ],
        guards=[require_actor],
        dependencies={
            "actor": Provide(provide_actor),
            "services": Provide(provide_services),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[shutdown_middleware, body_timeout_middleware],
        before_send=[add_security_headers],
        before_request=refuse_nul_in_parameters,
        lifespan=[lifespan],
        cors_config=cors,
        request_max_body_size=settings.server.max_body_bytes,
        openapi_config=openapi_config,
        debug=False,
    )
    openapi_config.app = app  # the document reads the route handlers, which only the app knows
    # Around the whole app, not as route middleware: the router's own 404 and 405 get a request id
    # and an access line too (Litestar wraps its CORS middleware the same way).
    app.asgi_handler = request_id_middleware(app.asgi_handler)
    app.state.services = services
    return app


def app_from_env() -> Any:
    """Entry point for `uvicorn --factory api.app:app_from_env`."""
    return create_app()
