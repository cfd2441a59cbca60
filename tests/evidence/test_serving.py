"""How evidence is served: it is what users uploaded, on the API's own origin, so nothing of it may
run there. Images are shown inline with nosniff; anything else (a PDF with JavaScript in its
/OpenAction) is a download; every evidence answer carries `Content-Security-Policy: sandbox`. On
S3 the presigned URL makes the store answer with the same Content-Disposition."""

from __future__ import annotations

import httpx
import pytest

from tests.evidence.conftest import BACKENDS, jpeg, sha
from tests.factories import World

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

URL = "/api/v1/evidence"
# A lab report as a hostile contractor could send it: valid enough for any PDF reader, with a
# script that runs when the document opens.
HOSTILE_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"3 0 obj << /S /JavaScript /JS (app.alert\\(document.cookie\\)) >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


async def _upload(world: World, who: str, data: bytes) -> str:
    r = await world.client.put(
        f"{URL}/{sha(data)}",
        content=data,
        params={"project_id": str(world.id_of("p1"))},
        headers={**world.headers(who), "content-type": "application/octet-stream"},
    )
    assert r.status_code == 200, r.text
    return sha(data)


async def _served(world: World, who: str, path: str, **kw: object) -> tuple[httpx.Response, httpx.Response]:
    """The API's answer, and what the browser finally receives (the store's, after a redirect)."""
    r = await world.get(who, path, **kw)  # type: ignore[arg-type]
    if r.status_code == 302:
        async with httpx.AsyncClient() as outside:
            return r, await outside.get(r.headers["location"])
    return r, r


def _sandboxed(r: httpx.Response) -> None:
    assert r.headers.get("content-security-policy") == "sandbox", (r.status_code, r.headers)
    assert r.headers.get("x-content-type-options") == "nosniff"


async def test_a_pdf_is_a_sandboxed_download(world: World, backend: str) -> None:
    digest = await _upload(world, "contractor_a", HOSTILE_PDF)
    api, got = await _served(world, "contractor_a", f"{URL}/{digest}")
    _sandboxed(api)
    assert got.status_code == 200 and got.content == HOSTILE_PDF
    assert got.headers["content-type"].startswith("application/pdf")
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;"), disposition
    assert f'filename="{digest[:16]}.pdf"' in disposition


async def test_an_image_is_shown_inline_and_sandboxed(world: World, backend: str) -> None:
    photo = jpeg(320, 240, seed=5)
    digest = await _upload(world, "inspector", photo)
    for path in (f"{URL}/{digest}", f"{URL}/{digest}?size=320"):
        api, got = await _served(world, "inspector", path)
        _sandboxed(api)
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        assert got.headers["content-disposition"].startswith("inline;")


async def test_every_evidence_answer_is_sandboxed(world: World, backend: str) -> None:
    digest = await _upload(world, "inspector", jpeg(200, 150, seed=6))
    answers = [
        await world.get("inspector", f"{URL}/{digest}/meta"),
        await world.client.get(
            f"{URL}/{digest}", headers={**world.headers("inspector"), "If-None-Match": f'"{digest}"'}
        ),
        await world.get("outsider", f"{URL}/{digest}"),  # 404
        await world.get("inspector", f"{URL}/{'0' * 64}"),  # 404
        await world.get("inspector", f"{URL}/not-a-hash"),  # 400
    ]
    assert [a.status_code for a in answers][:2] == [200, 304]
    for a in answers:
        _sandboxed(a)
