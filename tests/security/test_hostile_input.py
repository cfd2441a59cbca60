"""Hostile input is refused cleanly or stored as inert text: deep nesting, NUL bytes, invalid
UTF-8, injection strings, path traversal in ids. Never a 500, never half a record."""

from __future__ import annotations

import re

import pytest

from inspection.projects.tables import Site
from tests.factories import World


def _problem(r, status: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()  # type: ignore[no-any-return]


async def test_deeply_nested_json_is_refused(world: World) -> None:
    before = await Site.count()
    body = '{"name": "甲小区", "address": ' + "[" * 50_000 + "]" * 50_000 + "}"
    r = await world.client.post(
        f"/api/v1/projects/{world.id_of('p1')}/sites",
        content=body.encode(),
        headers={**world.headers("owner"), "content-type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert await Site.count() == before


@pytest.mark.parametrize(
    "text",
    ["甲\x00小区", "\x00", "name\u0000'); DROP TABLE site;--"],
    ids=["nul-inside", "nul-only", "nul-with-sql"],
)
async def test_nul_characters_are_refused_naming_the_field(world: World, text: str) -> None:
    """PostgreSQL cannot store U+0000 in text; both databases refuse it the same way, up front."""
    before = await Site.count()
    r = await world.post("owner", f"/api/v1/projects/{world.id_of('p1')}/sites", {"name": text})
    body = _problem(r, 422)
    assert body["field"] == "name"
    assert await Site.count() == before


INERT = [
    "'; DROP TABLE site; --",
    "1 OR 1=1",
    "{{ 7*7 }}{% raw %}",
    "${jndi:ldap://127.0.0.1/x}",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "甲小区\u202e反向",
]


@pytest.mark.parametrize("text", INERT)
async def test_injection_strings_are_stored_as_plain_text(world: World, text: str) -> None:
    r = await world.post("owner", f"/api/v1/projects/{world.id_of('p1')}/sites", {"name": text, "address": text})
    assert r.status_code == 201, r.text
    got = await world.get("owner", f"/api/v1/sites/{r.json()['id']}")
    assert (got.json()["name"], got.json()["address"]) == (text, text)
    listed = await world.get("owner", f"/api/v1/projects/{world.id_of('p1')}/sites")
    assert listed.status_code == 200


@pytest.mark.parametrize(
    "bad_id",
    ["..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2f", "1%20OR%201=1", "%00", "' OR '1'='1", "x" * 5000],
)
async def test_path_traversal_and_junk_in_ids(world: World, bad_id: str) -> None:
    for url in (
        f"/api/v1/sites/{bad_id}",
        f"/api/v1/projects/{bad_id}",
        f"/api/v1/rectification/orders/{bad_id}",
        f"/api/v1/evidence/{bad_id}",
        f"/api/v1/evidence/{bad_id}/meta",
    ):
        r = await world.get("owner", url)
        assert r.status_code in (400, 404, 422), (url, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_invalid_utf8_in_a_query_and_a_header(world: World) -> None:
    r = await world.client.get(f"/api/v1/projects/{world.id_of('p1')}/sites?q=%ff%fe", headers=world.headers("owner"))
    assert r.status_code in (200, 400), r.text
    r = await world.client.get("/api/v1/projects", headers={"Authorization": b"Bearer \xff\xfe\xfd"})  # type: ignore[dict-item]
    assert r.status_code == 401


async def test_huge_strings_are_refused_naming_the_field(world: World) -> None:
    before = await Site.count()
    for field in ("name", "address"):
        body = {"name": "甲小区", field: "楼" * 300_000}
        r = await world.post("owner", f"/api/v1/projects/{world.id_of('p1')}/sites", body)
        assert _problem(r, 400)["field"] == field
    assert await Site.count() == before


HOSTILE_IDS = ["..%2F..%2Fetc%2Fpasswd", "%00", "' OR '1'='1", "{{7*7}}", "9" * 400, "-1", "%ff%fe"]
# Public pages whose answer to any well-formed path is a verdict: 200 whether or not such a
# document exists, and then it must say it was not issued
VERDICTS = {"/verify/{number}"}


async def test_every_path_parameter_of_every_route_refuses_junk(world: World) -> None:
    """Generated from the OpenAPI document: every route, each path parameter filled with junk,
    called as the project owner with an empty JSON body. A junk id names no record: every answer is
    a 4xx problem, never a success and never a 5xx. The one route whose answer to any number is a
    verdict (the public verification page of a printed report) must say "not issued"."""
    document = (await world.client.get("/schema/openapi.json")).json()
    called = 0
    accepted: list[tuple[str, str, int, str]] = []
    for path, item in document["paths"].items():
        if "{" not in path:
            continue
        for method in item:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for junk in HOSTILE_IDS:
                url = re.sub(r"\{[^}]+\}", junk, path)
                r = await world.client.request(
                    method.upper(),
                    url,
                    headers={**world.headers("owner"), "content-type": "application/json"},
                    content=b"{}",
                )
                called += 1
                if path in VERDICTS and r.status_code == 200:
                    verdict = await world.client.get(url, headers={"accept": "application/json"})
                    if verdict.status_code != 200 or verdict.json()["issued"] is not False:
                        accepted.append((method, url, verdict.status_code, verdict.text[:200]))
                    continue
                if not 400 <= r.status_code < 500:
                    accepted.append((method, url, r.status_code, r.text[:200]))
                elif not r.headers["content-type"].startswith("application/problem+json"):
                    accepted.append((method, url, r.status_code, r.headers["content-type"]))
    assert accepted == [], "\n".join(map(str, accepted))
    assert called > 100
