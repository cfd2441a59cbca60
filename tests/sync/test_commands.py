"""Tablet commands, driven from their registry (inspection/sync/commands): every command reveals
nothing to someone outside the project (the same answer as for a record that does not exist),
and every command refuses every argument its REST schema refuses, leaving every read whole.
A command added to the registry without an example here fails `test_every_command_has_an_example`."""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest

from inspection.records import new_id
from inspection.rectification.rules import OrderState
from inspection.rectification.service import RectificationService
from inspection.sync.commands import COMMANDS
from tests.checklists.conftest import templates  # noqa: F401 - the fixture
from tests.checklists.helpers import ROOF, draft
from tests.factories import PEOPLE, World
from tests.rectification.helpers import order_in
from tests.samples.helpers import lab, new_batch, sample_on

pytestmark = pytest.mark.usefixtures("templates")

DEVICE = "test-device"  # the device every session of the world signed in on
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Example:
    """A command as someone who may make it would push it, and the same command aimed at
    records that do not exist."""

    who: str
    entity: str
    args: dict[str, Any]
    missing_entity: str
    missing_args: dict[str, Any]


def fresh() -> str:
    return str(new_id())


async def examples(world: World, clock: Any) -> dict[str, Example]:
    p1, site, building, work_a = (str(world.id_of(k)) for k in ("p1", "site1", "building1", "work_a"))
    inspection = (await draft(world, template_code=ROOF))["inspection"]["id"]
    order = str(await order_in(RectificationService(world.services.settings, clock), world, clock, OrderState.issued))
    batch = (await new_batch(world)).batch.id
    sample = str((await sample_on(world, batch)).sample.id)
    lab_id = str(await lab(world))
    nowhere = fresh()

    def on(who: str, entity: str, args: dict[str, Any]) -> Example:
        return Example(who, entity, args, fresh(), args)

    def new(who: str, args: dict[str, Any], key: str) -> Example:
        return Example(who, fresh(), args, fresh(), {**args, key: nowhere})

    return {
        "site.update@1": on("owner", site, {"set": {"households": 400}}),
        "building.update@1": on("owner", building, {"set": {"floors": 7}}),
        "work_item.update@1": on("owner", work_a, {"set": {"status": "in_progress"}}),
        "inspection.create@1": new(
            "inspector", {"project_id": p1, "work_item_id": work_a, "template_code": ROOF}, "project_id"
        ),
        "answer.set@1": on("inspector", inspection, {"item_code": "M1", "set": {"value": "pass"}}),
        "inspection.submit@1": on("inspector", inspection, {"signature_sha256": "a" * 64}),
        "order.create@1": new(
            "inspector",
            {"project_id": p1, "work_item_id": work_a, "kind": "quality", "description": "卷材搭接不足"},
            "project_id",
        ),
        "order.issue@1": on("inspector", order, {"reason": "按期整改"}),
        "order.respond@1": on("contractor_a", order, {"text": "已返工"}),
        "order.accept@1": on("inspector", order, {"note": "复查合格"}),
        "order.reject@1": on("inspector", order, {"reason": "照片不清", "deadline": "2099-01-01T00:00:00+08:00"}),
        "order.cancel@1": on("inspector", order, {"reason": "开错了"}),
        "order.resume@1": on("inspector", order, {"note": "复工"}),
        "batch.create@1": new(
            "contractor_a",
            {
                "project_id": p1,
                "material": "rebar",
                "quantity": "45.2",
                "unit": "t",
                "arrival_date": "2026-11-03",
                "work_item_id": work_a,
            },
            "project_id",
        ),
        "sample.record@1": new("contractor_a", {"batch_id": str(batch), "lab_id": lab_id}, "batch_id"),
        "sample.results@1": on("contractor_a", sample, {"results": [{"test_item": "bend", "value": 1}]}),
        "sample.retest@1": new("contractor_a", {"retest_of": sample, "lab_id": lab_id}, "retest_of"),
    }


