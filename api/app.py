"""The Litestar application factory."""

from __future__ import annotations

from typing import Any

from litestar import Litestar

from api.plugin import SiteinspectPlugin, UnmigratedDatabase, build_services
from inspection.clock import Clock, SystemClock
from inspection.settings import Settings, get_settings

__all__ = ["UnmigratedDatabase", "app_from_env", "build_services", "create_app"]


def create_app(settings: Settings | None = None, clock: Clock | None = None, check_migrations: bool = True) -> Litestar:
    settings = settings or get_settings()
    plugin = SiteinspectPlugin(settings, clock or SystemClock(settings.warranty.timezone), check_migrations)
    return plugin.finish(Litestar(plugins=[plugin]))


def app_from_env() -> Any:
    """Entry point for `uvicorn --factory api.app:app_from_env`."""
    return create_app()
