"""整改通知单 and 整改回复单 over HTTP: the PDF and its headers, the Chinese text in it, the photos as
thumbnails, the ETag and the document number, the same access rules as the order, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import zxingcpp

from inspection.rectification import schemas as rs
from inspection.rectification.rules import OrderState
from inspection.reports.tables import IssuedDocument
from inspection.settings import PROJECT_ROOT, get_settings
from tests.factories import World
from tests.rectification.helpers import actor_of, create_body, order_in
from tests.reports.helpers import page_count, page_png, pdf_images, pdf_text, squeeze, upload_photo

URL = "/api/v1/reports/rectification/{}.pdf"


async def _order_with_photos(world: World, clock, before: int = 2, after: int = 2):  # type: ignore[no-untyped-def]
    svc = world.services.rectification
    inspector, contractor = actor_of(world, "inspector"), actor_of(world, "contractor_a")
    p1 = world.id_of("p1")
    shots = [await upload_photo(world.services, inspector, p1, seed) for seed in range(1, before + 1)]
    detail = await svc.create_order(
        inspector,
        create_body(world, issue=True, photos=shots, description="屋面防水卷材搭接宽度不足，局部起鼓"),
    )
    oid = detail.order.id
    fixed = [await upload_photo(world.services, contractor, p1, seed) for seed in range(100, 100 + after)]
    await svc.respond(
        contractor, oid, rs.RespondBody(text="已割除起鼓部位并重新铺贴，搭接宽度满足100毫米", photos=fixed)
    )
    return oid


async def test_notice_pdf_over_http(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    oid = await _order_with_photos(world, clock)
    r = await world.get("inspector", URL.format(oid))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    number = r.headers["x-document-number"]
    assert number.startswith("ZGTZ-")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    assert f'filename="{number}.pdf"' in disposition
    assert f"filename*=UTF-8''{quote('质量问题整改通知单-' + number + '.pdf', safe='')}" in disposition
    assert r.headers["etag"].startswith('"')
    pdf = r.content
    assert pdf.startswith(b"%PDF-")
    text = squeeze(pdf_text(pdf))
    for expected in [
        "质量问题整改通知单",
        "一号改造项目",
        world.orgs["contractor_a"].name,
        world.orgs["supervisor"].name,  # the issuing organisation, in the letterhead
        "屋面防水卷材搭接宽度不足，局部起鼓",
        "屋面防水改造",
        "整改期限",
        "现场照片（整改前）",
        number,
        f"第1页共{page_count(pdf)}页",
    ]:
        assert squeeze(expected) in text, expected
    # the two photos as the 1280 px derivative, never the 1600 px originals
    images = pdf_images(pdf)
    assert len(images) == 2
    assert all(max(w, h) == 1280 for w, h in images), images
    # the reply's after-photos are not part of the notice
    assert "第1次整改回复" not in text and "已割除起鼓部位" not in text


async def test_reply_pdf_shows_before_and_after(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    oid = await _order_with_photos(world, clock, before=1, after=3)
    r = await world.get("contractor_a", URL.format(oid), params={"kind": "reply"})
    assert r.status_code == 200, r.text
    assert r.headers["x-document-number"].startswith("ZGHF-")
    text = squeeze(pdf_text(r.content))
    for expected in [
        "整改回复单",
        "第 1 次整改回复",
        "已割除起鼓部位并重新铺贴",
        "待复查",
        "整改前照片",
        "第 1 次整改后照片",
    ]:
        assert squeeze(expected) in text, expected
    assert len(pdf_images(r.content)) == 4


async def test_same_content_same_number_and_etag(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    oid = await order_in(world.services.rectification, world, clock, OrderState.responded)
    first = await world.get("inspector", URL.format(oid), params={"kind": "reply"})
    again = await world.get("supervisor", URL.format(oid), params={"kind": "reply"})
    assert first.status_code == again.status_code == 200
    assert first.headers["x-document-number"] == again.headers["x-document-number"]
    assert first.headers["etag"] == again.headers["etag"]
    assert await IssuedDocument.count().where(IssuedDocument.subject_id == oid) == 1
    # the client holds it: 304 and nothing rendered or registered
    cached = await world.client.get(
        URL.format(oid),
        params={"kind": "reply"},
        headers={**world.headers("inspector"), "If-None-Match": first.headers["etag"]},
    )
    assert cached.status_code == 304 and cached.content == b""
    # the order moves on: the reply shows the review, so it is a new document with a new number
    await world.services.rectification.accept(actor_of(world, "inspector"), oid, rs.AcceptBody(note="复查合格"))
    moved = await world.client.get(
        URL.format(oid),
        params={"kind": "reply"},
        headers={**world.headers("inspector"), "If-None-Match": first.headers["etag"]},
    )
    assert moved.status_code == 200
    assert moved.headers["etag"] != first.headers["etag"]
    assert moved.headers["x-document-number"] != first.headers["x-document-number"]
    assert "复查合格" in pdf_text(moved.content)


async def test_access_follows_the_order(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    svc = world.services.rectification
    oid = await order_in(svc, world, clock, OrderState.issued)
    assert (await world.get("contractor_a", URL.format(oid))).status_code == 200
    for who in ["contractor_b", "outsider"]:
        r = await world.get(who, URL.format(oid))
        assert r.status_code == 404, (who, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (await world.client.get(URL.format(oid))).status_code == 401
    # a draft has no notice; a reply needs an answer first
    draft = await order_in(svc, world, clock, OrderState.draft)
    assert (await world.get("inspector", URL.format(draft))).status_code == 409
    assert (await world.get("contractor_a", URL.format(draft))).status_code == 404  # drafts are invisible to it
    r = await world.get("inspector", URL.format(oid), params={"kind": "reply"})
    assert r.status_code == 409 and r.json()["field"] == "order_id"
    r = await world.get("inspector", URL.format(oid), params={"kind": "minutes"})
    assert r.status_code == 400
    r = await world.get("inspector", URL.format("not-a-uuid"))
    assert r.status_code == 422 and r.json()["field"] == "order_id"
    assert (await world.get("inspector", f"/api/v1/reports/rectification/{oid}.doc")).status_code == 422
    assert (await world.get("contractor_a", f"/api/v1/reports/rectification/{oid}")).status_code == 200
    assert await IssuedDocument.count().where(IssuedDocument.subject_id == oid) == 1  # only the notice A printed


async def test_verification_page(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    oid = await order_in(world.services.rectification, world, clock, OrderState.issued)
    r = await world.get("inspector", URL.format(oid))
    number = r.headers["x-document-number"]
    row = await IssuedDocument.select().where(IssuedDocument.number == number).first()
    sha = row["content_sha256"]
    # the QR code in the PDF carries exactly this address (public_base_url + number + hash), and
    # a real decoder reads it from a 150 dpi scan of page 1
    scanned = [c.text for c in zxingcpp.read_barcodes(page_png(r.content, 1, 150))]
    assert scanned == [f"{get_settings().public_base_url}/verify/{number}?h={sha}"]
    ok = await world.client.get(f"/verify/{number}", params={"h": sha}, headers={"Accept": "application/json"})
    assert ok.status_code == 200
    assert ok.json() == {
        "number": number,
        "issued": True,
        "issued_at": row["issued_at"].isoformat().replace("+00:00", "Z"),
    }
    page = await world.client.get(f"/verify/{number}", params={"h": sha})
    # exactly one charset (found by the fuzzer: the header said it twice)
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert "已登记" in page.text
    # nothing of the content: not the description, the contractor, the project or the kind
    for secret in ["屋面防水卷材", world.orgs["contractor_a"].name, "一号改造项目", "整改通知单"]:
        assert secret not in page.text
    for bad in [{"h": "0" * 64}, {"h": "nonsense"}, {}]:
        r = await world.client.get(f"/verify/{number}", params=bad, headers={"Accept": "application/json"})
        assert r.status_code == 200 and r.json()["issued"] is False and r.json()["issued_at"] is None
    r = await world.client.get("/verify/ZGTZ-1999-00001", params={"h": sha})
    assert r.status_code == 200 and "未找到" in r.text
    # user text in the path comes back escaped
    r = await world.client.get("/verify/%3Cb%3Ex", params={"h": sha})
    assert r.status_code == 200 and "<b>x" not in r.text and "&lt;b&gt;x" in r.text


async def test_cli_writes_the_pdf(world: World, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`siteinspect report` in its own process, on the same database and evidence store."""
    oid = await order_in(world.services.rectification, world, clock, OrderState.issued)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "inspection.cli", "report", *args],
            cwd=PROJECT_ROOT,
            env=dict(os.environ),
            capture_output=True,
            text=True,
        )

    out = tmp_path / "notice.pdf"
    done = cli("notice", str(oid), "-o", str(out), "--user", world.users["contractor_a"].username)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ZGTZ-") and out.read_bytes().startswith(b"%PDF-")
    assert "整改通知单" in squeeze(pdf_text(out.read_bytes()))
    # the same access rules as the API: another contractor's order does not exist for it
    refused = tmp_path / "refused.pdf"
    done = cli("notice", str(oid), "-o", str(refused), "--user", world.users["contractor_b"].username)
    assert done.returncode == 1 and "整改单不存在" in done.stderr and not refused.exists()
    done = cli("notice", "not-a-uuid")
    assert done.returncode == 2 and "不是有效的编号" in done.stderr