class Pusher:
    """Pushes mutations as the world's people, numbering each person's device sequence."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.seqs: dict[str, int] = {}

    async def push(self, who: str, mutations: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for start in range(0, len(mutations), 200):
            body = []
            for name, entity, args in mutations[start : start + 200]:
                self.seqs[who] = self.seqs.get(who, 0) + 1
                body.append(
                    {"seq": self.seqs[who], "id": str(uuid.uuid4()), "name": name, "entity_id": entity, "args": args}
                )
            r = await self.world.post(
                who, "/api/v1/sync/push", {"device_id": DEVICE, "schema_version": 1, "mutations": body}
            )
            assert r.status_code == 200, r.text
            results += r.json()["results"]
        return results


def test_every_command_has_an_example() -> None:
    import asyncio
    import inspect

    source = inspect.getsource(examples)
    missing = [name for name in COMMANDS if f'"{name}"' not in source]
    assert not missing, f"add an example for {missing} to examples() in this file"
    assert asyncio.iscoroutinefunction(examples)


def _blind(result: dict[str, Any]) -> dict[str, Any]:
    """A stored outcome without what differs between any two pushes (sequence, mutation id) and
    with every id in its text made anonymous."""
    kept = {k: v for k, v in result.items() if k not in ("seq", "id")}
    return {k: UUID_TEXT.sub("<id>", v) if isinstance(v, str) else v for k, v in kept.items()}


async def test_outsiders_learn_nothing_they_would_not_learn_of_a_missing_record(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    """For every command: pushed by a member of another project at this project's record, the
    outcome equals that for a record that does not exist — no state, no version, no noop."""
    pusher = Pusher(world)
    for name, ex in (await examples(world, clock)).items():
        real, missing = await pusher.push(
            "outsider", [(name, ex.entity, ex.args), (name, ex.missing_entity, ex.missing_args)]
        )
        assert real["status"] == "rejected", (name, real)
        assert _blind(real) == _blind(missing), name


async def test_another_contractor_cannot_learn_of_an_order_or_a_draft(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    pusher = Pusher(world)
    found = await examples(world, clock)
    for name in [n for n in COMMANDS if n.startswith("order.") and n != "order.create@1"] + [
        "answer.set@1",
        "inspection.submit@1",
    ]:
        ex = found[name]
        real, missing = await pusher.push(
            "contractor_b", [(name, ex.entity, ex.args), (name, ex.missing_entity, ex.missing_args)]
        )
        assert (real["status"], real["code"]) == ("rejected", "not-found"), (name, real)
        assert _blind(real) == _blind(missing), name


# What the REST schemas refuse, generated from them (msgspec's own view of each type)


def _members(t: mi.Type) -> list[mi.Type]:
    if isinstance(t, mi.UnionType):
        return [m for u in t.types for m in _members(u)]
    if isinstance(t, (mi.NoneType, mi.AnyType)):
        return []
    return [t]


def _bounded(t: mi.Type) -> bool:
    low = getattr(t, "ge", None) is not None or getattr(t, "gt", None) is not None
    high = getattr(t, "le", None) is not None or getattr(t, "lt", None) is not None
    return low and high


def _bad_values(t: mi.Type) -> Iterator[tuple[str, Any]]:
    if isinstance(t, (mi.EnumType, mi.LiteralType)):
        yield "not one of its values", "lots"
    elif isinstance(t, mi.IntType):
        yield "a string", "lots"
        yield "a fraction", 1.5
        yield "beyond 64 bits", 2**80
    elif isinstance(t, mi.FloatType):
        yield "a word", "lots"
        yield "a string NaN", "NaN"
        yield "the string Infinity", "Infinity"
        yield "true", True
    elif isinstance(t, mi.DecimalType):
        # decoded from text or a number; msgspec cannot bound a decimal, so its service does
        yield "a word", "lots"
        yield "NaN", "NaN"
        yield "Infinity", "-Infinity"
        yield "true", True
        yield "beyond any real value", "1e30"
    elif isinstance(t, mi.StrType):
        yield "a number", 123
        yield "an object", {"a": 1}
        if t.max_length is not None:
            yield "too long", "字" * (t.max_length + 1)
        if t.min_length:
            yield "too short", ""
    elif isinstance(t, (mi.DateTimeType, mi.DateType, mi.UUIDType)):
        yield "a number", 123
        yield "malformed", "2026-13-40T99:99"
    elif isinstance(t, mi.BoolType):
        yield "a string", "yes"
    elif isinstance(t, mi.ListType):
        yield "an object", {"a": 1}
        if t.min_length:
            yield "empty", []
    elif isinstance(t, mi.StructType):
        yield "a list", [1]
        yield "an unknown field", {"no_such_field": 1}
    if isinstance(t, (mi.IntType, mi.FloatType, mi.DecimalType)):
        for bound, step in (("ge", -1), ("gt", 0), ("le", 1), ("lt", 0)):
            edge = getattr(t, bound, None)
            if edge is not None:
                yield f"past {bound} {edge}", edge + step


def negations(valid: dict[str, Any], shape: type[msgspec.Struct]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Copies of `valid` with one value made wrong as the REST schema `shape` defines it: every
    field at every depth (present in `valid` or not), every way its type can be wrong."""

    def walk(t: mi.Type, path: list[Any]) -> Iterator[tuple[str, list[Any], Any]]:
        for member in _members(t):
            for why, bad in _bad_values(member):
                yield why, path, bad
            if isinstance(member, mi.StructType):
                for f in member.fields:
                    yield from walk(f.type, [*path, f.encode_name])
            if isinstance(member, mi.ListType):
                yield from walk(member.item_type, [*path, 0])

    for why, path, bad in walk(mi.type_info(shape), []):
        if not path:
            continue
        args = copy.deepcopy(valid)
        parent: Any = args
        for step in path[:-1]:
            if isinstance(step, int):
                if not isinstance(parent, list) or not parent:
                    break
                parent = parent[0]
            else:
                parent = parent.setdefault(step, {})
        else:
            if isinstance(path[-1], int):
                if not isinstance(parent, list) or not parent:
                    continue
                parent[0] = bad
            else:
                parent[path[-1]] = bad
            yield f"{'.'.join(map(str, path))} {why}", args


