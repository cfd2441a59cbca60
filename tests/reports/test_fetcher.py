"""The renderer loads nothing but its own references: thumbnails the report named and files under
pdf_templates/. Local files, remote URLs, data URLs and HTML in user text are never fetched."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inspection.reports import render
from inspection.reports.render import (
    TEMPLATES_DIR,
    DocumentHead,
    Letterhead,
    Refused,
    ReportFetcherLog,
    evidence_ref,
    qr_svg,
    render_html,
    resolve,
    write_pdf,
)
from inspection.settings import PROJECT_ROOT
from tests.reports.helpers import jpeg, pdf_images, pdf_text, squeeze

SHA = "ab" * 32
OTHER = "cd" * 32
THUMBS = {evidence_ref(SHA): jpeg(1, (320, 240))}


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on loopback that records every request it gets."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        (TEMPLATES_DIR / ".." / "config.toml").as_uri(),  # climbs out of pdf_templates/
        (TEMPLATES_DIR / "base.html").as_uri(),  # a template is not an asset
        (TEMPLATES_DIR / "nothing-here.css").as_uri(),
        f"{(TEMPLATES_DIR / 'report.css').as_uri()}?x=1",
        "http://127.0.0.1:9/x.png",
        "https://example.com/x.png",
        "ftp://example.com/x.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "x.png",
        f"evidence:{SHA}",  # no size: the original
        f"evidence:{SHA}?size=100",
        f"evidence:{SHA}?size=1280",  # not among the thumbnails this report named
        f"evidence:{OTHER}?size=320",
        f"evidence:{SHA.upper()}?size=320",
    ],
)
def test_resolve_refuses(url: str) -> None:
    with pytest.raises(Refused):
        resolve(url, THUMBS)


def test_resolve_serves_its_own() -> None:
    data, mime = resolve(evidence_ref(SHA), THUMBS)
    assert mime == "image/jpeg" and data == THUMBS[evidence_ref(SHA)]
    data, mime = resolve((TEMPLATES_DIR / "report.css").as_uri(), THUMBS)
    assert mime == "text/css" and b"@page" in data


def test_a_symlink_out_of_the_templates_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "templates"
    link.mkdir()
    (link / "secret.css").symlink_to(PROJECT_ROOT / "config.toml")
    with pytest.raises(Refused):
        resolve((link / "secret.css").as_uri(), {}, templates_dir=link)


def test_raw_html_with_foreign_references_fetches_nothing(listener: tuple[str, list[str]]) -> None:
    """Even HTML that bypassed the templates (as if a template were careless) loads nothing foreign."""
    base, hits = listener
    html = f"""<html><head><link rel="stylesheet" href="report.css">
      <link rel="stylesheet" href="{base}/evil.css"><style>@import url("{base}/imported.css");
      body {{ background: url("{base}/bg.png"); }}</style></head><body>
      <p>正文</p>
      <img src="file:///etc/passwd"><img src="{base}/remote.png"><img src="data:image/png;base64,iVBORw0KGgo=">
      <img src="{evidence_ref(SHA)}"><img src="evidence:{OTHER}?size=320">
      <object data="file:///etc/hostname"></object><embed src="file:///etc/hostname">
      </body></html>"""
    record = ReportFetcherLog()
    pdf = write_pdf(html, THUMBS, record)
    assert hits == []
    assert sorted(record.served) == sorted([(TEMPLATES_DIR / "report.css").as_uri(), evidence_ref(SHA)])
    assert "file:///etc/passwd" in record.refused
    assert any(u.startswith(base) for u in record.refused)
    assert any(u.startswith("data:") for u in record.refused)
    assert f"evidence:{OTHER}?size=320" in record.refused
    assert "root:" not in pdf_text(pdf)
    assert len(pdf_images(pdf)) == 1  # only the thumbnail that was named


def _doc() -> DocumentHead:
    url = "http://127.0.0.1:8000/verify/ZGTZ-2026-00001?h=" + SHA
    return DocumentHead(
        title="质量问题整改通知单",
        number="ZGTZ-2026-00001",
        issued_at=datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        content_sha256=SHA,
        verify_url=url,
        qr=qr_svg(url),
        letterhead=Letterhead(organisation="<b>某监理公司</b>", project="一号改造项目", project_code="P1"),
    )


def test_user_text_prints_as_text(listener: tuple[str, list[str]]) -> None:
    """A note holding HTML and URLs goes through the real notice template: escaped, printed, not fetched."""
    base, hits = listener
    note = f'<img src="file:///etc/passwd"> 见 {base}/photo.png <b>加粗</b> <style>@import "{base}/x.css";</style>'
    context = {
        "order": {
            "kind": "quality",
            "severity": "general",
            "source": "manual",
            "description": note,
            "issued_at": datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
            "deadline": datetime(2026, 11, 30, 15, 59, tzinfo=UTC),
            "deadline_reason": "",
            "deadline_round": 1,
        },
        "place": {"site": "<i>小区</i>", "building": None, "work_item": None, "work_type": None},
        "contractor": f"<a href='{base}/c'>施工单位</a>",
        "issuer": {"name": "张三", "organisation": "监理"},
        "before": [],
        "stops": [],
        "cc": [f"<b>建设单位</b>{base}"],
    }
    html = render_html("rectification_notice.html", _doc(), context)
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert "<b>加粗</b>" not in html and "<b>某监理公司</b>" not in html and "<i>小区</i>" not in html
    record = ReportFetcherLog()
    pdf = write_pdf(html, {}, record)
    assert hits == [] and record.refused == []
    assert record.served == [(TEMPLATES_DIR / "report.css").as_uri()]
    text = squeeze(pdf_text(pdf))
    for shown in [
        '<imgsrc="file:///etc/passwd">',
        f"{base}/photo.png",
        "<b>加粗</b>",
        "<b>某监理公司</b>",
        "<i>小区</i>",
    ]:
        assert squeeze(shown) in text, shown
    assert "root:" not in text


def test_the_environment_escapes_every_template() -> None:
    env = render.environment()
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


def test_evidence_ref_checks_its_input() -> None:
    with pytest.raises(ValueError):
        evidence_ref("../../etc/passwd")
    with pytest.raises(ValueError):
        evidence_ref(SHA, 100)
