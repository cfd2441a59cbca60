"""How the portal answers errors: a page in Chinese, or the login page when nobody is signed in."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException

from api.errors import EXCEPTION_HANDLERS as API_HANDLERS
from api.portal.session import SignInRequired
from api.portal.templating import redirect, render
from inspection.errors import DomainError, RateLimited, TooLarge

log = logging.getLogger("siteinspect.portal")

TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "无权进行此操作",
    404: "未找到",
    405: "不支持的操作",
    409: "状态已变化",
    413: "文件过大",
    415: "文件类型不支持",
    422: "填写有误",
    429: "操作过于频繁",
    503: "服务暂不可用",
}


# The services speak English (they also serve the API); the portal adds a Chinese headline and
# keeps the detail, which names the field and the reason.
def title_for(status: int) -> str:
    return TITLES.get(status, "出错了")


def portal_error(exc: DomainError) -> str:
    """The line a form shows above itself when it comes back refused. A photo over the size limit
    is said in Chinese in full, since a phone user cannot act on a byte count in English."""
    limit = exc.extra.get("limit") if isinstance(exc, TooLarge) else None
    if limit and exc.field == "photos":
        mb = limit / 1024 / 1024
        return (
            f"{title_for(exc.status)}：照片超过 {mb:g} MB 的上限，未能提交。您填写的文字已保留，"
            "请换一张较小的照片（或在手机相机设置中降低分辨率）后再提交。"
        )
    return f"{title_for(exc.status)}：{exc.detail}"


def error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, SignInRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(request, f"/portal/login?next={quote(target, safe='')}")
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        status, detail = exc.status, exc.detail
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, HTTPException):
        status, detail = exc.status_code, str(exc.detail)
    else:
        log.exception("portal page failed", exc_info=exc)
        status, detail = 500, "服务器内部错误，已记录。请稍后再试。"
    response = render(request, "error.html", status_code=status, title=title_for(status), detail=detail)
    response.headers.update(headers)
    return response


# The same keys as the API's handlers (api/errors.py), so these, set on the portal's router,
# win over the app's for every kind of error a page can meet.
EXCEPTION_HANDLERS: dict[Any, Any] = {key: error_page for key in API_HANDLERS}
