"""Uploading, confirming and reading evidence over HTTP, on both store backends."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from PIL import Image

from inspection.actor import Actor
from inspection.evidence import links
from inspection.evidence.tables import Evidence
from inspection.records import new_id, write
from tests.evidence.conftest import BACKENDS, jpeg, pdf, png_with_alpha, sha, stored_keys
from tests.factories import World

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

URL = "/api/v1/evidence"


async def put(world: World, who: str, data: bytes, **params: Any) -> httpx.Response:
    return await world.client.put(
        f"{URL}/{sha(data)}",
        content=data,
        params={k: str(v) for k, v in params.items()},
        headers={**world.headers(who), "content-type": "application/octet-stream"},
    )


async def fetch(world: World, who: str, path: str, **kw: Any) -> httpx.Response:
    """GET through the API, following a presigned redirect to the store (a real HTTP request to
    the S3 server) the way a browser would, but without sending the bearer token there."""
    r = await world.get(who, path, **kw)
    if r.status_code == 302:
        async with httpx.AsyncClient() as outside:
            followed = await outside.get(r.headers["location"])
        followed.headers["x-redirect-cache-control"] = r.headers["cache-control"]
        followed.headers["x-redirect-etag"] = r.headers["etag"]
        return followed
    return r


async def test_upload_through_the_api_reads_exif_and_makes_thumbnails(world: World, photo: bytes, backend) -> None:  # type: ignore[no-untyped-def]
    p1 = world.id_of("p1")
    r = await put(world, "inspector", photo, project_id=p1, name="IMG_0001.JPG")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "stored"
    assert body["content_type"] == "image/jpeg"
    assert body["size_bytes"] == len(photo)
    assert (body["width"], body["height"]) == (1200, 1600), "orientation 6: stored as shown, upright"
    assert datetime.fromisoformat(body["captured_at"]) == datetime(2026, 5, 1, 2, 20, 30, tzinfo=UTC)
    assert body["gps_lat"] == pytest.approx(31.234) and body["gps_lon"] == pytest.approx(121.475)
    assert body["original_name"] == "IMG_0001.JPG"

    got = await fetch(world, "inspector", f"{URL}/{sha(photo)}")
    assert got.status_code == 200
    assert got.content == photo
    if backend == "disk":
        assert got.headers["etag"] == f'"{sha(photo)}"'
        assert got.headers["cache-control"] == "private, max-age=31536000, immutable"
        assert got.headers["content-type"] == "image/jpeg"
    else:
        assert got.headers["x-redirect-etag"] == f'"{sha(photo)}"'
        assert got.headers["x-redirect-cache-control"].startswith("private, max-age=")

    for side in (1280, 320):
        thumb = await fetch(world, "inspector", f"{URL}/{sha(photo)}", params={"size": side})
        assert thumb.status_code == 200
        img = Image.open(io.BytesIO(thumb.content))
        assert img.format == "JPEG"
        assert img.size == (side * 3 // 4, side), "portrait: the EXIF orientation was applied"

    meta = (await world.get("inspector", f"{URL}/{sha(photo)}/meta")).json()
    assert meta["thumbnails"] == {"1280": f"{URL}/{sha(photo)}?size=1280", "320": f"{URL}/{sha(photo)}?size=320"}


async def test_sending_stored_bytes_again_answers_at_once(world: World, photo: bytes) -> None:
    first = await put(world, "inspector", photo, project_id=world.id_of("p1"))
    again = await put(world, "inspector", photo, project_id=world.id_of("p1"))
    assert again.status_code == 200
    assert again.json()["version"] == first.json()["version"], "nothing was written the second time"


async def test_png_and_pdf_are_accepted(world: World) -> None:
    for data, kind in [(png_with_alpha(), "image/png"), (pdf(), "application/pdf")]:
        r = await put(world, "supervisor", data, project_id=world.id_of("p1"))
        assert r.status_code == 200, r.text
        assert r.json()["content_type"] == kind
    r = await world.get("supervisor", f"{URL}/{sha(pdf())}", params={"size": 320})
    assert r.status_code == 422 and r.json()["field"] == "size"


async def test_one_flow_for_clients_announce_send_confirm(world: World, photo: bytes, backend) -> None:  # type: ignore[no-untyped-def]
    start = {
        "sha256": sha(photo),
        "project_id": str(world.id_of("p1")),
        "content_type": "image/jpeg",
        "size": len(photo),
        "original_name": "缺陷照片.jpg",
    }
    r = await world.post("contractor_a", f"{URL}/uploads", start)
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["evidence"]["status"] == "pending"
    target = ticket["upload"]
    if backend == "disk":
        assert target["via"] == "api" and target["url"] == f"{URL}/{sha(photo)}"
        sent = await world.client.put(target["url"], content=photo, headers=world.headers("contractor_a"))
        assert sent.status_code == 200
    else:
        assert target["via"] == "s3"
        assert "x-amz-checksum-sha256" in target["url"].lower(), "the checksum header is part of the signature"
        async with httpx.AsyncClient() as outside:
            sent = await outside.put(target["url"], content=photo, headers=target["headers"])
        assert sent.status_code == 200
        meta = (await world.get("contractor_a", f"{URL}/{sha(photo)}/meta")).json()
        assert meta["status"] == "pending", "bytes in the store do not count until confirmed"
    done = await world.post("contractor_a", ticket["complete_url"])
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "stored"
    assert done.json()["captured_at"] is not None
    again = await world.post("contractor_a", f"{URL}/uploads", start)
    assert again.json()["upload"] is None, "stored evidence needs no second upload"


async def test_confirming_before_the_bytes_arrive_is_a_conflict(world: World, photo: bytes) -> None:
    start = {"sha256": sha(photo), "project_id": str(world.id_of("p1")), "content_type": "image/jpeg", "size": 10}
    assert (await world.post("inspector", f"{URL}/uploads", start)).status_code == 201
    r = await world.post("inspector", f"{URL}/{sha(photo)}/complete")
    assert r.status_code == 409
    r = await world.get("inspector", f"{URL}/{sha(photo)}")
    assert r.status_code == 409, "a pending photo cannot be downloaded yet"


async def test_not_modified_when_the_etag_matches(world: World, photo: bytes) -> None:
    await put(world, "inspector", photo, project_id=world.id_of("p1"))
    r = await world.client.get(
        f"{URL}/{sha(photo)}", headers={**world.headers("inspector"), "if-none-match": f'"{sha(photo)}"'}
    )
    assert r.status_code == 304


def _actor(world: World, who: str) -> Actor:
    u = world.users[who]
    return Actor(user_id=u.id, username=u.username, organisation_id=u.organisation_id)


async def test_who_reads_and_who_uploads(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    mine = jpeg(seed=1)
    assert (await put(world, "contractor_a", mine, project_id=world.id_of("p1"))).status_code == 200
    path = f"{URL}/{sha(mine)}/meta"
    assert (await world.get("contractor_a", path)).status_code == 200
    for who in ("inspector", "supervisor", "owner", "resident", "viewer", "authority", "admin"):
        assert (await world.get(who, path)).status_code == 200, who
    for who in ("contractor_b", "outsider"):  # another contractor, a member of another project
        r = await world.get(who, path)
        assert r.status_code == 404, who
        assert (await world.get(who, f"{URL}/{sha(mine)}")).status_code == 404
    # contractor B may not add bytes to A's evidence, nor upload into a project it is not in
    assert (await world.post("contractor_b", f"{URL}/{sha(mine)}/complete")).status_code == 404
    other = jpeg(seed=2)
    assert (await put(world, "outsider", other, project_id=world.id_of("p1"))).status_code == 404
    assert (await put(world, "viewer", other, project_id=world.id_of("p1"))).status_code == 403
    assert await Evidence.count().where(Evidence.sha256 == sha(other)) == 0

    # once a record B may read cites the photo, B reads it too
    record = new_id()

    async def b_reads(actor: Actor, record_id: Any) -> bool:
        return record_id == record and actor.organisation_id == world.orgs["contractor_b"].id

    links.register_reader("order_for_b", b_reads)
    async with write(_actor(world, "inspector"), clock) as w:
        await links.attach(w, [sha(mine)], record_table="order_for_b", record_id=record, project_id=world.id_of("p1"))
    assert (await world.get("contractor_b", path)).status_code == 200
    assert (await world.get("outsider", path)).status_code == 404


async def test_unannounced_upload_without_a_project_is_refused(world: World, photo: bytes, store) -> None:  # type: ignore[no-untyped-def]
    r = await put(world, "inspector", photo)
    assert r.status_code == 404 and r.json()["field"] == "sha256"
    assert stored_keys(store) == []
