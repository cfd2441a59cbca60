"""Role × endpoint × own/other project: every cell asserted (200/201/204 allowed, 403 refused
for a member without the right, 404 for what the caller may not know exists)."""

from __future__ import annotations

from typing import Any

import pytest

from inspection.actor import SYSTEM
from inspection.projects.schemas import UserCreate
from tests.factories import PEOPLE, World, credit_code, unique

ROLES = [who for who in PEOPLE if who != "admin"]
MEMBERS = ROLES[:-1]
MANAGERS = {"owner", "supervisor"}


def expect(allowed: set[str], refused: set[str] = frozenset(), ok: int = 200) -> dict[str, int]:  # type: ignore[assignment]
    """Status per role: `ok` for allowed, 403 for refused members, 404 for everyone else."""
    return {r: ok if r in allowed else 403 if r in refused else 404 for r in ROLES}


async def _version(w: World, path: str) -> int:
    r = await w.get("admin", path)
    assert r.status_code == 200, r.text
    return int(r.json()["version"])


# (name, method, path template, body builder, expected per role)
CASES: list[tuple[str, str, str, Any, dict[str, int]]] = [
    ("read project", "GET", "/api/v1/projects/{p1}", None, expect(set(MEMBERS))),
    ("read other project", "GET", "/api/v1/projects/{p2}", None, {**expect(set()), "outsider": 200}),
    (
        "change project",
        "PATCH",
        "/api/v1/projects/{p1}",
        lambda v: {"version": v, "description": unique("说明")},
        expect(MANAGERS, set(MEMBERS)),
    ),
    ("list members", "GET", "/api/v1/projects/{p1}/members", None, expect(set(MEMBERS))),
    (
        "add member",
        "POST",
        "/api/v1/projects/{p1}/members",
        "member",
        expect(MANAGERS, set(MEMBERS), ok=201),
    ),
    ("list sites", "GET", "/api/v1/projects/{p1}/sites", None, expect(set(MEMBERS))),
    (
        "create site",
        "POST",
        "/api/v1/projects/{p1}/sites",
        lambda v: {"name": unique("测试小区")},
        expect(MANAGERS, set(MEMBERS), ok=201),
    ),
    ("read site", "GET", "/api/v1/sites/{site1}", None, expect(set(MEMBERS))),
    (
        "change site",
        "PATCH",
        "/api/v1/sites/{site1}",
        lambda v: {"version": v, "households": 321},
        expect(MANAGERS, set(MEMBERS)),
    ),
    ("list buildings", "GET", "/api/v1/sites/{site1}/buildings", None, expect(set(MEMBERS))),
    (
        "add building",
        "POST",
        "/api/v1/sites/{site1}/buildings",
        lambda v: {"name": unique("楼")},
        expect(MANAGERS, set(MEMBERS), ok=201),
    ),
    ("read building", "GET", "/api/v1/buildings/{building1}", None, expect(set(MEMBERS))),
    ("list work items", "GET", "/api/v1/projects/{p1}/work-items", None, expect(set(MEMBERS))),
    ("read contractor A's work", "GET", "/api/v1/work-items/{work_a}", None, expect(set(MEMBERS) - {"contractor_b"})),
    ("read contractor B's work", "GET", "/api/v1/work-items/{work_b}", None, expect(set(MEMBERS) - {"contractor_a"})),
    (
        "change contractor A's work",
        "PATCH",
        "/api/v1/work-items/{work_a}",
        lambda v: {"version": v, "status": "in_progress"},
        expect(MANAGERS, set(MEMBERS) - {"contractor_b"}),
    ),
    (
        "create work item",
        "POST",
        "/api/v1/projects/{p1}/work-items",
        "work_item",
        expect(MANAGERS, set(MEMBERS), ok=201),
    ),
    (
        "register organisation",
        "POST",
        "/api/v1/organisations",
        "organisation",
        {r: 403 for r in ROLES},
    ),
    ("list organisations", "GET", "/api/v1/organisations", None, {r: 200 for r in ROLES}),
    ("read another user", "GET", "/api/v1/users/{owner_user}", None, {**{r: 404 for r in ROLES}, "owner": 200}),
]


async def _body(w: World, kind: Any, method: str, path: str) -> Any:
    if kind is None:
        return None
    if kind == "member":
        user = await w.services.projects.create_user(
            SYSTEM, UserCreate(username=unique("new"), display_name="新成员", password="test-password-42")
        )
        return {"user_id": str(user.id), "role": "viewer"}
    if kind == "work_item":
        return {
            "site_id": str(w.id_of("site1")),
            "category": "basic",
            "work_type": "stairwell",
            "name": unique("楼道整治"),
            "contractor_id": str(w.orgs["contractor_a"].id),
        }
    if kind == "organisation":
        return {"name": unique("新单位"), "kind": "designer", "credit_code": credit_code()}
    return kind(await _version(w, path) if method == "PATCH" else 0)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