def test_every_bound_is_set() -> None:
    """Nothing a tablet sends is unbounded: every text has a maximum length, every int and float a
    range and every list a maximum size in its REST schema, so no value can overflow a column,
    a page or a render. (Decimals cannot carry a range in msgspec: their services check it, and
    the negation test below sends each one a value beyond any real one.)"""
    unbounded = []

    def walk(t: mi.Type, where: str) -> None:
        for member in _members(t):
            if isinstance(member, mi.StrType) and member.max_length is None:
                unbounded.append(where)
            if isinstance(member, (mi.IntType, mi.FloatType)) and not _bounded(member):
                unbounded.append(where)
            if isinstance(member, mi.ListType):
                if member.max_length is None:
                    unbounded.append(where)
                walk(member.item_type, f"{where}[]")
            if isinstance(member, mi.StructType):
                for f in member.fields:
                    walk(f.type, f"{where}.{f.encode_name}")

    for name, command in COMMANDS.items():
        walk(mi.type_info(command.args), name)
    assert not unbounded, unbounded


async def _reads(world: World) -> dict[tuple[str, str], tuple[int, Any]]:
    """Every read of project P1 as every person of the world: status, and the body for JSON."""
    p1, site, building = (world.id_of(k) for k in ("p1", "site1", "building1"))
    urls = [
        f"/api/v1/projects/{p1}",
        f"/api/v1/projects/{p1}/sites",
        f"/api/v1/sites/{site}",
        f"/api/v1/sites/{site}/buildings",
        f"/api/v1/buildings/{building}",
        f"/api/v1/projects/{p1}/work-items",
        f"/api/v1/inspections/?project_id={p1}",
        f"/api/v1/rectification/orders?project_id={p1}",
        f"/api/v1/samples/batches?project_id={p1}",
        f"/portal/notice/{site}",
    ]
    seen: dict[tuple[str, str], tuple[int, Any]] = {}
    for who in PEOPLE:
        for url in urls:
            r = await world.get(who, url)
            body = r.json() if "json" in r.headers.get("content-type", "") else None
            if isinstance(body, dict):
                body.pop("request_id", None)
            seen[(who, url)] = (r.status_code, body)
        r = await world.post(who, "/api/v1/sync/pull", {"device_id": DEVICE, "schema_version": 1, "limit": 5000})
        body = r.json()
        seen[(who, "pull")] = (r.status_code, body.get("changes"))
    return seen


