"""The portal's routes: every page and its static files under /portal, and / sending browsers there."""

from __future__ import annotations

from pathlib import Path

from litestar import Router, get
from litestar.datastructures import CacheControlHeader
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from api.portal.alerts import AlertPages
from api.portal.auth import LoginController
from api.portal.complaints import ComplaintPages
from api.portal.conflicts import ConflictPages
from api.portal.errors import EXCEPTION_HANDLERS
from api.portal.inspections import InspectionPages
from api.portal.notice import NoticePages
from api.portal.notification_settings import NotificationSettingsPages
from api.portal.office import OfficePages
from api.portal.orders import OrderPages
from api.portal.programme import ProgrammePages, PublicProgrammePages
from api.portal.security import portal_headers_middleware
from api.portal.warranty import WarrantyPages

STATIC = Path(__file__).with_name("static")


@get("/", opt={"public": True}, include_in_schema=False)
async def root() -> Redirect:
    return Redirect(path="/portal/", status_code=302)


def portal_router() -> Router:
    """Every page is public to the API's bearer-token guard; the portal signs people in itself."""
    return Router(
        path="/",
        route_handlers=[
            LoginController,
            OfficePages,
            OrderPages,
            InspectionPages,
            AlertPages,
            ComplaintPages,
            ConflictPages,
            NotificationSettingsPages,
            NoticePages,
            ProgrammePages,
            PublicProgrammePages,
            WarrantyPages,
            create_static_files_router(
                path="/portal/static",
                directories=[STATIC],
                opt={"public": True},
                # unversioned file names: cached a short while so a new release shows within minutes
                cache_control=CacheControlHeader(public=True, max_age=600),
            ),
        ],
        opt={"public": True},
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[portal_headers_middleware],
        include_in_schema=False,
    )


__all__ = ["portal_router", "root"]
