"""Benchmark: one PDF report with 40 photos, end to end, against WeasyPrint alone.

Builds a temporary SQLite database and evidence folder (migrated), a project with its people,
and 40 distinct 1600 x 1200 photos made with Pillow and stored through the evidence service (so
their thumbnails exist). Then, RUNS times each:

- report: what a GET of the PDF costs — load the data through the domain services (access checks
  included), hash it, find its number in the register, read the 40 thumbnails from the store,
  send them with the data to a render worker process (started warm before the runs, as the
  server starts its workers), render the template and the PDF there and receive it;
- floor: WeasyPrint alone rendering the same finished HTML, thumbnails already in memory.

Prints median times, the PDF's size and pages, and the ratio; goals: <= 3 s, <= 5 MB, ratio <= 1.5.
Also the render pool's own cost: the template and PDF rendered in a worker process against the
same in this process, in turns (`pool_to_in_process`).
The report is the inspection report (检查记录表) of a JGJ 59 scaffold inspection, every item failed
with a long note and the 40 photos spread over them (about 10 pages); `bench/report_render.py notice`
measures the rectification notice (整改通知单) with the same 40 photos instead, and so does the default
where the checklists domain is not installed. The last line is one JSON object.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
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
SCAFFOLD = "jgj59-fastener-scaffold"
# the inspection report by default; `notice` benchmarks the rectification notice with 40 photos
REPORT = sys.argv[1] if len(sys.argv) > 1 else "inspection"
if REPORT == "inspection" and importlib.util.find_spec("inspection.checklists") is None:
    print("the checklists domain is not here: benchmarking the rectification notice instead", file=sys.stderr)
    REPORT = "notice"
RUNS = int(os.environ.get("BENCH_RUNS", 5))
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


async def build(services: object) -> tuple[object, object, object]:
    """A project, its inspector and contractor, a work item, and 40 stored photos."""
    from inspection.actor import SYSTEM, Actor
    from inspection.projects import schemas as ps
    from inspection.projects.rules import CREDIT_CODE_ALPHABET, OrgKind, Role, WorkCategory, WorkType
    from inspection.projects.rules import credit_code_check_char as check

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
    for seed in range(1, PHOTOS + 2):  # the last one signs the inspection
        data = photo(seed)
        digest = hashlib.sha256(data).hexdigest()
        await svc.evidence.upload(inspector, digest, _one(data), project_id=project.id)  # type: ignore[attr-defined]
        shas.append(digest)
    return inspector, (project, site, work), shas


async def build_notice(services: object, inspector: object, where: tuple, shas: list[str]) -> object:
    """An issued order citing the 40 photos."""
    from inspection.rectification import schemas as rs
    from inspection.rectification.rules import OrderKind

    project, _, work = where
    detail = await services.rectification.create_order(  # type: ignore[attr-defined]
        inspector,
        rs.OrderCreate(
            project_id=project.id,
            work_item_id=work.id,
            kind=OrderKind.quality,
            description="屋面防水卷材搭接宽度不足，多处起鼓、空鼓，女儿墙泛水收头未压条密封。" * 3,
            photos=shas[:PHOTOS],
            issue=True,
        ),
    )
    return detail.order.id


NOTE = (
    "现场检查发现：{text}。具体情况为东侧第三跨至第七跨立杆底部垫板缺失，部分立杆悬空约二至三厘米，"
    "扫地杆距地高度超过二百毫米；北立面第二步至第五步连墙件间距超过方案要求的三步三跨，"
    "局部采用柔性拉结；剪刀撑未沿高度连续设置，搭接长度不足一米且扣件少于三个；作业层脚手板探头长度超过"
    "一百五十毫米，挡脚板高度不足；安全网有破损未及时更换。要求施工单位立即组织整改，整改完成后报监理复查，"
    "复查合格前该区域不得上人作业。"
)


async def build_inspection(services: object, inspector: object, where: tuple, shas: list[str]) -> object:
    """A submitted JGJ 59 scaffold inspection: every scored item failed with a long note, the 40
    photos spread over them, the inspector's signature and GPS."""
    from inspection.checklists import schemas as cs
    from inspection.checklists.catalogue import import_shipped, latest_version, template_of

    project, site, work = where
    await import_shipped(services.clock)  # type: ignore[attr-defined]
    template = template_of(await latest_version(SCAFFOLD))
    svc = services.checklists  # type: ignore[attr-defined]
    detail = await svc.create(
        inspector,
        cs.InspectionCreate(project_id=project.id, site_id=site.id, work_item_id=work.id, template_code=SCAFFOLD),
    )
    scored = [i for i in template.items if i.answer == "deduction"]
    photos = shas[:PHOTOS]
    per = -(-len(photos) // len(scored))
    answers = []
    for n, item in enumerate(scored):
        mine = photos[n * per : (n + 1) * per]
        answers.append(
            cs.AnswerIn(
                item_code=item.code,
                deduction=min(item.points, 2.0),
                note=NOTE.format(text=item.text),
                photos=mine,
            )
        )
    answers += [cs.AnswerIn(item_code=i.code, value="no") for i in template.items if i.answer == "yes_no"]
    iid = detail.inspection.id
    await svc.set_answers(inspector, iid, answers)
    await svc.submit(
        inspector,
        iid,
        cs.SubmitBody(signature_sha256=shas[PHOTOS], gps=cs.Gps(lat=31.2304, lng=121.4737, accuracy_m=6)),
    )
    return iid


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
        reports.start()  # the render workers warm up during the set-up, as a server's do at its start
        t = time.perf_counter()
        actor, where, shas = await build(services)
        if REPORT == "inspection":
            subject = await build_inspection(services, actor, where, shas)
        else:
            subject = await build_notice(services, actor, where, shas)
        setup_s = time.perf_counter() - t

        report_s, floor_s, pdf = [], [], b""
        first_s = 0.0
        for run in range(RUNS + 1):
            t = time.perf_counter()
            if REPORT == "inspection":
                prepared = await reports.inspection(actor, subject)  # type: ignore[arg-type]
            else:
                prepared = await reports.rectification(actor, subject, "notice")  # type: ignore[arg-type]
            rendered = await reports.issue(actor, prepared)  # type: ignore[arg-type]
            took = time.perf_counter() - t
            if run == 0:
                first_s = took  # registers the number and warms fontconfig; reported apart
            else:
                report_s.append(took)
            pdf = rendered.pdf

        # the floor: the same finished HTML, thumbnails in memory, WeasyPrint alone
        data = prepared.data
        url = rules.verification_url(settings.public_base_url, rendered.number, prepared.content_sha256)
        doc = DocumentHead(
            data.title, rendered.number, rendered.issued_at, prepared.content_sha256, url, qr_svg(url), data.letterhead
        )
        template = rules.kind_info(data.kind).template
        html = render_html(template, doc, data.context)
        thumbnails = await load_thumbnails(reports.store, data.thumbnails)
        # the render pool's own cost: template and PDF in a worker process, against the same in this
        # process (what the thread pool before it did), taken in turns so both see the same load
        write_pdf(html, thumbnails)  # this process warms WeasyPrint and its fonts first, untimed
        in_process_s, pool_s = [], []
        for _ in range(RUNS):
            t = time.perf_counter()
            floor_pdf = write_pdf(html, thumbnails)
            floor_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            write_pdf(render_html(template, doc, data.context), thumbnails)
            in_process_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            await reports.renderer.pdf(template, doc, data.context, thumbnails)
            pool_s.append(time.perf_counter() - t)
        await reports.close()

    report = statistics.median(report_s)
    floor = statistics.median(floor_s)
    size_mb = len(pdf) / 1e6
    return {
        "report": "inspection report (检查记录表)" if REPORT == "inspection" else "rectification notice (整改通知单)",
        "photos": PHOTOS,
        "pages": pages(pdf),
        "report_s": round(report, 3),
        "first_report_s": round(first_s, 3),
        "floor_s": round(floor, 3),
        "ratio": round(report / floor, 3),
        "render_in_process_s": round(statistics.median(in_process_s), 3),
        "render_in_pool_s": round(statistics.median(pool_s), 3),
        "pool_to_in_process": round(statistics.median(pool_s) / statistics.median(in_process_s), 3),
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
