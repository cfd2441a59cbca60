"""Shared builders for the sampling tests: a lab, batches, samples with results, and row counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from inspection.projects.rules import OrgKind
from inspection.rectification.tables import RectificationOrder
from inspection.samples import schemas as s
from inspection.samples.service import SamplesService
from inspection.samples.tables import MaterialBatch, MaterialDisposition, MaterialFiling, Sample, SampleResult
from tests.factories import World, make_org
from tests.rectification.helpers import actor_of

# Passing values for every rebar item (HRB400)
REBAR_PASS = {
    "yield_strength": "435",
    "tensile_strength": "585",
    "elongation": "22.5",
    "max_force_elongation": "11.0",
    "bend": "1",
    "weight_deviation": "-2.1",
}


async def lab(world: World) -> UUID:
    """The testing lab (检测机构); made once per world."""
    if "lab" not in world.orgs:
        world.orgs["lab"] = await make_org(world.services, OrgKind.lab, "市建设工程质量检测中心")
    return world.orgs["lab"].id


def svc(world: World) -> SamplesService:
    return world.services.samples  # type: ignore[no-any-return]


def batch_body(world: World, **overrides: Any) -> s.BatchCreate:
    values: dict[str, Any] = {
        "project_id": world.id_of("p1"),
        "material": "rebar",
        "specification": "HRB400E Φ16",
        "manufacturer": "某钢铁集团有限公司",
        "batch_number": "L24-0815",
        "quantity": Decimal("58.6"),
        "unit": "t",
        "arrival_date": date(2026, 11, 2),
        "work_item_id": world.id_of("work_a"),
    }
    values.update(overrides)
    return s.BatchCreate(**values)


async def new_batch(world: World, who: str = "contractor_a", **overrides: Any) -> s.BatchDetail:
    return await svc(world).create_batch(actor_of(world, who), batch_body(world, **overrides))


async def sample_on(
    world: World, batch_id: UUID, who: str = "contractor_a", witness: str | None = "supervisor", **kw: Any
) -> s.SampleDetail:
    body = s.SampleCreate(lab_id=await lab(world), witness_id=world.users[witness].id if witness else None, **kw)
    return await svc(world).take_sample(actor_of(world, who), batch_id, body)


# items with one result per sample whatever its sets (GB 1499.2: the ≥ 5 pieces weighed together)
ONCE = frozenset({"weight_deviation"})


def results(values: dict[str, str], sets: int = 1, **override: str) -> s.ResultsBody:
    merged = {**values, **override}
    return s.ResultsBody(
        results=[
            s.ResultIn(test_item=code, value=Decimal(v), set_no=n)
            for n in range(1, sets + 1)
            for code, v in merged.items()
            if n == 1 or code not in ONCE
        ]
    )


async def row_counts() -> dict[str, int]:
    return {
        "batches": await MaterialBatch.count(),
        "samples": await Sample.count(),
        "results": await SampleResult.count(),
        "dispositions": await MaterialDisposition.count(),
        "filings": await MaterialFiling.count(),
        "orders": await RectificationOrder.count(),
    }
