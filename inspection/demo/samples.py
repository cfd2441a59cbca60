"""Demo material batches for the first demo project: deliveries of several materials, samples
witnessed and not, results that pass, a membrane that fails and passes its double retest, and a
coating whose retest fails too (rejected, an order issued, flagged until it leaves the site).
Everything goes through the service, as a user would. Loading twice adds nothing."""

from __future__ import annotations

import sys
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.clock import Clock, SystemClock
from inspection.messages import t
from inspection.projects.tables import Organisation, Project, User, WorkItem
from inspection.samples import schemas as s
from inspection.samples.rulebook import default_rulebook
from inspection.samples.service import SamplesService
from inspection.samples.tables import MaterialBatch
from inspection.settings import get_settings

DEMO_PROJECT_CODE = "DEMO-2026-01"


async def _actor(username: str) -> Actor:
    row = await (
        User.select(User.id, User.username, User.organisation, User.organisation.kind.as_alias("kind"))
        .where(User.username == username)
        .first()
    )
    assert row is not None, username
    return Actor(
        user_id=row["id"], username=row["username"], organisation_id=row["organisation"], organisation_kind=row["kind"]
    )


def _passing(material: str) -> dict[str, Decimal]:
    """A value inside every limit of the material's items (the middle, or just past a one-sided limit)."""
    out = {}
    for item in default_rulebook().materials[material].items:
        if item.unit == "conform":
            out[item.code] = Decimal(1)
        elif item.min is not None and item.max is not None:
            out[item.code] = (item.min + item.max) / 2
        elif item.min is not None:
            out[item.code] = item.min * Decimal("1.12") if item.min > 0 else item.min + 1
        else:
            assert item.max is not None
            out[item.code] = item.max * Decimal("0.85")
    return out


def _results(values: dict[str, Decimal], sets: int = 1, **override: Decimal) -> s.ResultsBody:
    merged = {**values, **override}
    return s.ResultsBody(
        results=[
            s.ResultIn(test_item=code, value=v.quantize(Decimal("0.001")), set_no=n)
            for n in range(1, sets + 1)
            for code, v in merged.items()
        ]
    )


