"""Jinja2 for the portal: one environment, Chinese labels for the domain's codes, times shown in
the programme's time zone, and the helpers that turn a template into a response."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect

from api.deps import services_of
from api.portal.cookies import CSRF_FIELD
from api.portal.session import queued_cookies

TEMPLATES = Path(__file__).with_name("templates")

LABELS: dict[str, dict[str, str]] = {
    "state": {
        "draft": "草稿",
        "issued": "待整改",
        "responded": "已回复待复查",
        "rejected": "退回重改",
        "closed": "已闭合",
        "cancelled": "已撤销",
    },
    "kind": {
        "quality": "质量整改",
        "safety": "安全隐患整改",
        "stop_work": "停工通知",
        "warranty": "保修整改",
    },
    "severity": {"general": "一般", "major": "重大"},
    "source": {
        "inspection_answer": "检查发现",
        "failed_sample": "材料复试不合格",
        "warranty_claim": "保修报修",
        "complaint": "居民投诉",
        "manual": "现场下发",
    },
    "action": {
        "create": "创建草稿",
        "issue": "下发",
        "respond": "施工单位回复",
        "accept": "复查通过",
        "reject": "退回重改",
        "cancel": "撤销",
        "resume": "复工",
        "escalate": "逾期提醒升级",
        "edit": "修改草稿",
    },
    "review": {"pending": "待复查", "accepted": "通过", "rejected": "退回", "cancelled": "已撤销"},
    "role": {
        "inspector": "检查员",
        "contractor": "施工单位",
        "supervisor": "监理",
        "owner": "建设单位",
        "authority": "质监站",
        "resident_supervisor": "业主监督员",
        "viewer": "查看",
    },
    "project_status": {"planning": "筹备", "active": "在建", "accepted": "已验收", "closed": "已关闭"},
    "work_status": {"planned": "未开工", "in_progress": "施工中", "completed": "已完工", "accepted": "已验收"},
    "category": {"basic": "基础类", "improvement": "完善类", "upgrade": "提升类"},
    "batch_status": {
        "awaiting_sampling": "待取样",
        "sampling": "送检中",
        "accepted": "合格",
        "rejected": "不合格",
        "disposed": "已退场",
        "treated": "已处理",
    },
    "party": {
        "owner": "建设单位",
        "contractor": "施工单位",
        "supervisor": "监理单位",
        "designer": "设计单位",
        "community": "街道或社区",
        "property": "物业",
        "resident_supervisor": "业主监督员",
        "utility": "专业经营单位",
    },
    "acceptance_result": {"passed": "通过", "failed": "不通过"},
    "claim_status": {
        "open": "待施工单位答复",
        "accepted": "施工单位已受理",
        "rejected": "施工单位有异议",
        "escalated": "已转保修整改单",
        "resolved": "已解决",
    },
    "reporter_party": {"resident": "业主监督员", "property": "物业", "owner": "建设单位"},
    "period_unit": {"years": "年", "months": "个月", "seasons": "个采暖期或供冷期"},
    "complaint_status": {"new": "待处理", "ordered": "已转整改", "dismissed": "不予处理"},
    "complaint_topic": {
        "quality": "工程质量",
        "safety": "施工安全",
        "disturbance": "噪音扬尘与扰民",
        "access": "出行与通道",
        "other": "其他",
    },
}


def label(value: Any, group: str) -> str:
    key = getattr(value, "value", value)
    return LABELS.get(group, {}).get(str(key), str(key) if key is not None else "")


def make_environment(tz: tzinfo) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(tz).strftime(fmt) if value else "—"

    def day(value: datetime | date | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            value = value.astimezone(tz).date()
        return value.isoformat()

    def last_day(value: datetime | None) -> str:
        """The day a deadline kept as "the first instant after that day" belongs to."""
        return day(value - timedelta(microseconds=1)) if value else "—"

    env.filters["label"] = label
    env.filters["when"] = when
    env.filters["last_day"] = last_day
    env.filters["day"] = day
    env.filters["urlquote"] = lambda v: quote(str(v), safe="")
    env.globals["CSRF_FIELD"] = CSRF_FIELD
    return env


_ENVS: dict[str, Environment] = {}


def environment(request: Request[Any, Any, Any]) -> Environment:
    tz = services_of(request).rectification.book.calendar.tz
    key = str(tz)
    if key not in _ENVS:
        _ENVS[key] = make_environment(tz)
    return _ENVS[key]


def render(
    request: Request[Any, Any, Any],
    template: str,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Response[str]:
    context.setdefault("viewer", getattr(request.state, "viewer", None))
    context.setdefault("path", request.url.path)
    html = environment(request).get_template(template).render(**context)
    return Response(
        content=html,
        status_code=status_code,
        media_type="text/html; charset=utf-8",
        cookies=[*queued_cookies(request), *(cookies or [])],
        headers={"Cache-Control": "no-store"},
    )


def redirect(request: Request[Any, Any, Any], to: str, cookies: list[Cookie] | None = None) -> Redirect:
    """303 after a form post, so a reload does not send it twice."""
    return Redirect(path=to, status_code=303, cookies=[*queued_cookies(request), *(cookies or [])])