async def test_matrix(world: World, case: tuple[str, str, str, Any, dict[str, int]]) -> None:
    name, method, template, body_kind, expected = case
    ids = {k: str(world.id_of(k)) for k in ["p1", "p2", "site1", "building1", "work_a", "work_b"]}
    ids["owner_user"] = str(world.users["owner"].id)
    path = template.format(**ids)
    got = {}
    for role in ROLES:
        body = await _body(world, body_kind, method, path)
        r = await world.client.request(method, path, headers=world.headers(role), json=body)
        got[role] = r.status_code
        if r.status_code >= 400:
            assert r.headers["content-type"].startswith("application/problem+json"), r.text
    assert got == expected, f"{name}: {got}"


async def test_admin_reaches_everything(world: World) -> None:
    for key in ["p1", "p2"]:
        assert (await world.get("admin", f"/api/v1/projects/{world.id_of(key)}")).status_code == 200
    r = await world.post(
        "admin", "/api/v1/organisations", {"name": "检测中心", "kind": "lab", "credit_code": credit_code("12")}
    )
    assert r.status_code == 201, r.text


async def test_contractor_lists_only_its_own_work(world: World) -> None:
    r = await world.get("contractor_a", f"/api/v1/projects/{world.id_of('p1')}/work-items")
    names = {i["id"] for i in r.json()["items"]}
    assert names == {str(world.id_of("work_a"))}
    r = await world.get("supervisor", f"/api/v1/projects/{world.id_of('p1')}/work-items")
    assert {i["id"] for i in r.json()["items"]} == {str(world.id_of("work_a")), str(world.id_of("work_b"))}


async def test_contractor_sees_only_its_own_colleagues(world: World) -> None:
    r = await world.get("contractor_a", f"/api/v1/projects/{world.id_of('p1')}/members")
    assert [m["user_id"] for m in r.json()["items"]] == [str(world.users["contractor_a"].id)]


async def test_project_list_shows_only_membership(world: World) -> None:
    r = await world.get("outsider", "/api/v1/projects")
    assert [p["id"] for p in r.json()["items"]] == [str(world.id_of("p2"))]
    r = await world.get("contractor_a", "/api/v1/projects")
    assert [p["id"] for p in r.json()["items"]] == [str(world.id_of("p1"))]
    assert r.json()["items"][0]["my_roles"] == ["contractor"]


# Every route a handler marks `opt={"public": True}` (itself or through its router) answers without
# a token. Each is a reviewed decision: a handler marked public but missing here fails the test.
PUBLIC_ROUTES = {
    ("GET", "/health"): "liveness, for the load balancer",
    ("GET", "/ready"): "readiness, for the load balancer",
    ("POST", "/api/v1/auth/login"): "where a token comes from",
    ("POST", "/api/v1/auth/refresh"): "the refresh token in the body stands in for the access token",
    ("GET", "/verify/{number:str}"): "the page a printed report's QR code opens; says only whether a number was issued",
    ("GET", "/"): "sends browsers to the portal",
    ("GET", "/api/v1/credit/lists"): "推荐名录 and 重点关注名单 (吉林市 plan §十一): names, grades and months only",
}
# Whole trees public to the bearer-token guard, each tested on its own terms
PUBLIC_TREES = {
    "/portal": "the web portal signs people in itself (tests/portal: test_pages_need_sign_in, the route sweep)",
    "/schema": "the OpenAPI documentation",
    "/tablet": "the tablet app's static files (HTML, scripts, icons); it signs in through the API (tests/tablet)",
}


def _reviewed(method: str, path: str) -> bool:
    return (method, path) in PUBLIC_ROUTES or any(path == tree or path.startswith(tree + "/") for tree in PUBLIC_TREES)


async def test_every_route_needs_a_token_unless_marked_public(client) -> None:  # type: ignore[no-untyped-def]
    from api.app import create_app

    app = create_app(check_migrations=False)
    public: set[tuple[str, str]] = set()
    checked = 0
    for route in app.routes:
        for handler in route.route_handlers:
            # OPTIONS: Litestar's own answer to CORS preflights, on every path
            for method in sorted(getattr(handler, "http_methods", set()) - {"OPTIONS"}):
                if handler.opt.get("public"):
                    assert _reviewed(method, route.path), (
                        f"{method} {route.path} is marked public: review it and add it to PUBLIC_ROUTES"
                    )
                    public.add((method, route.path))
                    continue
                path = "/".join(
                    "00000000-0000-0000-0000-000000000000" if ":" in part else part
                    for part in route.path.replace("{", "").replace("}", "").split("/")
                )
                r = await client.request(method, path)
                assert r.status_code == 401, (method, route.path, r.status_code)
                assert r.headers["content-type"].startswith("application/problem+json"), (method, route.path)
                checked += 1
    assert checked > 100, "the app's routes were not enumerated"
    assert set(PUBLIC_ROUTES) <= public, f"listed as public but not marked: {set(PUBLIC_ROUTES) - public}"
    for tree in PUBLIC_TREES:
        assert any(p == tree or p.startswith(tree + "/") for _, p in public), f"{tree} is not marked public"
