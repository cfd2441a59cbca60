"""`siteinspect demo`: the seed plans' scale, every role, orders in every state, and loading it a
second time adds nothing."""

from __future__ import annotations

from inspection import db
from inspection.clock import FixedClock
from inspection.demo import BUILDINGS, DEMO_CODE_PREFIX, FLOOR_AREA_M2, HOUSEHOLDS, SITES, load_demo


async def _counts() -> dict[str, int]:
    out = {}
    for table in [
        "organisation",
        "app_user",
        "project",
        "site",
        "building",
        "work_item",
        "membership",
        "rectification_order",
        "order_response",
        "evidence",
        "audit_entry",
    ]:
        out[table] = (await db.raw(f"SELECT COUNT(*) AS n FROM {table}"))[0]["n"]
    return out


async def test_demo_has_the_seed_scale_and_loads_once(clock: FixedClock) -> None:
    assert await load_demo(quiet=True, clock=clock) is True
    first = await _counts()
    # the demo's own projects only: what a test counts is what it made
    demo = "SELECT id FROM project WHERE code LIKE {}"
    prefix = f"{DEMO_CODE_PREFIX}%"
    sites = await db.raw(
        "SELECT COUNT(*) AS n, SUM(households) AS h, SUM(floor_area_m2) AS a, SUM(building_count) AS b"
        f" FROM site WHERE project IN ({demo})",
        prefix,
    )
    buildings = await db.raw(f"SELECT COUNT(*) AS n FROM building WHERE project IN ({demo})", prefix)
    assert sites[0]["n"] == SITES
    assert buildings[0]["n"] == BUILDINGS == sites[0]["b"]
    assert sites[0]["h"] == HOUSEHOLDS
    assert round(float(sites[0]["a"])) == FLOOR_AREA_M2
    roles = {r["role"] for r in await db.raw(f"SELECT DISTINCT role FROM membership WHERE project IN ({demo})", prefix)}
    assert {"owner", "inspector", "supervisor", "contractor", "authority", "resident_supervisor", "viewer"} <= roles

    states = {
        r["status"] for r in await db.raw(f"SELECT status FROM rectification_order WHERE project IN ({demo})", prefix)
    }
    assert {"issued", "responded", "closed", "rejected"} <= states
    stored = await db.raw("SELECT COUNT(*) AS n FROM evidence WHERE status = 'stored'")
    from inspection.demo.rectification import ORDERS

    assert stored[0]["n"] >= len(ORDERS)

    assert await load_demo(quiet=True, clock=clock) is False
    assert await _counts() == first
