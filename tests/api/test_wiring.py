"""The app is assembled by one Litestar plugin (api/plugin.py): the API's routes, document and
providers are what they were, and every controller gets the one service object the app was built with."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar
from litestar.routes import HTTPRoute

from api.deps import PROVIDERS
from inspection.clock import FixedClock
from inspection.settings import PROJECT_ROOT

FIXTURE = Path(__file__).parent / "fixtures" / "openapi_operations.json"
METHODS = ("get", "put", "post", "patch", "delete", "head")
# a Services field -> the name controllers take it under
FIELD_OF = {
    "authenticator": "auth",
    "orders": "rectification",
}


def _handlers(app: Litestar) -> list[tuple[str, Any]]:
    return [
        (route.path, handler)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
    ]


async def test_the_document_names_the_same_operations_as_before_the_plugin(client: httpx.AsyncClient) -> None:
    """The fixture is the document of the app wired by hand (before issue 22): moving controllers under
    Router("/api/v1") and the services into providers changed no path, method or operation id. An
    operation added since is allowed, as long as it is mounted once under /api/v1 like the others."""
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    document = r.json()
    now = {(m.upper(), p, op[m]["operationId"]) for p, op in document["paths"].items() for m in METHODS if m in op}
    before = {tuple(row) for row in json.loads(FIXTURE.read_text())}
    assert before - now == set()  # nothing lost, moved or renamed
    roots = {p.split("/")[1] for _, p, _ in before}
    for method, path, operation_id in now - before:
        assert path.split("/")[1] in roots and "/api/v1/api/" not in path, (method, path, operation_id)
    assert len({op for _, _, op in now}) == len(now)  # operation ids stay unique


def test_api_handlers_take_services_not_the_bag(app: Litestar) -> None:
    """Under /api/v1 (and /ready, /verify) a handler names the service it calls; only the portal's
    pages still take `services`."""
    seen = 0
    for path, handler in _handlers(app):
        if not path.startswith(("/api/v1", "/ready", "/verify")) or not handler.include_in_schema:
            continue  # Litestar's own OPTIONS answers call nothing
        parameters = handler.parsed_fn_signature.parameters
        assert "services" not in parameters, (path, handler.handler_name)
        asked = set(parameters) & set(PROVIDERS)
        assert asked, (path, handler.handler_name)  # each one calls a service
        seen += 1
    assert seen > 100  # every API handler, not a few


def test_providers_hand_out_the_objects_built_once_with_the_apps_settings_and_clock(
    app: Litestar, clock: FixedClock
) -> None:
    services = app.state.services
    for path, handler in _handlers(app):
        resolved = handler.resolve_dependencies()
        for name in set(handler.parsed_fn_signature.parameters) & set(PROVIDERS):
            provide = resolved[name]
            given = provide.dependency(app.state)
            assert given is getattr(services, FIELD_OF.get(name, name)), (path, name)
            assert given is provide.dependency(app.state)  # the same object for every request
    # built with the app's clock, not a clock of their own
    for field in ("projects", "rectification", "checklists", "samples", "warranty", "alerts", "webhooks", "reports"):
        assert getattr(services, field).clock is clock, field
    assert services.sync.clock is clock


def test_two_apps_do_not_share_services(clock: FixedClock) -> None:
    from api.app import create_app
    from inspection.settings import get_settings

    one = create_app(get_settings(), clock, check_migrations=False)
    other = create_app(get_settings(), FixedClock(clock.now()), check_migrations=False)
    assert one.state.services.rectification is not other.state.services.rectification
    assert other.state.services.rectification.clock is not clock


def test_sync_commands_read_no_settings_of_their_own() -> None:
    """The tablet commands call the services the app built; they never load settings themselves."""
    for path in sorted((PROJECT_ROOT / "inspection" / "sync" / "commands").glob("*.py")):
        names = {
            node.id if isinstance(node, ast.Name) else node.attr
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Name | ast.Attribute)
        }
        names |= {
            alias.name
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        assert "get_settings" not in names, path.name
