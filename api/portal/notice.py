"""项目公示: a site's public page (no sign-in), reached from the QR code on the site notice board,
with the complaint form; the printable QR poster. Shows names only and nothing of anyone's
complaint, not even the sender's own after the receipt."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from api.evidence import UPLOAD_ROUTE_CEILING
from api.portal.common import Svc
from api.portal.errors import portal_error
from api.portal.forms import Form, read_form
from api.portal.templating import render
from inspection.complaints import schemas as cs
from inspection.complaints.rules import Topic
from inspection.complaints.service import MAX_PHOTOS, PhotoIn
from inspection.errors import DomainError, NotFound, RateLimited, ValidationFailed
from inspection.messages import t
from inspection.programme.survey import site_survey
from inspection.qr import qr_svg

COMPLAINT_PHOTO_LIMIT = 10 * 1024 * 1024
STAGES = {"received": "已受理，正在核实", "ordered": "已下发整改通知，施工单位整改中", "closed": "已办结"}


def notice_url(request: Request[Any, Any, Any], site_id: UUID) -> str:
    return f"{request.url.scheme}://{request.url.netloc}/portal/notice/{site_id}"


class NoticePages(Controller):
    path = "/portal/notice"

    async def _page(
        self, request: Request[Any, Any, Any], services: Any, site_id: UUID, status: int = 200, **ctx: Any
    ) -> Response[str]:
        notice = await services.complaints.notice(site_id)
        return render(
            request,
            "notice.html",
            survey=await services.programme.survey.site_results(site_id),
            survey_open=(await site_survey(site_id)).open,
            status_code=status,
            notice=notice,
            topics=list(Topic),
            max_photos=MAX_PHOTOS,
            photo_limit=COMPLAINT_PHOTO_LIMIT,
            receipt=ctx.pop("receipt", None),
            error=ctx.pop("error", None),
            form=ctx.pop("form", {}),
            **ctx,
        )

    @get("/{site_id:uuid}", name="portal-notice")
    async def notice(self, request: Request[Any, Any, Any], site_id: FromPath[UUID], services: Svc) -> Response[str]:
        return await self._page(request, services, site_id)

    @post("/{site_id:uuid}/complaints", request_max_body_size=UPLOAD_ROUTE_CEILING, status_code=200)
    async def complain(self, request: Request[Any, Any, Any], site_id: FromPath[UUID], services: Svc) -> Response[str]:
        """A resident's complaint. There is no session to bind a CSRF token to, and nothing to steal:
        the browser's Origin must be this site, and each address may send a few per hour."""
        client = request.client.host if request.client else "unknown"
        form = Form()
        try:
            origin = request.headers.get("origin")
            if origin and origin != "null" and origin != f"{request.url.scheme}://{request.url.netloc}":
                raise ValidationFailed(t("portal.form_was_sent_from_another_site"), field="origin")
            await services.complaints.check_rate(client)
            await services.complaints.notice(site_id)  # 404 before reading photos
            with ExitStack() as stack:
                await read_form(request, stack, max_files=MAX_PHOTOS, file_limit=COMPLAINT_PHOTO_LIMIT, into=form)
                try:
                    topic = Topic(form.get("topic") or Topic.other.value)
                except ValueError:
                    raise ValidationFailed(t("portal.choose_one_topics"), field="topic") from None
                work_raw = form.get("work_item_id")
                try:
                    work_item_id = UUID(work_raw) if work_raw else None
                except ValueError:
                    raise ValidationFailed(t("portal.choose_work_from_list"), field="work_item_id") from None
                data = cs.ComplaintIn(
                    topic=topic, text=form.get("text"), contact=form.get("contact"), work_item_id=work_item_id
                )
                photos = [PhotoIn(sha256=f.sha256, size=f.size, name=f.filename, chunks=f.chunks) for f in form.files]
                receipt = await services.complaints.submit(site_id, data, photos)
        except DomainError as exc:
            if exc.status == 404:
                raise
            response = await self._page(
                request,
                services,
                site_id,
                status=exc.status,
                error=portal_error(exc),
                form=form.fields,
            )
            if isinstance(exc, RateLimited):
                response.headers["Retry-After"] = str(exc.retry_after)
            return response
        return await self._page(request, services, site_id, receipt=receipt)

    @get("/{site_id:uuid}/progress", name="portal-notice-progress")
    async def progress(
        self,
        request: Request[Any, Any, Any],
        site_id: FromPath[UUID],
        services: Svc,
        reference: FromQuery[str | None] = None,
    ) -> Response[str]:
        """进度查询: a reference number answers with its complaint's stage and date, never its words."""
        ref = (reference or "").strip()[:20]
        found, error, status = None, None, 200
        if ref:
            client = request.client.host if request.client else "unknown"
            try:
                found = await services.complaints.progress(site_id, ref, client)
            except NotFound as exc:
                if exc.field != "reference":
                    raise  # no such site: the page itself does not exist
                error, status = "没有找到这个受理编号，请核对后再查（编号为 8 位字母和数字）。", 404
            except RateLimited as exc:
                response = await self._page(
                    request, services, site_id, status=429, lookup_ref=ref, lookup_error=portal_error(exc)
                )
                response.headers["Retry-After"] = str(exc.retry_after)
                return response
        return await self._page(
            request,
            services,
            site_id,
            status=status,
            lookup_ref=ref,
            lookup=found,
            lookup_stage=STAGES.get(found.stage, "") if found else "",
            lookup_error=error,
        )

    @get("/{site_id:uuid}/poster", name="portal-notice-poster")
    async def poster(self, request: Request[Any, Any, Any], site_id: FromPath[UUID], services: Svc) -> Response[str]:
        """A4 poster for the notice board: the site's name and the QR code of its public page."""
        notice = await services.complaints.notice(site_id)
        url = notice_url(request, site_id)
        return render(request, "poster.html", notice=notice, url=url, qr=qr_svg(url))

    @get("/{site_id:uuid}/qr.svg", name="portal-notice-qr")
    async def qr(self, request: Request[Any, Any, Any], site_id: FromPath[UUID], services: Svc) -> Response[bytes]:
        await services.complaints.notice(site_id)
        return Response(
            content=str(qr_svg(notice_url(request, site_id))).encode(),
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=3600"},
        )
