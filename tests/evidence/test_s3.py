"""The S3 backend's direct uploads: presigned PUTs are checked by the server's own hash, and an
unreachable store answers 503 while records citing photos still save."""

from __future__ import annotations

import httpx
import pytest

from inspection.evidence.rules import object_key
from inspection.evidence.tables import Evidence
from tests.evidence.conftest import jpeg, sha
from tests.factories import World

pytestmark = pytest.mark.parametrize("backend", ["s3"], indirect=True)

URL = "/api/v1/evidence"


async def test_wrong_bytes_under_a_valid_presigned_url_are_refused(world: World, photo: bytes, store) -> None:  # type: ignore[no-untyped-def]
    start = {
        "sha256": sha(photo),
        "project_id": str(world.id_of("p1")),
        "content_type": "image/jpeg",
        "size": len(photo),
    }
    target = (await world.post("inspector", f"{URL}/uploads", start)).json()["upload"]
    forged = jpeg(seed=99)[: len(photo)].ljust(len(photo), b"\0")
    async with httpx.AsyncClient() as outside:
        sent = await outside.put(target["url"], content=forged, headers=target["headers"])
    assert sent.status_code == 200, "moto does not check the signed checksum; the server must"
    r = await world.post("inspector", f"{URL}/{sha(photo)}/complete")
    assert r.status_code == 422 and r.json()["field"] == "sha256"
    assert await store.exists(object_key(sha(photo))) is False, "the wrong bytes were deleted"
    assert (await Evidence.select(Evidence.status).first())["status"] == "pending"
    # the right bytes can still follow
    async with httpx.AsyncClient() as outside:
        await outside.put(target["url"], content=photo, headers=target["headers"])
    assert (await world.post("inspector", f"{URL}/{sha(photo)}/complete")).json()["status"] == "stored"