async def load_demo(quiet: bool = False, clock: Clock | None = None) -> bool:
    """Add the demo batches to the first demo project as of `clock` (default: the wall clock);
    False when it has them already (or is missing)."""
    project = await Project.select(Project.id).where(Project.code == DEMO_PROJECT_CODE).first()
    if project is None or await MaterialBatch.exists().where(MaterialBatch.project == project["id"]):
        return False
    pid: UUID = project["id"]
    lab = (
        await Organisation.select(Organisation.id)
        .where(Organisation.kind == "lab")
        .order_by(Organisation.name, Organisation.id)
        .first()
    )
    if lab is None:
        return False
    clock = clock or SystemClock()
    service = SamplesService(get_settings(), clock)
    supervisor, owner = await _actor("supervisor1"), await _actor("owner1")
    takers = {"contractor1": await _actor("contractor1"), "contractor2": await _actor("contractor2")}
    # "the" work item of a type is the first by site and building name
    items = (
        await WorkItem.select(WorkItem.id, WorkItem.work_type, WorkItem.contractor, WorkItem.site)
        .where(WorkItem.project == pid)
        .order_by(WorkItem.site.name, WorkItem.building.name, WorkItem.id)
    )

    def work(work_type: str) -> dict[str, Any]:
        return next(i for i in items if i["work_type"] == work_type)

    def taker(item: dict[str, Any]) -> Actor:
        return next(a for a in takers.values() if a.organisation_id == item["contractor"])

    now = clock.now()
    today = service.clock.today()  # the day the service checks arrivals against
    lab_id: UUID = lab["id"]
    counter = iter(range(1, 1000))

    async def batch(material: str, quantity: str, unit: str, work_type: str, days_ago: int, **kw: Any) -> s.BatchDetail:
        item = work(work_type)
        return await service.create_batch(
            supervisor,
            s.BatchCreate(
                project_id=pid,
                material=material,
                quantity=Decimal(quantity),
                unit=unit,
                work_item_id=item["id"],
                arrival_date=today - timedelta(days=days_ago),
                batch_number=f"{today:%y%m}-{next(counter):03d}",
                **kw,
            ),
        )

    async def sample(detail: s.BatchDetail, work_type: str, days_ago: int, sets: int, witness: Actor | None) -> UUID:
        out = await service.take_sample(
            supervisor,
            detail.batch.id,
            s.SampleCreate(
                lab_id=lab_id,
                sets=sets,
                taken_at=now - timedelta(days=days_ago),
                taken_by_id=taker(work(work_type)).user_id,
                witness_id=witness.user_id if witness else None,
            ),
        )
        return out.sample.id

    # rebar for the stairwell works: witnessed, passed
    rebar = await batch(
        "rebar", "58.6", "t", "stairwell", 30, specification="HRB400E Φ12", manufacturer="某钢铁集团有限公司"
    )
    sid = await sample(rebar, "stairwell", 29, 1, supervisor)
    await service.record_results(supervisor, sid, _results(_passing("rebar")))
    # cement: two sets (bagged 260 t), one witnessed, both passed
    cement = await batch(
        "cement_bagged", "260", "t", "road_paving", 25, specification="P·O 42.5", manufacturer="某水泥有限公司"
    )
    for i, witness in enumerate([owner, None]):
        sid = await sample(cement, "road_paving", 24 - i, 1, witness)
        await service.record_results(supervisor, sid, _results(_passing("cement_bagged")))
    # ready-mixed concrete: 4 sets due, 2 taken (1 witnessed), results outstanding
    concrete = await batch("ready_mixed_concrete", "320", "m3", "ev_charging", 10, specification="C30")
    await sample(concrete, "ev_charging", 9, 1, supervisor)
    await sample(concrete, "ev_charging", 8, 1, None)
    # roof membrane: fails its tensile force, passes the double retest → accepted
    membrane = await batch("roof_membrane", "4200", "m2", "roof_waterproofing", 21, specification="SBS I PY 3mm")
    sid = await sample(membrane, "roof_waterproofing", 20, 1, supervisor)
    await service.record_results(supervisor, sid, _results(_passing("roof_membrane"), tensile_force=Decimal(470)))
    retest = await service.take_retest(
        supervisor,
        sid,
        s.RetestCreate(lab_id=lab_id, taken_at=now - timedelta(days=12), witness_id=supervisor.user_id),
    )
    await service.record_results(supervisor, retest.sample.id, _results({"tensile_force": Decimal(560)}, sets=2))
    # waterproof coating: fails impermeability, the retest fails too → rejected, order issued
    coating = await batch("waterproof_coating", "3.2", "t", "roof_waterproofing", 18, specification="单组分聚氨酯 I 型")
    sid = await sample(coating, "roof_waterproofing", 17, 1, owner)
    await service.record_results(supervisor, sid, _results(_passing("waterproof_coating"), impermeability=Decimal(0)))
    retest = await service.take_retest(
        supervisor, sid, s.RetestCreate(lab_id=lab_id, taken_at=now - timedelta(days=6), witness_id=owner.user_id)
    )
    await service.record_results(supervisor, retest.sample.id, _results({"impermeability": Decimal(0)}, sets=2))
    # insulation boards: 3 sets due, 1 taken unwitnessed (a witness shortfall to show)
    board = await batch(
        "wall_insulation_board", "12000", "m2", "external_wall_insulation", 8, specification="EPS 033 B1"
    )
    await sample(board, "external_wall_insulation", 7, 1, None)
    # windows and drainage pipe just delivered
    await batch("windows", "180", "unit", "stairwell", 2, specification="断桥铝合金窗")
    await batch("drainage_pipe", "2400", "m", "drainage", 1, specification="PVC-U dn110")
    if not quiet:
        count = await MaterialBatch.count().where(MaterialBatch.project == pid)
        sys.stderr.write(t("cli.demo_batches", count=count).render() + "\n")
    return True
