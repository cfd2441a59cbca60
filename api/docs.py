"""The API documentation pages (/schema, /schema/swagger) with Swagger UI's files served by this
server from the swagger-ui-py package, so the documentation works on a site network without
internet access (no CDN)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from litestar import Router, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.response import File

ASSETS_URL = "/schema/assets"
# the only files served: what the page loads (the package holds more: an editor, source maps)
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
# no favicon from a CDN: an empty icon, which the browser does not fetch
NO_FAVICON = "<link rel='icon' href='data:,'>"


def assets_dir() -> Path:
    """swagger-ui-py's copy of Swagger UI (found without importing the package, which looks for
    web frameworks when imported)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@get(
    "/assets/{name:str}",
    include_in_schema=False,
    opt={"public": True},
    # the files change only with the package
    cache_control=CacheControlHeader(max_age=86400, public=True),
    sync_to_thread=False,
)
def asset(name: FromPath[str]) -> File:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFoundException("no such documentation file")
    return File(assets_dir() / name, media_type=media_type, content_disposition_type="inline")


def docs_router() -> Router:
    """/schema: Swagger UI at / and /swagger, its files at /schema/assets/ (public, like the
    documentation itself)."""
    return Router("/schema", route_handlers=[asset], include_in_schema=False, opt={"public": True})


def render_plugins() -> list[SwaggerRenderPlugin]:
    return [
        SwaggerRenderPlugin(
            path=["/", "/swagger"],
            js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            css_url=f"{ASSETS_URL}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS_URL}/swagger-ui-standalone-preset.js",
            favicon=NO_FAVICON,
        )
    ]
