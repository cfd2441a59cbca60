"""Dashboard and contractor panels from the domains that feed them: inspections (checklists),
material samples, warranty. Each panel appears when this build has its service, so the portal
works as each domain lands; the numbers come from those services, with the actor's rights."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

from api.deps import Services
from api.portal.charts import PALETTE, columns, line
from inspection.actor import Actor
from inspection.errors import Forbidden, NotFound

GRADES = [("优良", PALETTE["ok"]), ("合格", PALETTE["warn"]), ("不合格", PALETTE["bad"])]
TREND_POINTS = 20
FAILED = "不合格"
WARRANTY_SOON_DAYS = 90


def optional(services: Services, name: str) -> Any:
    """A domain service when this build has it, else None."""
    return getattr(services, name, None)


def week_bounds(now: datetime, tz: Any) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 where the programme is."""
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    start = datetime.combine(monday, time(0), tzinfo=tz)
    return start, start + timedelta(days=7)


async def inspection_panels(services: Services, actor: Actor, project_ids: list[UUID]) -> list[dict[str, Any]]:
    checklists = optional(services, "checklists")
    if checklists is None or not project_ids:
        return []
    start, end = week_bounds(services.clock.now(), services.rectification.book.calendar.tz)
    this_week = 0
    grades: Counter[str] = Counter()
    trend: list[tuple[datetime, float, bool]] = []
    for pid in project_ids:
        try:
            page = await checklists.list(
                actor, project_id=pid, status="submitted", submitted_from=start, submitted_to=end, limit=1
            )
            summary = await checklists.project_summary(actor, pid)
        except (Forbidden, NotFound):  # not this user's side of that project
            continue
        this_week += page.total
        grades.update(summary.by_grade)
        trend += [(p.submitted_at, p.total, p.grade == FAILED) for p in summary.trend if p.total is not None]
    trend.sort()
    points = [(at.astimezone(services.rectification.book.calendar.tz).strftime("%m-%d"), v) for at, v, _ in trend]
    failed = [f for _, _, f in trend]
    return [
        {
            "key": "inspections-week",
            "title": f"本周检查 {this_week} 次 · 累计等级分布",
            "chart": columns([(g, grades.get(g, 0), colour) for g, colour in GRADES], "检查评定等级分布"),
            "rows": [],
            "empty": "",
        },
        {
            "key": "score-trend",
            "title": "检查得分趋势",
            "chart": line(
                points[-TREND_POINTS:],
                "检查得分趋势",
                guides=[(80, "优良 80"), (70, "合格 70")],
                failed=failed[-TREND_POINTS:],
            ),
            "rows": [],
            "empty": "",
        },
    ]


async def sample_panels(services: Services, actor: Actor) -> list[dict[str, Any]]:
    samples = optional(services, "samples")
    if samples is None:
        return []
    page = await samples.list_batches(actor, flagged=True, limit=10)
    rows = [
        {
            "title": f"{b.material_name} {b.specification} · 批号 {b.batch_number}",
            "meta": f"{b.contractor_name or ''} · 进场 {b.arrival_date.isoformat()} · 须退场",
            "url": f"/portal/orders/{b.rectification_order_id}" if b.rectification_order_id else "",
        }
        for b in page.items
    ]
    return [
        {
            "key": "failed-samples",
            "title": f"复试不合格材料 {page.total} 批",
            "chart": None,
            "rows": rows,
            "empty": "没有不合格待退场的材料批次。",
        }
    ]


async def warranty_panels(services: Services, actor: Actor, project_ids: list[UUID]) -> list[dict[str, Any]]:
    warranty = optional(services, "warranty")
    if warranty is None:
        return []
    items = []
    for pid in project_ids:
        try:
            page = await warranty.register(
                actor, pid, expiring_within_days=WARRANTY_SOON_DAYS, include_expired=False, limit=20
            )
        except (Forbidden, NotFound):
            continue
        items += page.items
    items.sort(key=lambda i: i.ends_on)
    return [
        {
            "key": "warranty-soon",
            "title": f"{WARRANTY_SOON_DAYS} 天内到期的保修 {len(items)} 项",
            "chart": None,
            "rows": [
                {
                    "title": i.work_item_name or i.work_type,
                    "meta": f"{i.contractor_name} · {i.ends_on.isoformat()} 到期 · 剩 {i.days_left} 天",
                    "url": "",
                }
                for i in items[:10]
            ],
            "empty": "近期没有到期的保修。",
        }
    ]


async def dashboard_panels(services: Services, actor: Actor, project_ids: list[UUID]) -> list[dict[str, Any]]:
    return [
        *await inspection_panels(services, actor, project_ids),
        *await sample_panels(services, actor),
        *await warranty_panels(services, actor, project_ids),
    ]


async def contractor_material(services: Services, actor: Actor) -> dict[str, Any] | None:
    """A contractor's batches still being sampled, and the samples waiting for lab results."""
    samples = optional(services, "samples")
    if samples is None:
        return None
    from inspection.samples.rules import BatchStatus  # present whenever the service is

    batches = []
    waiting = []
    for status in (BatchStatus.awaiting_sampling, BatchStatus.sampling):
        page = await samples.list_batches(actor, status=status, limit=100)
        batches += page.items
    for b in batches:
        if b.status is BatchStatus.sampling:
            detail = await samples.get_batch(actor, b.id)
            waiting += [(b, smp) for smp in detail.samples if smp.verdict.value == "pending"]
    return {"batches": batches, "waiting": waiting}


async def project_panels(services: Services, actor: Actor, project_id: UUID, app: Any) -> list[dict[str, Any]]:
    """A project's recent inspections (with their PDF when the reports are in the build), its
    grade distribution and score trend, and its warranties expiring soon."""
    from api.portal.common import INSPECTION_REPORT, report_links

    panels: list[dict[str, Any]] = []
    checklists = optional(services, "checklists")
    if checklists is not None:
        try:
            recent = await checklists.list(actor, project_id=project_id, status="submitted", limit=10)
            summary = await checklists.project_summary(actor, project_id)
        except (Forbidden, NotFound):
            recent = summary = None
        if recent is not None and summary is not None:
            tz = services.rectification.book.calendar.tz
            rows = []
            for i in recent.items:
                pdf = report_links(app, [INSPECTION_REPORT], i.id)
                rows.append(
                    {
                        "title": f"{i.template_code} · {i.grade or '—'}"
                        + (f" · {i.total:.1f} 分" if i.total is not None else ""),
                        "meta": i.submitted_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if i.submitted_at else "",
                        "url": pdf[0]["url"] if pdf else "",
                        "download": bool(pdf),
                    }
                )
            points = [
                (p.submitted_at.astimezone(tz).strftime("%m-%d"), p.total) for p in summary.trend if p.total is not None
            ]
            failed = [p.grade == FAILED for p in summary.trend if p.total is not None]
            panels.append(
                {
                    "key": "inspections",
                    "title": f"最近检查（共 {recent.total} 次）",
                    "chart": columns(
                        [(g, summary.by_grade.get(g, 0), colour) for g, colour in GRADES], "检查评定等级分布"
                    ),
                    "rows": rows,
                    "empty": "尚无已提交的检查。",
                }
            )
            panels.append(
                {
                    "key": "score-trend",
                    "title": "检查得分趋势",
                    "chart": line(
                        points[-TREND_POINTS:],
                        "检查得分趋势",
                        guides=[(80, "优良 80"), (70, "合格 70")],
                        failed=failed[-TREND_POINTS:],
                    ),
                    "rows": [],
                    "empty": "",
                }
            )
    panels += await warranty_panels(services, actor, [project_id])
    return panels
