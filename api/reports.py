"""PDF reports over HTTP, and the public page that verifies a printed report's QR code."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from api.deps import PROVIDERS, ReportsDep
from api.errors import PROBLEM_MEDIA_TYPE
from inspection.actor import Actor
from inspection.errors import ValidationFailed
from inspection.messages import t
from inspection.reports import rules
from inspection.reports.render import environment
from inspection.reports.service import Prepared, Rendered, ReportsService

Me = NamedDependency[Actor]
PDF = "application/pdf"
log = logging.getLogger("siteinspect.reports")
# What a PDF route answers besides the common problems (api/openapi.py adds those)
RENDER_PROBLEMS = {
    "responses": {
        504: {
            "description": "the render took longer than reports.render_timeout_s and was stopped",
            "content": {PROBLEM_MEDIA_TYPE: {"$ref": "#/components/schemas/Problem"}},
        }
    }
}


class ReplyOrNotice(StrEnum):
    notice = "notice"  # 整改通知单
    reply = "reply"  # 整改回复单


def pdf_id(segment: str, field: str) -> UUID:
    """The record's UUID from `<uuid>.pdf` (or a bare `<uuid>`): Litestar's path parameters take
    whole segments, so the suffix is parsed here."""
    try:
        return UUID(segment.removesuffix(".pdf"))
    except ValueError:
        raise ValidationFailed(t("api.expected_id_pdf_record_s_uuid"), field=field) from None


def _etag_matches(request: Request[Any, Any, Any], etag: str) -> bool:
    wanted = request.headers.get("if-none-match", "")
    return wanted.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in wanted.split(",")]


def _pdf_response(rendered: Rendered) -> Response[bytes]:
    return Response(
        content=rendered.pdf,
        media_type=PDF,
        headers={
            "Content-Disposition": rules.content_disposition(rendered.filename, rendered.fallback_filename),
            "ETag": rendered.etag,
            # the document may show what only this user may read: no shared caches
            "Cache-Control": "private, no-cache",
            "X-Document-Number": rendered.number,
        },
    )


async def _client_gone(request: Request[Any, Any, Any]) -> None:
    """Returns once the client has closed the connection (a GET's empty body is read first)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _while_connected(request: Request[Any, Any, Any], work: Awaitable[Rendered]) -> Rendered | None:
    """`work` run to its end; or cancelled, which kills its render, as soon as the client leaves
    (None then: nobody is left to answer) or this request is cancelled (the server stopping)."""
    job = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(_client_gone(request))
    try:
        await asyncio.wait({job, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        left = not job.done()
        if left:
            job.cancel()
    if left:
        log.info("client left before its report was rendered: render stopped")
        return None
    return job.result()


async def _answer(
    request: Request[Any, Any, Any], actor: Actor, reports: ReportsService, prepared: Prepared
) -> Response[Any]:
    """304 when the client holds this very document (nothing rendered), else the PDF."""
    if _etag_matches(request, prepared.etag):
        return Response(
            content=b"",
            status_code=HTTP_304_NOT_MODIFIED,
            headers={"ETag": prepared.etag, "Cache-Control": "private, no-cache"},
        )
    rendered = await _while_connected(request, reports.issue(actor, prepared))
    if rendered is None:
        # nginx's "client closed request": seen in the logs only, the connection is gone
        return Response(content=b"", status_code=499)
    return _pdf_response(rendered)


class ReportController(Controller):
    path = "/reports"
    dependencies = {"reports": PROVIDERS["reports"]}
    tags = ["reports"]

    @get(
        "/rectification/{order_id:str}",
        operation_id="rectification_report_pdf",
        media_type=PDF,
        response_description="the PDF",
        opt=RENDER_PROBLEMS,
    )
    async def rectification(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[str],
        actor: Me,
        reports: ReportsDep,
        kind: FromQuery[ReplyOrNotice] = ReplyOrNotice.notice,
    ) -> Response[Any]:
        """`/rectification/{order_id}.pdf`: 整改通知单 (`kind=notice`, the default) or 整改回复单
        (`kind=reply`) of one order, with its before and after photos. Whoever may read the order
        may print it; others get 404."""
        prepared = await reports.rectification(actor, pdf_id(order_id, "order_id"), kind.value)
        return await _answer(request, actor, reports, prepared)

    @get(
        "/projects/{project_id:uuid}/weekly.pdf", operation_id="project_weekly_pdf", media_type=PDF, opt=RENDER_PROBLEMS
    )
    async def project_weekly(
        self,
        request: Request[Any, Any, Any],
        project_id: FromPath[UUID],
        actor: Me,
        reports: ReportsDep,
        week: FromQuery[date | None] = None,
    ) -> Response[Any]:
        """周报 of a project: the week (Monday to Sunday, Beijing time) holding `week` (default:
        today). A contractor's copy shows its own orders only."""
        return await _answer(request, actor, reports, await reports.weekly(actor, project_id, week))

    @get("/programmes/weekly.pdf", operation_id="programme_weekly_pdf", media_type=PDF, opt=RENDER_PROBLEMS)
    async def programme_weekly(
        self,
        request: Request[Any, Any, Any],
        actor: Me,
        reports: ReportsDep,
        district: Annotated[str, QueryParameter(min_length=1, max_length=100)],
        year: Annotated[int, QueryParameter(ge=2000, le=2100)],
        week: FromQuery[date | None] = None,
    ) -> Response[Any]:
        """周报 of a programme: the projects of one district and year that the user belongs to."""
        prepared = await reports.programme_weekly(actor, district, year, week)
        return await _answer(request, actor, reports, prepared)

    @get("/inspections/{inspection_id:str}", operation_id="inspection_report_pdf", media_type=PDF, opt=RENDER_PROBLEMS)
    async def inspection(
        self,
        request: Request[Any, Any, Any],
        inspection_id: FromPath[str],
        actor: Me,
        reports: ReportsDep,
    ) -> Response[Any]:
        """`/inspections/{inspection_id}.pdf`: 检查记录表 of a submitted inspection — every item with its
        result and note, the JGJ 59 sub-table score or the GB 50300 lot verdict, the failed items with
        their photos, the signatures."""
        prepared = await reports.inspection(actor, pdf_id(inspection_id, "inspection_id"))
        return await _answer(request, actor, reports, prepared)

    @get(
        "/projects/{project_id:uuid}/ledger.pdf", operation_id="project_ledger_pdf", media_type=PDF, opt=RENDER_PROBLEMS
    )
    async def ledger(
        self,
        request: Request[Any, Any, Any],
        project_id: FromPath[UUID],
        actor: Me,
        reports: ReportsDep,
        date_from: Annotated[date | None, QueryParameter(name="from", description="arrived on or after")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to", description="arrived on or before")] = None,
    ) -> Response[Any]:
        """材料进场及取样送检台账: batches arrived in the range, their samples and verdicts, the witness share."""
        prepared = await reports.ledger(actor, project_id, date_from, date_to)
        return await _answer(request, actor, reports, prepared)

    @get(
        "/projects/{project_id:uuid}/warranty.pdf",
        operation_id="project_warranty_pdf",
        media_type=PDF,
        opt=RENDER_PROBLEMS,
    )
    async def warranty(
        self,
        request: Request[Any, Any, Any],
        project_id: FromPath[UUID],
        actor: Me,
        reports: ReportsDep,
    ) -> Response[Any]:
        """保修登记表: every warranty item with its period and the days left (today, Beijing time)."""
        return await _answer(request, actor, reports, await reports.warranty_register(actor, project_id))

    @get("/acceptances/{acceptance_id:str}", operation_id="acceptance_report_pdf", media_type=PDF, opt=RENDER_PROBLEMS)
    async def acceptance(
        self,
        request: Request[Any, Any, Any],
        acceptance_id: FromPath[str],
        actor: Me,
        reports: ReportsDep,
    ) -> Response[Any]:
        """`/acceptances/{acceptance_id}.pdf`: 竣工联合验收记录 with the participants and their signatures."""
        prepared = await reports.acceptance(actor, pdf_id(acceptance_id, "acceptance_id"))
        return await _answer(request, actor, reports, prepared)


class VerificationOut(msgspec.Struct, kw_only=True):
    number: str
    issued: bool
    issued_at: datetime | None


Hash = Annotated[str, QueryParameter(name="h", max_length=64, description="the content SHA-256 printed in the QR code")]


class VerifyController(Controller):
    """Public: reached by scanning a printed report's QR code, without signing in."""

    path = "/verify"
    dependencies = {"reports": PROVIDERS["reports"]}
    tags = ["reports"]

    @get(
        "/{number:str}",
        operation_id="verify_document",
        opt={
            "public": True,
            "responses": {
                200: {
                    "description": "the verdict: an HTML page, or JSON when asked (Accept: application/json)",
                    "content": {"text/html": {"type": "string"}, "application/json": VerificationOut},
                }
            },
        },
    )
    async def verify(
        self,
        request: Request[Any, Any, Any],
        number: FromPath[str],
        reports: ReportsDep,
        h: Hash = "",
    ) -> Response[Any]:
        """Whether a document with this number and this content hash was issued, and when. Never
        its content, kind or subject. HTML for people, JSON when asked (`Accept: application/json`)."""
        result = await reports.verify(number, h)
        body = VerificationOut(number=result.number, issued=result.issued, issued_at=result.issued_at)
        headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
        if "application/json" in request.headers.get("accept", ""):
            return Response(content=body, headers=headers)
        html = environment().get_template("verify.html").render(result=body)
        # Litestar adds the charset to text/* itself; naming it here sent it twice
        return Response(content=html, media_type=MediaType.HTML, headers=headers)
