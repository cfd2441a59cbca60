"""Knowing a photo's SHA-256 is worth nothing (issue 23, findings 3 and 4). Contractor B, who may
not read contractor A's reply photo, cannot cite its hash to get at it, and announcing that hash
answers exactly as for bytes nobody has sent: a pending filing of B's own, with nothing of A's
(organisation, file name, size, capture time, position), not even that it exists. B reads the
photo only after sending the bytes themselves. On both store backends; on S3 the confirmation
reads B's own upload, never the object A stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from inspection.reports.loaders.base import Photos
from tests.evidence.conftest import BACKENDS, camera_exif, jpeg, sha
from tests.factories import World
from tests.rectification.helpers import actor_of

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

URL = "/api/v1/evidence"
ORDERS = "/api/v1/rectification/orders"


async def _put(world: World, who: str, data: bytes, **params: Any) -> httpx.Response:
    return await world.client.put(
        f"{URL}/{sha(data)}",
        content=data,
        params={k: str(v) for k, v in params.items()},
        headers={**world.headers(who), "content-type": "application/octet-stream"},
    )


async def _order_to(world: World, work: str) -> str:
    body = {
        "project_id": str(world.id_of("p1")),
        "work_item_id": str(world.id_of(work)),
        "kind": "quality",
        "severity": "general",
        "description": "排水管坡度不足",
        "issue": True,
    }
    r = await world.post("inspector", f"{ORDERS}", body)
    assert r.status_code == 201, r.text
    return r.json()["order"]["id"]  # type: ignore[no-any-return]


async def _announce(
    world: World, who: str, digest: str, project: str = "p1", name: str = "IMG_1.JPG"
) -> httpx.Response:
    return await world.post(
        who,
        f"{URL}/uploads",
        {
            "sha256": digest,
            "project_id": str(world.id_of(project)),
            "content_type": "image/jpeg",
            "size": 1000,
            "original_name": name,
        },
    )


@pytest.fixture
async def a_reply_photo(world: World, backend: str) -> bytes:
    """Contractor A's reply photo, with GPS and capture time, cited by A's reply to A's order."""
    photo = jpeg(640, 480, exif=camera_exif(), seed=11)
    r = await _put(world, "contractor_a", photo, project_id=world.id_of("p1"), name="A公司整改后.jpg")
    assert r.status_code == 200, r.text
    order = await _order_to(world, "work_a")
    r = await world.post("contractor_a", f"{ORDERS}/{order}/respond", {"text": "已整改", "photos": [sha(photo)]})
    assert r.status_code == 200, r.text
    return photo


async def test_citing_a_hash_one_may_not_read_is_refused_as_if_unknown(world: World, a_reply_photo: bytes) -> None:
    digest = sha(a_reply_photo)
    assert (await world.get("contractor_b", f"{URL}/{digest}")).status_code == 404
    order_b = await _order_to(world, "work_b")
    r = await world.post("contractor_b", f"{ORDERS}/{order_b}/respond", {"text": "已整改", "photos": [digest]})
    unknown = "9" * 64
    never = await world.post("contractor_b", f"{ORDERS}/{order_b}/respond", {"text": "已整改", "photos": [unknown]})
    assert r.status_code == never.status_code == 422, r.text
    assert r.json()["field"] == never.json()["field"] == "photos"
    assert r.json()["detail"].replace(digest[:12], "") == never.json()["detail"].replace(unknown[:12], "")
    # nothing was written, and the photo is still out of reach
    order = (await world.get("contractor_b", f"{ORDERS}/{order_b}")).json()
    assert order["order"]["status"] == "issued" and not order["responses"]
    assert (await world.get("contractor_b", f"{URL}/{digest}")).status_code == 404
    assert (await world.get("contractor_b", f"{URL}/{digest}/meta")).status_code == 404