async def test_arguments_the_rest_api_refuses_are_refused_and_every_read_stays_whole(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    found = await examples(world, clock)
    before = await _reads(world)
    pusher = Pusher(world)
    for name, command in COMMANDS.items():
        ex = found[name]
        cases = list(negations(ex.args, command.args))
        assert cases, name
        results = await pusher.push(ex.who, [(name, ex.entity, args) for _, args in cases])
        for (why, args), result in zip(cases, results, strict=True):
            assert result["status"] == "rejected", (name, why, args, result)
            # refused as invalid, naming the argument (at decoding, or a decimal's range in its service)
            assert result["type"] == "urn:siteinspect:problem:validation", (name, why, result)
            leaf = why.split(" ", 1)[0].split(".")[-1]
            assert result["field"].startswith("args") or leaf in result["field"], (name, why, result)
    after = await _reads(world)
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    assert all(status < 500 for status, _ in after.values())
    assert after == before, "no refused command changed anything a reader sees"
    weekly = await world.get("owner", f"/api/v1/reports/projects/{world.id_of('p1')}/weekly.pdf")
    assert weekly.status_code == 200


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"households": "lots"}, "args.set.households"),
        ({"households": 2**80}, "args.set.households"),
        ({"households": -5}, "args.set.households"),
        ({"year_built": {"a": 1}}, "args.set.year_built"),
        ({"floor_area_m2": "NaN"}, "args.set.floor_area_m2"),
        ({"name": 123}, "args.set.name"),
        ({"name": "长" * 20_000}, "args.set.name"),
    ],
)
async def test_the_site_edits_of_the_finding_are_refused(world: World, changes: dict[str, Any], field: str) -> None:
    """Issue 23, finding 1: each of these was applied (or answered 500) and broke the project's reads."""
    site = world.id_of("site1")
    [result] = await Pusher(world).push("owner", [("site.update@1", str(site), {"set": changes})])
    assert (result["status"], result["field"]) == ("rejected", field), result
    assert result["type"] == "urn:siteinspect:problem:validation"
    got = await world.get("owner", f"/api/v1/sites/{site}")
    assert got.status_code == 200 and got.json()["households"] == 320
    fixed = await world.patch("owner", f"/api/v1/sites/{site}", {"version": got.json()["version"], "households": 321})
    assert fixed.status_code == 200, fixed.text


@pytest.mark.sqlite_only  # only SQLite stores text in an integer column; PostgreSQL refuses it itself
async def test_reads_survive_a_value_that_got_past_every_check(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Were a bad value ever stored (by hand, or before a check existed), reading code shows it
    empty and logs it instead of failing every read of the project."""
    from inspection import db

    site = world.id_of("site1")
    await db.raw("UPDATE site SET households = {} WHERE id = {}", "lots", site)
    reads = await _reads(world)
    assert all(status < 500 for status, _ in reads.values()), {k: v[0] for k, v in reads.items() if v[0] >= 500}
    got = await world.get("owner", f"/api/v1/sites/{site}")
    assert got.status_code == 200 and got.json()["households"] == 0
    assert any("lots" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    fixed = await world.patch("owner", f"/api/v1/sites/{site}", {"version": got.json()["version"], "households": 320})
    assert fixed.status_code == 200, fixed.text
    await db.raw("UPDATE site SET households = {} WHERE id = {}", "lots", site)
    weekly = await world.get("owner", f"/api/v1/reports/projects/{world.id_of('p1')}/weekly.pdf")
    assert weekly.status_code == 200
