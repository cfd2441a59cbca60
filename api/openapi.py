"""The OpenAPI document as the API really answers: problem JSON for every error, public routes
without a token, and request bodies described by the decoder that checks them (msgspec's own JSON
schema: every length, range and pattern, unknown fields refused). Litestar's generator loses some
of these (a minimum of 0 inside an optional field, constraints on list items), so the generated
document is finished here, once, when it is first turned into JSON."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import msgspec
import msgspec.inspect as mi
from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import OpenAPI
from litestar.routes import HTTPRoute

from api.errors import PROBLEM_MEDIA_TYPE

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "stable problem type, urn:siteinspect:problem:<slug>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "the path of the request"},
        "field": {"type": ["string", "null"], "description": "the first field at fault"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                    "source": {"type": "string"},
                },
            },
        },
        "request_id": {"type": "string", "description": "also in the X-Request-ID header and the logs"},
    },
}

# What any operation may answer besides its success, and why.
PROBLEMS = {
    "400": "the request does not match this document (types, unknown fields, malformed JSON)",
    "401": "not signed in, or the token is expired, revoked or tampered with",
    "403": "signed in, but this role may not do this",
    "404": "no such record, or one the caller may not see",
    "409": "the record changed since it was read, or the move is not allowed from its current state",
    "422": "well-formed, but breaks a rule of the domain this document cannot state",
    "429": "too many attempts; see Retry-After",
    "503": "the database or the object store is not answering, every report renderer is busy, or the server is "
    "stopping; nothing changed, see Retry-After",
}
BODY_PROBLEMS = {
    "413": "the request body is too large",
    "415": "the request body's media type is not accepted",
}


BINARY: dict[str, Any] = {"type": "string", "format": "binary"}


@dataclass
class Routes:
    """What the document needs from the route handlers and Litestar does not carry over."""

    public: set[tuple[str, str]] = field(default_factory=set)  # (method, path) marked opt={"public": True}
    bodies: list[Any] = field(default_factory=list)  # the types request bodies are decoded into
    # opt={"responses": {status: {"description": …, "content": {media type: JSON schema or a type}}}}:
    # answers Litestar cannot describe (several media types for one status, redirects, 304)
    responses: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def routes_of(app: Litestar) -> Routes:
    out = Routes()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.include_in_schema:
                continue
            operations = [(method.lower(), route.path_format) for method in handler.http_methods]
            if handler.opt.get("public"):
                out.public.update(operations)
            if "responses" in handler.opt:
                out.responses.update(dict.fromkeys(operations, handler.opt["responses"]))
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None:
                out.bodies.append(data.annotation)
    return out


def _struct_types(types: list[Any]) -> list[mi.StructType]:
    """Every struct reachable from these types, once each."""
    found: dict[type, mi.StructType] = {}
    pending: list[mi.Type] = list(mi.multi_type_info(types))
    while pending:
        t = pending.pop()
        if isinstance(t, mi.StructType):
            if t.cls not in found:
                found[t.cls] = t
                pending.extend(f.type for f in t.fields)
        elif isinstance(t, mi.UnionType):
            pending.extend(t.types)
        elif isinstance(t, mi.CollectionType):
            pending.append(t.item_type)
        elif isinstance(t, (mi.DictType, mi.Metadata)):
            pending.append(t.value_type if isinstance(t, mi.DictType) else t.type)
    return list(found.values())


def _date_times_with_offset(types: list[Any], components: dict[str, Any]) -> None:
    """msgspec documents a datetime that may arrive without a UTC offset as a bare string. The
    services refuse one without (422), so the document says `date-time` (RFC 3339, offset included)."""
    for struct in _struct_types(types):
        properties = components.get(struct.cls.__name__, {}).get("properties", {})
        for f in struct.fields:
            kinds = f.type.types if isinstance(f.type, mi.UnionType) else (f.type,)
            if any(isinstance(k, mi.DateTimeType) and k.tz is None for k in kinds) and f.encode_name in properties:
                schema = properties[f.encode_name]
                for branch in schema.get("anyOf", [schema]):
                    if branch.get("type") == "string":
                        branch.setdefault("format", "date-time")


def finish(document: dict[str, Any], routes: Routes) -> dict[str, Any]:
    # Types named in declared responses and request bodies are described by msgspec, the decoder and
    # encoder themselves; the request bodies' schemas replace Litestar's under the same names.
    declared = [
        schema
        for responses in routes.responses.values()
        for response in responses.values()
        for schema in response.get("content", {}).values()
        if not isinstance(schema, dict)
    ]
    refs, components = msgspec.json.schema_components(
        [*routes.bodies, *declared], ref_template="#/components/schemas/{name}"
    )
    schema_of = dict(zip(map(id, declared), refs[len(routes.bodies) :], strict=True))
    _date_times_with_offset([*routes.bodies, *declared], components)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(components)
    schemas["Problem"] = PROBLEM_SCHEMA
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            if (method, path) in routes.public:
                operation["security"] = []  # Litestar drops an empty list, which means "no token"
            responses = operation.setdefault("responses", {})
            for status, response in routes.responses.get((method, path), {}).items():
                content = {
                    media_type: {"schema": schema if isinstance(schema, dict) else schema_of[id(schema)]}
                    for media_type, schema in response.get("content", {}).items()
                }
                responses[str(status)] = {
                    "description": response["description"],
                    **({"content": content} if content else {}),
                }
            codes = {**PROBLEMS, **(BODY_PROBLEMS if "requestBody" in operation else {})}
            for code, description in codes.items():
                responses[code] = {"description": description, "content": problem}
    return document


@dataclass
class Document(OpenAPI):
    """The generated document, finished by `finish` whenever it is turned into JSON."""

    def to_schema(self) -> dict[str, Any]:
        app: Litestar | None = getattr(self, "_app", None)  # not a field: never written into the document
        return finish(super().to_schema(), routes_of(app) if app is not None else Routes())


@dataclass
class DocumentConfig(OpenAPIConfig):
    """OpenAPIConfig building a `Document`; `app` is set once the application exists."""

    app: Litestar | None = field(default=None)

    def to_openapi_schema(self) -> OpenAPI:
        base = super().to_openapi_schema()
        document = Document(**{f.name: getattr(base, f.name) for f in fields(base)})
        document._app = self.app  # type: ignore[attr-defined]
        return document