async def test_announcing_someone_elses_hash_answers_as_for_new_bytes(
    world: World, a_reply_photo: bytes, backend: str
) -> None:
    digest = sha(a_reply_photo)
    fresh = sha(b"bytes nobody has sent")
    theirs = await _announce(world, "contractor_b", digest, name="B.jpg")
    new = await _announce(world, "contractor_b", fresh, name="B.jpg")
    assert theirs.status_code == new.status_code == 201, theirs.text
    t, n = theirs.json(), new.json()
    # the same shape, field for field, apart from the hash and the filing's own id
    assert set(t) == set(n) and set(t["evidence"]) == set(n["evidence"])
    for key, value in n["evidence"].items():
        if key not in ("id", "sha256", "version", "updated_at"):
            assert t["evidence"][key] == value, key
    ev = t["evidence"]
    assert ev["status"] == "pending" and ev["organisation_id"] == str(world.orgs["contractor_b"].id)
    assert ev["original_name"] == "B.jpg" and ev["size_bytes"] is None and ev["gps_lat"] is None
    assert ev["captured_at"] is None and ev["width"] is None and ev["url"] == "" and ev["thumbnails"] == {}
    assert t["upload"]["via"] == n["upload"]["via"] and t["complete_url"].endswith("/complete")
    assert "A公司" not in theirs.text
    # B's own filing is what B sees; the bytes stay A's until B sends them
    meta = (await world.get("contractor_b", f"{URL}/{digest}/meta")).json()
    assert meta["id"] == ev["id"] and meta["original_name"] == "B.jpg"
    assert (await world.get("contractor_b", f"{URL}/{digest}")).status_code == 409
    complete = await world.post("contractor_b", f"{URL}/{digest}/complete")
    assert complete.status_code == 409, complete.text  # A's stored object is not B's upload
    # A's photo is untouched, and A still reads it as A's
    mine = (await world.get("contractor_a", f"{URL}/{digest}/meta")).json()
    assert mine["original_name"] == "A公司整改后.jpg" and mine["status"] == "stored" and mine["gps_lat"] is not None


async def test_another_project_learns_nothing_either(world: World, a_reply_photo: bytes) -> None:
    r = await _announce(world, "outsider", sha(a_reply_photo), project="p2")
    assert r.status_code == 201, r.text
    ev = r.json()["evidence"]
    assert ev["project_id"] == str(world.id_of("p2")) and ev["status"] == "pending"
    assert "another project" not in r.text and "A公司" not in r.text
    put = await world.client.put(  # other bytes under the hash: refused, nothing learnt
        f"{URL}/{sha(a_reply_photo)}",
        content=b"not the photo",
        params={"project_id": str(world.id_of("p2"))},
        headers={**world.headers("outsider"), "content-type": "application/octet-stream"},
    )
    assert put.status_code == 422 and put.json()["field"] == "sha256"
    assert (await world.get("outsider", f"{URL}/{sha(a_reply_photo)}")).status_code == 409


async def test_citing_ones_own_announcement_opens_nothing_until_the_bytes_come(
    world: World, a_reply_photo: bytes, backend: str
) -> None:
    digest = sha(a_reply_photo)
    assert (await _announce(world, "contractor_b", digest)).status_code == 201
    order_b = await _order_to(world, "work_b")
    r = await world.post("contractor_b", f"{ORDERS}/{order_b}/respond", {"text": "已整改", "photos": [digest]})
    assert r.status_code == 200, r.text
    (photo,) = r.json()["responses"][0]["photos"]
    assert photo["status"] == "pending"
    assert (await world.get("contractor_b", f"{URL}/{digest}")).status_code == 409
    # a report of B's own reply prints a placeholder, not A's thumbnail
    photos = Photos(actor_of(world, "contractor_b"))
    await photos.load([digest])
    assert photos.show(digest)["ref"] == "" and photos.show(digest)["pending"]
    # the office, which reads every photo of its project, sees the reply's photo pending too
    office = (await world.get("supervisor", f"{ORDERS}/{order_b}")).json()
    assert office["responses"][0]["photos"][0]["status"] == "pending"

    # B sends the bytes themselves (the proof): now B reads them
    r = await _put(world, "contractor_b", a_reply_photo, project_id=world.id_of("p1"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "stored" and r.json()["organisation_id"] == str(world.orgs["contractor_b"].id)
    got = await world.get("contractor_b", f"{URL}/{digest}")
    assert got.status_code in (200, 302)


async def test_an_office_upload_does_not_complete_a_contractors_pending_claim(world: World, backend: str) -> None:
    """Contractor B announces a hash before its owner uploads it (a hash learnt early). The
    inspector then uploads those bytes: that stores the inspector's filing, never B's."""
    photo = jpeg(320, 240, seed=12)
    digest = sha(photo)
    assert (await _announce(world, "contractor_b", digest)).status_code == 201
    r = await _put(world, "inspector", photo, project_id=world.id_of("p1"))
    assert r.status_code == 200 and r.json()["organisation_id"] == str(world.orgs["supervisor"].id)
    assert (await world.get("contractor_b", f"{URL}/{digest}")).status_code == 409
    assert (await world.get("inspector", f"{URL}/{digest}")).status_code in (200, 302)
