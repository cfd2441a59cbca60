"""Chinese text is drawn with real CJK glyphs, not empty boxes (tofu).

pdftotext alone cannot tell: a PDF drawn with tofu still carries the characters' Unicode values.
So the check measures ink: 量 has many strokes and 一 has one, so a run of 量 leaves several times
the ink of a run of 一 of the same length — with real glyphs. Tofu boxes are the same box for every
character, so their ratio is about 1. A control run renders the same template in a process whose
fontconfig hides every CJK font, and shows that the check does fail there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from inspection.rectification import schemas as rs
from inspection.settings import PROJECT_ROOT
from tests.factories import World
from tests.rectification.helpers import actor_of, create_body
from tests.reports.helpers import Box, ink, page_png, pdf_fonts, word_boxes

URL = "/api/v1/reports/rectification/{}.pdf"
FEW, MANY = "一一一一一一", "量量量量量量"
DPI = 150


def stroke_ratio(pdf: bytes) -> float:
    """Ink on the line of 量s over ink on the line of 一s. Each run is a line of its own, found by
    its position; the ink is counted across the rest of that line, because with tofu the text layer
    gives the run no width at all."""
    boxes = word_boxes(pdf)
    few = next(b for b in boxes if b.text and set(b.text) == {FEW[0]})
    many = next(b for b in boxes if b.text and set(b.text) == {MANY[0]})
    image = page_png(pdf)
    right = image.width * 72 / DPI - 1

    def line(b: Box) -> Box:
        return Box(b.text, b.x0, b.y0, right, b.y1)

    return ink(image, line(many)) / max(1, ink(image, line(few)))


async def _notice(world: World) -> tuple[bytes, str]:
    detail = await world.services.rectification.create_order(
        actor_of(world, "inspector"), create_body(world, issue=True, description=f"{FEW}\n{MANY}\n楼梯间墙面空鼓开裂")
    )
    r = await world.get("inspector", URL.format(detail.order.id))
    assert r.status_code == 200, r.text
    return r.content, str(detail.order.id)


async def test_cjk_fonts_embedded_and_glyphs_drawn(world: World) -> None:
    pdf, _ = await _notice(world)
    fonts = pdf_fonts(pdf)
    names = [f.name for f in fonts]
    assert all(f.embedded for f in fonts), fonts
    # one family, Song style, in two weights (each face embedded costs its own subset)
    faces = sorted(n.split("+", 1)[-1] for n in names)
    assert faces == ["Noto-Serif-CJK-SC", "Noto-Serif-CJK-SC-Bold"], names
    assert stroke_ratio(pdf) > 3, "量 should leave several times the ink of 一"


def test_the_check_fails_on_tofu(tmp_path: Path) -> None:
    """The same template rendered where fontconfig hides CJK fonts: boxes, and the check says so."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        f"""<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><dir>/usr/share/fonts</dir><cachedir>{tmp_path}/cache</cachedir>
<selectfont><rejectfont><glob>*CJK*</glob><glob>*cjk*</glob></rejectfont></selectfont></fontconfig>"""
    )
    out = tmp_path / "tofu.pdf"
    script = f"""
from datetime import UTC, datetime
from inspection.reports.render import DocumentHead, Letterhead, qr_svg, render_html, write_pdf
doc = DocumentHead(title="整改通知单", number="ZGTZ-2026-00001", issued_at=datetime.now(UTC), content_sha256="0" * 64,
                   verify_url="http://x/verify", qr=qr_svg("http://x/verify"), letterhead=Letterhead("监理", "项目"))
t = datetime.now(UTC)
context = {{"order": {{"kind": "quality", "severity": "general", "source": "manual", "description": "{FEW}\\n{MANY}",
            "issued_at": t, "deadline": t, "deadline_reason": "", "deadline_round": 1}},
           "place": {{"site": None, "building": None, "work_item": None, "work_type": None}},
           "contractor": "施工", "issuer": {{"name": "", "organisation": ""}}, "before": [], "stops": [], "cc": []}}
open({str(out)!r}, "wb").write(write_pdf(render_html("rectification_notice.html", doc, context), {{}}))
"""
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    pdf = out.read_bytes()
    assert not any("CJK" in f.name for f in pdf_fonts(pdf))
    assert stroke_ratio(pdf) < 1.5


async def test_reply_glyphs(world: World) -> None:
    """The reply template too: its tables use the sans face."""
    _, oid = await _notice(world)
    await world.services.rectification.respond(
        actor_of(world, "contractor_a"), oid, rs.RespondBody(text=f"{FEW}\n{MANY}\n已修复")
    )
    r = await world.get("inspector", URL.format(oid), params={"kind": "reply"})
    assert r.status_code == 200
    assert stroke_ratio(r.content) > 3
