"""When the object store is down: uploads answer 503 with Retry-After, announcing and records
that cite the photo still save (pending), and the upload that comes later completes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inspection.actor import Actor
from inspection.evidence import links
from inspection.evidence.store import DiskStore, ObjectStore, S3Store
from inspection.records import new_id, write
from tests.evidence.conftest import BACKENDS, closed_port, jpeg, s3_settings, sha, staging_files
from tests.factories import World

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

URL = "/api/v1/evidence"


def broken_like(store: ObjectStore, tmp_path: Path) -> ObjectStore:
    """The same kind of store, unreachable: S3 on a port nobody listens on; disk under a path
    that runs through a plain file, so nothing can be created there."""
    if isinstance(store, S3Store):
        return S3Store(s3_settings(f"http://127.0.0.1:{closed_port()}", store.bucket).storage, scratch=store.scratch)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("in the way")
    return DiskStore(blocker / "evidence")


async def test_outage_then_recovery(world: World, app, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    evidence = app.state.services.evidence
    working = evidence.store
    evidence.store = broken_like(working, tmp_path)
    # the S3 store's scratch folder is shared with the session's other tests: count only ours
    before = set(staging_files(evidence.store)) | set(staging_files(working))
    photo = jpeg(seed=21)
    p1 = world.id_of("p1")
    inspector = world.users["inspector"]

    async def upload() -> Any:
        return await world.client.put(
            f"{URL}/{sha(photo)}", content=photo, params={"project_id": str(p1)}, headers=world.headers("inspector")
        )

    r = await upload()
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["retry-after"]) > 0
    assert r.json()["type"] == "urn:siteinspect:problem:unavailable"
    assert set(staging_files(evidence.store)) | set(staging_files(working)) <= before

    ready = await world.client.get("/ready")
    assert ready.status_code == 503 and ready.json()["object_store"] != "ok"

    # announcing does not need the store; nor does a record citing the photo
    start = {"sha256": sha(photo), "project_id": str(p1), "content_type": "image/jpeg", "size": len(photo)}
    ticket = await world.post("inspector", f"{URL}/uploads", start)
    assert ticket.status_code == 201 and ticket.json()["evidence"]["status"] == "pending"
    record = new_id()
    actor = Actor(user_id=inspector.id, username=inspector.username, organisation_id=inspector.organisation_id)
    async with write(actor, clock) as w:
        await links.attach(w, [sha(photo)], record_table="inspection_answer", record_id=record, project_id=p1)
    assert [e.status for e in (await links.linked("inspection_answer", [record]))[record]] == ["pending"]

    # the store comes back and the tablet sends the bytes again
    evidence.store = working
    assert (await world.client.get("/ready")).status_code == 200
    r = await upload()
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "stored"
    assert [e.status for e in (await links.linked("inspection_answer", [record]))[record]] == ["stored"]
    await links.require_stored([sha(photo)])
