"""The OpenAPI document says what the API really answers (api/openapi.py): each point here was a
disagreement the fuzzer (tests/security/test_fuzz.py) found between the document and the server."""

from __future__ import annotations

from typing import Any

import pytest

from inspection.deadlines import DEADLINE_PATTERN

METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture
async def document(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, item[m]) for p, item in document["paths"].items() for m in METHODS if m in item]


async def test_every_error_is_documented_as_problem_json(document: dict[str, Any]) -> None:
    assert set(document["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status", "detail"}
    for method, path, operation in _operations(document):
        for status in ("400", "401", "403", "404", "409", "422", "429", "503"):
            content = operation["responses"][status]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
        if "requestBody" in operation:
            assert {"413", "415"} <= set(operation["responses"]), (method, path)


async def test_public_routes_need_no_token(document: dict[str, Any]) -> None:
    assert document["security"] == [{"BearerToken": []}]
    public = {(m, p) for m, p, op in _operations(document) if op.get("security") == []}
    assert public == {
        ("get", "/health"),
        ("get", "/ready"),
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/refresh"),
        ("get", "/verify/{number}"),
        ("get", "/api/v1/credit/lists"),
    }


async def test_request_bodies_carry_every_constraint_the_decoder_checks(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    building = schemas["BuildingUpdate"]
    assert building["additionalProperties"] is False  # unknown fields are refused, not ignored
    assert building["properties"]["households"]["minimum"] == 0  # Litestar dropped a minimum of 0
    photos = schemas["RespondBody"]["properties"]["photos"]["items"]
    assert photos["minLength"] == photos["maxLength"] == 64  # SHA-256 hex, on every list item
    # a deadline: a plain date (the end of that day, local) or an RFC 3339 time with its offset (the
    # services refuse one without, 422); the pattern is what the decoder checks
    deadline = schemas["RejectBody"]["properties"]["deadline"]
    assert deadline["type"] == "string" and deadline["pattern"] == DEADLINE_PATTERN
    assert "2026-12-10" in deadline["examples"]
    (within,) = [
        p
        for p in document["paths"]["/api/v1/warranty/items"]["get"]["parameters"]
        if p["name"] == "expiring_within_days"
    ]
    assert within["schema"]["minimum"] == 0


async def test_answers_that_are_not_json_are_documented(document: dict[str, Any]) -> None:
    download = document["paths"]["/api/v1/evidence/{sha256}"]["get"]["responses"]
    assert set(download["200"]["content"]) == {"image/jpeg", "image/png", "image/heic", "image/avif", "application/pdf"}
    assert {"302", "304"} <= set(download)
    verify = document["paths"]["/verify/{number}"]["get"]["responses"]["200"]["content"]
    assert set(verify) == {"text/html", "application/json"}
    assert verify["application/json"]["schema"] == {"$ref": "#/components/schemas/VerificationOut"}
    assert "VerificationOut" in document["components"]["schemas"]
