"""Photos as phones send them, through the portal's forms: iPhone HEIC on the reply and the
complaint form, kept as sent and shown (and printed) through its JPEG derivative; a photo over
the limit refused without losing what was typed; a PDF among the "after" photos printed as a
document."""

from __future__ import annotations

import hashlib
import os

from inspection.evidence.tables import Evidence
from tests.evidence.conftest import camera_exif, heic
from tests.portal.helpers import browser, csrf_of, sign_in
from tests.portal.test_pages import issue_order
from tests.reports.helpers import pdf_images, pdf_text, squeeze

PDF = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% 检测报告\ntrailer << /Root 1 0 R >>\n%%EOF\n".encode()


async def test_reply_with_an_iphone_photo_and_a_test_report(app, world) -> None:  # type: ignore[no-untyped-def]
    order = await issue_order(app, world)
    photo = heic(1600, 1200, exif=camera_exif(orientation=6), seed=3)
    async with browser(app) as b:
        await sign_in(b, world.users["contractor_a"].username)
        page = await b.get(f"/portal/orders/{order.id}")
        assert 'accept="image/jpeg,image/png,image/heic' in page.text
        r = await b.post(
            f"/portal/orders/{order.id}/respond",
            data={"csrf_token": csrf_of(page.text), "text": "已返工，附检测报告", "version": str(order.version)},
            files=[
                ("photos", ("IMG_4032.HEIC", photo, "image/heic")),
                ("photos", ("检测报告.pdf", PDF, "application/pdf")),
            ],
        )
        assert r.status_code == 303, r.text
        digest = hashlib.sha256(photo).hexdigest()
        # the original is kept by its hash, exactly as sent
        original = await b.get(f"/api/v1/evidence/{digest}")
        assert original.status_code == 200 and original.content == photo
        row = (
            await Evidence.select(Evidence.content_type, Evidence.captured_at).where(Evidence.sha256 == digest).first()
        )
        assert row is not None and row["content_type"] == "image/heic" and row["captured_at"] is not None
        # browsers and reports get the JPEG derivative, upright
        thumb = await b.get(f"/api/v1/evidence/{digest}?size=1280")
        assert thumb.headers["content-type"] == "image/jpeg" and thumb.content[:3] == b"\xff\xd8\xff"
        report = await b.get(f"/api/v1/reports/rectification/{order.id}.pdf", params={"kind": "reply"})
        assert report.status_code == 200, report.text
    assert pdf_images(report.content) == [(960, 1280)]
    text = squeeze(pdf_text(report.content))
    assert "文件（非照片），请在系统中查看" in text and "非图片文件" not in text


async def test_complaint_with_an_iphone_photo(app, world) -> None:  # type: ignore[no-untyped-def]
    photo = heic(1200, 900, seed=5)
    async with browser(app) as resident:
        r = await resident.post(
            f"/portal/notice/{world.id_of('site1')}/complaints",
            data={"topic": "quality", "text": "3号楼外墙保温板脱落，楼下有人经过"},
            files=[("photos", ("IMG_0007.HEIC", photo, "image/heic"))],
        )
    assert r.status_code == 200 and "受理编号" in r.text
    assert await Evidence.exists().where(Evidence.sha256 == hashlib.sha256(photo).hexdigest())


async def test_a_refused_photo_keeps_what_was_typed(app, world) -> None:  # type: ignore[no-untyped-def]
    huge = os.urandom(11 * 1024 * 1024)  # over the complaint form's 10 MB
    before = await Evidence.count()
    async with browser(app) as resident:
        r = await resident.post(
            f"/portal/notice/{world.id_of('site1')}/complaints",
            data={"topic": "safety", "text": "脚手架上有松动的钢管，随时可能掉落", "contact": "13900001111"},
            files=[("photos", ("big.jpg", huge, "image/jpeg"))],
        )
    assert r.status_code == 413
    assert "脚手架上有松动的钢管，随时可能掉落" in r.text and 'value="13900001111"' in r.text
    assert "照片超过 10 MB 的上限" in r.text and "您填写的文字已保留" in r.text
    assert 'value="safety" selected' in r.text
    assert await Evidence.count() == before

    order = await issue_order(app, world)
    limit = app.state.services.settings.storage.max_upload_bytes
    async with browser(app) as b:
        await sign_in(b, world.users["contractor_a"].username)
        page = await b.get(f"/portal/orders/{order.id}")
        r = await b.post(
            f"/portal/orders/{order.id}/respond",
            data={"csrf_token": csrf_of(page.text), "text": "已整改完毕，详见照片", "version": str(order.version)},
            files=[("photos", ("big.jpg", b"\xff\xd8\xff" + b"\0" * (limit + 1), "image/jpeg"))],
        )
    assert r.status_code == 413 and "已整改完毕，详见照片" in r.text and "您填写的文字已保留" in r.text
    assert await Evidence.count() == before
