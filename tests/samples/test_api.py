"""The sampling API over HTTP: the double-retest path end to end, problem JSON naming the field for
every kind of bad input the issue lists (nothing stored), contractor isolation, the views and the
CSV ledger."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from tests.factories import World
from tests.rectification.helpers import announce
from tests.samples.helpers import REBAR_PASS, lab, row_counts

BASE = "/api/v1/samples"


def _problem(r: httpx.Response, status: int, field: str | None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["type"].startswith("urn:siteinspect:problem:") and body["detail"]
    if field is not None:
        assert body["field"] == field, body
    return body


def _batch(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "project_id": str(world.id_of("p1")),
        "material": "rebar",
        "specification": "HRB400E Φ12",
        "manufacturer": "某钢铁集团有限公司",
        "batch_number": "L24-1102",
        "quantity": 45.5,  # ≤ 60 t: two sets (2 tensile + 2 bend specimens, GB 1499.2 §9)
        "unit": "t",
        "arrival_date": "2026-11-02",
        "work_item_id": str(world.id_of("work_a")),
        **overrides,
    }


async def _created(world: World, who: str = "contractor_a", **overrides: Any) -> dict[str, Any]:
    r = await world.post(who, f"{BASE}/batches", _batch(world, **overrides))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _results(values: dict[str, str], sets: int = 1) -> dict[str, Any]:
    return {
        "results": [
            {"test_item": k, "value": float(v), "set_no": n} for n in range(1, sets + 1) for k, v in values.items()
        ]
    }


async def test_fail_retest_fail_reject_dispose_over_http(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    lab_id = str(await lab(world))
    detail = await _created(world)
    batch_id = detail["batch"]["id"]
    assert detail["batch"]["required_sets"] == 2 and detail["plan"]["missing"] == 2
    samples = []
    for witness in ("supervisor", None):
        body = {"lab_id": lab_id, "witness_id": str(world.users[witness].id) if witness else None}
        r = await world.post("contractor_a", f"{BASE}/batches/{batch_id}/samples", body)
        assert r.status_code == 201, r.text
        samples.append(r.json()["sample"])
    r = await world.post("contractor_a", f"{BASE}/samples/{samples[0]['id']}/results", _results(REBAR_PASS))
    assert r.status_code == 200 and r.json()["sample"]["verdict"] == "pass"
    failing = {**REBAR_PASS, "yield_strength": "385"}
    r = await world.post("contractor_a", f"{BASE}/samples/{samples[1]['id']}/results", _results(failing))
    assert r.json()["sample"]["verdict"] == "fail" and r.json()["sample"]["failed_items"] == ["yield_strength"]
    assert r.json()["batch"]["status"] == "sampling"
    plan = (await world.get("supervisor", f"{BASE}/batches/{batch_id}/plan")).json()
    assert plan["retests"][0]["sets_required"] == 2 and plan["retests"][0]["items"] == ["yield_strength"]

    # the retest on the passed sample is refused; on the failed one it is taken
    _problem(
        await world.post("contractor_a", f"{BASE}/samples/{samples[0]['id']}/retest", {"lab_id": lab_id}), 409, None
    )
    r = await world.post("contractor_a", f"{BASE}/samples/{samples[1]['id']}/retest", {"lab_id": lab_id})
    assert r.status_code == 201, r.text
    retest = r.json()["sample"]
    assert retest["sets"] == 2 and retest["test_items"] == ["yield_strength"]
    r = await world.post(
        "inspector", f"{BASE}/samples/{retest['id']}/results", _results({"yield_strength": "398"}, sets=2)
    )
    assert r.status_code == 200, r.text
    batch = r.json()["batch"]
    assert batch["status"] == "rejected" and batch["flagged"] is True and batch["rectification_order_id"]

    # the order reaches the contractor, issued by the inspector
    order = (await world.get("contractor_a", f"/api/v1/rectification/orders/{batch['rectification_order_id']}")).json()
    assert order["order"]["status"] == "issued" and order["order"]["source"] == "failed_sample"
    flagged = (await world.get("supervisor", f"{BASE}/batches", params={"flagged": "true"})).json()
    assert [b["id"] for b in flagged["items"]] == [batch_id]

    photo = await announce(world, clock, "退场照片.jpg", org="contractor_a", stored=True)
    body = {"kind": "destroyed", "witnessed_by_id": str(world.users["owner"].id), "evidence": [photo]}
    r = await world.post("contractor_a", f"{BASE}/batches/{batch_id}/disposition", body)
    assert r.status_code == 201, r.text
    assert r.json()["batch"]["status"] == "disposed" and r.json()["filing"]["status"] == "disposed"
    _problem(await world.post("contractor_a", f"{BASE}/batches/{batch_id}/disposition", body), 409, None)


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"quantity": 0}, 422, "quantity"),
        ({"quantity": -12.5}, 422, "quantity"),
        ({"quantity": "abc"}, 400, "quantity"),
        ({"unit": "kg"}, 422, "unit"),
        ({"material": "marble"}, 422, "material"),
        ({"arrival_date": "2026-13-01"}, 400, "arrival_date"),
        ({"colour": "red"}, 400, "colour"),
        # concrete portions must add up to the batch; a grade must be one the lot rule knows
        (
            {
                "material": "ready_mixed_concrete",
                "unit": "m3",
                "quantity": 80,
                "portions": [{"floor": "3F", "shift": "2026-11-02 白班", "volume": 60}],
            },
            422,
            "portions",
        ),
        ({"material": "ready_mixed_concrete", "unit": "m3", "strength_grade": "C33"}, 422, "strength_grade"),
    ],
)
async def test_bad_batches(world: World, overrides: dict[str, Any], status: int, field: str) -> None:
    before = await row_counts()
    r = await world.post("contractor_a", f"{BASE}/batches", _batch(world, **overrides))
    _problem(r, status, field)
    assert await row_counts() == before


async def test_bad_samples_and_results(world: World) -> None:
    lab_id = str(await lab(world))
    batch_id = (await _created(world))["batch"]["id"]
    before = await row_counts()
    # a witness from the contractor itself
    r = await world.post(
        "contractor_a",
        f"{BASE}/batches/{batch_id}/samples",
        {"lab_id": lab_id, "witness_id": str(world.users["contractor_a"].id)},
    )
    _problem(r, 422, "witness_id")
    # a lab that is not a lab
    r = await world.post(
        "contractor_a", f"{BASE}/batches/{batch_id}/samples", {"lab_id": str(world.orgs["contractor_b"].id)}
    )
    _problem(r, 422, "lab_id")
    # a verdict is never typed in
    r = await world.post("contractor_a", f"{BASE}/batches/{batch_id}/samples", {"lab_id": lab_id, "verdict": "pass"})
    _problem(r, 400, "verdict")
    assert await row_counts() == before

    r = await world.post("contractor_a", f"{BASE}/batches/{batch_id}/samples", {"lab_id": lab_id, "sets": 2})
    sample_id = r.json()["sample"]["id"]
    before = await row_counts()
    # a test item rebar does not have: nothing of the request is stored
    body = {"results": [{"test_item": "bend", "value": 1}, {"test_item": "slump", "value": 180}]}
    _problem(await world.post("contractor_a", f"{BASE}/samples/{sample_id}/results", body), 422, "results[1].test_item")
    assert await row_counts() == before
    # the same result twice
    once = {"results": [{"test_item": "bend", "value": 1}]}
    assert (await world.post("contractor_a", f"{BASE}/samples/{sample_id}/results", once)).status_code == 200
    _problem(await world.post("supervisor", f"{BASE}/samples/{sample_id}/results", once), 409, "results[0].test_item")
    # the other set of the same item is a different result
    twice = {"results": [{"test_item": "bend", "value": 1, "set_no": 2}]}
    assert (await world.post("contractor_a", f"{BASE}/samples/{sample_id}/results", twice)).status_code == 200
    # a retest of a sample whose results are not all in
    _problem(await world.post("contractor_a", f"{BASE}/samples/{sample_id}/retest", {"lab_id": lab_id}), 409, None)
    # someone else's batch
    r = await world.post("contractor_b", f"{BASE}/batches/{batch_id}/samples", {"lab_id": lab_id})
    _problem(r, 404, None)
    r = await world.post("resident", f"{BASE}/batches/{batch_id}/samples", {"lab_id": lab_id})
    _problem(r, 403, None)


async def test_certificates_follow_the_batch(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    cert = await announce(world, clock, "出厂合格证.pdf", stored=True)
    batch = await _created(world, who="supervisor", certificates=[cert])
    assert [c["sha256"] for c in batch["batch"]["certificates"]] == [cert]
    for who, status in [("contractor_a", 200), ("owner", 200), ("contractor_b", 404)]:
        r = await world.get(who, f"/api/v1/evidence/{cert}/meta")
        assert r.status_code == status, (who, r.text)
    more = await announce(world, clock, "检验报告.pdf", org="contractor_a")  # the contractor's own report
    r = await world.post(
        "contractor_a", f"{BASE}/batches/{batch['batch']['id']}/certificates", {"certificates": [more]}
    )
    assert r.status_code == 200 and len(r.json()["batch"]["certificates"]) == 2


async def test_views_and_ledger(world: World) -> None:
    lab_id = str(await lab(world))
    batch_id = (await _created(world, quantity=12))["batch"]["id"]
    await world.post(
        "contractor_a",
        f"{BASE}/batches/{batch_id}/samples",
        # 12 t of rebar: two sets (2 tensile + 2 bend specimens), both witnessed
        {"lab_id": lab_id, "witness_id": str(world.users["supervisor"].id), "label_code": "GJ-2026-001", "sets": 2},
    )
    view = (await world.get("owner", f"{BASE}/witness-ratio", params={"project_id": str(world.id_of("p1"))})).json()
    assert view["materials"][0]["material"] == "rebar" and view["materials"][0]["ratio"] == 1.0
    assert view["shortfalls"] == []
    summary = (await world.get("supervisor", f"{BASE}/summary", params={"project_id": str(world.id_of("p1"))})).json()
    assert summary["batches"] == 1 and summary["by_status"]["sampling"] == 1 and summary["flagged"] == 0
    assert summary["samples_awaiting_result"] == 1 and summary["witness_shortfalls"] == []
    materials = (await world.get("viewer", f"{BASE}/materials")).json()
    assert {m["code"] for m in materials["materials"]} >= {"rebar", "windows", "permeable_brick"}

    r = await world.get(
        "supervisor",
        f"{BASE}/ledger.csv",
        params={"project_id": str(world.id_of("p1")), "arrived_from": "2026-11-01", "arrived_to": "2026-11-30"},
    )
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[1][1] == "热轧带肋钢筋" and rows[1][11] == "GJ-2026-001"
    r = await world.get("outsider", f"{BASE}/ledger.csv", params={"project_id": str(world.id_of("p1"))})
    _problem(r, 404, None)
    r = await world.get("contractor_b", f"{BASE}/batches/{batch_id}")
    _problem(r, 404, None)


async def test_correcting_over_http(world: World) -> None:
    batch = (await _created(world))["batch"]
    url = f"{BASE}/batches/{batch['id']}"
    r = await world.patch("contractor_a", url, {"version": batch["version"], "quantity": 120})
    assert r.status_code == 200, r.text
    # 120 t: 2 sets for the first 60 t, one per further 40 t or part (2 more)
    assert r.json()["batch"]["required_sets"] == 4
    _problem(
        await world.patch("contractor_a", url, {"version": batch["version"], "note": "迟到的修改"}), 409, "version"
    )
    new_material = {"version": r.json()["batch"]["version"], "material": "cement_bulk"}
    _problem(await world.patch("contractor_a", url, new_material), 400, "material")
