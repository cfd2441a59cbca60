"""Benchmark: one PDF report with 40 photos, end to end, against WeasyPrint alone.

Builds a temporary SQLite database and evidence folder (migrated), a project with its people,
and 40 distinct 1600 x 1200 photos made with Pillow and stored through the evidence service (so
their thumbnails exist). Then, RUNS times each:

- report: what a GET of the PDF costs — load the data through the domain services (access checks
  included), hash it, find its number in the register, read the 40 thumbnails from the store,
  render the template and the PDF in the worker thread;
- floor: WeasyPrint alone rendering the same finished HTML, thumbnails already in memory.

Prints median times, the PDF's size and pages, and the ratio; goals: <= 3 s, <= 5 MB, ratio <= 1.5.
The report is the rectification notice (整改通知单) with 40 photos: the inspection report's data
(checklists, issue 4) had not landed on main when this was written. The last line is one JSON object.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="siteinspect-bench-report-"))
os.environ["SITEINSPECT_DATABASE_URL"] = f"sqlite:///{TMP / 'bench.sqlite3'}"
os.environ["SITEINSPECT_STORAGE_DISK_ROOT"] = str(TMP / "evidence")
os.environ.setdefault("SITEINSPECT_SECURITY_SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
os.environ["SITEINSPECT_LOGGING_LEVEL"] = "WARNING"

PHOTOS = 40
RUNS = 5
GOAL_SECONDS, GOAL_MB, GOAL_RATIO = 3.0, 5.0, 1.5


def photo(seed: int) -> bytes:
    import io

    from PIL import Image, ImageDraw

    img = Image.linear_gradient("L").resize((1600, 1200)).convert("RGB")
    draw = ImageDraw.Draw(img)
    for i in range(40):
        x, y = (seed * 131 + i * 97) % 1480, (seed * 71 + i * 53) % 1080
        draw.rectangle((x, y, x + 110, y + 110), fill=((seed * 40 + i * 20) % 256, (i * 60) % 256, (seed * 90) % 256))
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def build(services: object) -> tuple[object, object]:
    """A project, its inspector and contractor, and an issued order citing 40 stored photos."""
    from inspection.actor import SYSTEM, Actor
    from inspection.projects import schemas as ps
    from inspection.projects.rules import CREDIT_CODE_ALPHABET, OrgKind, Role, WorkCategory, WorkType
    from inspection.projects.rules import credit_code_check_char as check
    from inspection.rectification import schemas as rs
    from inspection.rectification.rules import OrderKind

    svc: object = services
    projects = svc.projects  # type: ignore[attr-defined]

    def code(n: int) -> str:
        body = "91" + "".join(CREDIT_CODE_ALPHABET[(n * 7 + i) % 31] for i in range(15))
        return body + check(body)

    orgs = {}
    for n, (key, kind, name) in enumerate(
        [
            ("owner", OrgKind.owner, "某区住房和城乡建设局"),
            ("supervisor", OrgKind.supervisor, "某工程监理有限公司"),
            ("contractor", OrgKind.contractor, "某建筑工程有限公司"),
        ]
    ):
        orgs[key] = await projects.create_organisation(
            SYSTEM, ps.OrganisationCreate(name=name, kind=kind, credit_code=code(n))
        )
    users = {}
    for key, org in [("inspector", "supervisor"), ("contractor", "contractor")]:
        users[key] = await projects.create_user(
            SYSTEM,
            ps.UserCreate(
                username=key, display_name=f"{key}-张工", password="bench-password-2026", organisation_id=orgs[org].id
            ),
        )
    project = await projects.create_project(
        SYSTEM,
        ps.ProjectCreate(
            code="BENCH-1", name="某区2026年老旧小区改造一期", year=2026, owner_organisation_id=orgs["owner"].id
        ),
    )
    for key, role in [("inspector", Role.inspector), ("contractor", Role.contractor)]:
        await projects.add_member(SYSTEM, project.id, ps.MembershipCreate(user_id=users[key].id, role=role))
    site = await projects.create_site(
        SYSTEM, project.id, ps.SiteCreate(name="幸福里小区", households=480, floor_area_m2=36000.0)
    )
    work = await projects.create_work_item(
        SYSTEM,
        project.id,
        ps.WorkItemCreate(
            site_id=site.id,
            category=WorkCategory.basic,
            work_type=WorkType.roof_waterproofing,
            name="屋面防水改造",
            contractor_id=orgs["contractor"].id,
        ),
    )
    inspector = Actor(users["inspector"].id, "inspector", orgs["supervisor"].id, "supervisor")
    shas = []
    for seed in range(1, PHOTOS + 1):
        data = photo(seed)
        digest = hashlib.sha256(data).hexdigest()
        await svc.evidence.upload(inspector, digest, _one(data), project_id=project.id)  # type: ignore[attr-defined]
        shas.append(digest)
    detail = await svc.rectification.create_order(  # type: ignore[attr-defined]
        inspector,
        rs.OrderCreate(
            project_id=project.id,
            work_item_id=work.id,
            kind=OrderKind.quality,
            description="屋面防水卷材搭接宽度不足，多处起鼓、空鼓，女儿墙泛水收头未压条密封。" * 3,
            photos=shas,
            issue=True,
        ),
    )
    return inspector, detail.order.id


def pages(pdf: bytes) -> int | None:
    try:
        out = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return None
    line = next((ln for ln in out.splitlines() if ln.startswith("Pages:")), "")
    return int(line.split()[1]) if line else None


async def main() -> dict[str, object]:
    from api.app import build_services
    from inspection import db
    from inspection.clock import SystemClock
    from inspection.reports import rules
    from inspection.reports.render import DocumentHead, load_thumbnails, qr_svg, render_html, write_pdf
    from inspection.settings import get_settings

    settings = get_settings()
    async with db.connection_pool(settings):
        await db.apply_migrations()
        services = build_services(settings, SystemClock())
        reports = services.reports
        t = time.perf_counter()
        actor, order_id = await build(services)
        setup_s = time.perf_counter() - t

        report_s, floor_s, pdf = [], [], b""
        first_s = 0.0
        for run in range(RUNS + 1):
            t = time.perf_counter()
            prepared = await reports.rectification(actor, order_id, "notice")  # type: ignore[arg-type]
            rendered = await reports.issue(actor, prepared)  # type: ignore[arg-type]
            took = time.perf_counter() - t
            if run == 0:
                first_s = took  # registers the number and warms fontconfig; reported apart
            else:
                report_s.append(took)
            pdf = rendered.pdf

        # the floor: the same finished HTML, thumbnails in memory, WeasyPrint alone
        data = prepared.data
        url = rules.verification_url(settings.reports.public_base_url, rendered.number, prepared.content_sha256)
        doc = DocumentHead(
            data.title, rendered.number, rendered.issued_at, prepared.content_sha256, url, qr_svg(url), data.letterhead
        )
        html = render_html(rules.kind_info(data.kind).template, doc, data.context)
        thumbnails = await load_thumbnails(reports.store, data.thumbnails)
        for _ in range(RUNS):
            t = time.perf_counter()
            floor_pdf = write_pdf(html, thumbnails)
            floor_s.append(time.perf_counter() - t)
        reports.close()

    report = statistics.median(report_s)
    floor = statistics.median(floor_s)
    size_mb = len(pdf) / 1e6
    return {
        "report": "rectification notice (整改通知单)",
        "photos": PHOTOS,
        "pages": pages(pdf),
        "report_s": round(report, 3),
        "first_report_s": round(first_s, 3),
        "floor_s": round(floor, 3),
        "ratio": round(report / floor, 3),
        "pdf_mb": round(size_mb, 3),
        "floor_pdf_mb": round(len(floor_pdf) / 1e6, 3),
        "setup_s": round(setup_s, 1),
        "runs": RUNS,
        "goals": {"seconds": GOAL_SECONDS, "mb": GOAL_MB, "ratio": GOAL_RATIO},
        "ok": report <= GOAL_SECONDS and size_mb <= GOAL_MB and report / floor <= GOAL_RATIO,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    try:
        result = asyncio.run(main())
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print(
        f"{result['report']}: {result['pages']} pages, {result['photos']} photos, "
        f"{result['report_s']} s (first {result['first_report_s']} s) vs WeasyPrint alone {result['floor_s']} s, "
        f"{result['pdf_mb']} MB"
    )
    print(json.dumps(result, ensure_ascii=False))
