"""Use cases of the reports: prepare a report (check the right to it, load its data, cut texts
longer than the API accepts, hash it), issue it (register its number, embed the thumbnails,
render the PDF in the render pool, under its time limit), and answer the public verification page.

    prepared = await reports.rectification(actor, order_id, "notice")
    if request_etag == prepared.etag: ...304...
    rendered = await reports.issue(actor, prepared)

Splitting the two lets the API answer a matching If-None-Match without rendering anything.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import date, datetime
from uuid import UUID

from inspection.actor import Actor
from inspection.checklists.queries import ChecklistQueries
from inspection.clock import Clock
from inspection.evidence.store import ObjectStore, build_store
from inspection.records import retry_races
from inspection.rectification.queries import RectificationQueries
from inspection.rectification.tables import RectificationOrder
from inspection.reports import register, rules
from inspection.reports.loaders.base import ReportData
from inspection.reports.loaders.inspection import load_inspection
from inspection.reports.loaders.ledger import load_ledger
from inspection.reports.loaders.rectification import KINDS, Which, load_rectification
from inspection.reports.loaders.warranty import load_acceptance, load_warranty_register
from inspection.reports.loaders.weekly import load_programme_weekly, load_project_weekly
from inspection.reports.pool import RenderPool
from inspection.reports.render import DocumentHead, load_thumbnails, qr_svg, templates_digest
from inspection.samples.queries import SampleQueries
from inspection.settings import Settings
from inspection.warranty.service import WarrantyService


@dataclass(frozen=True)
class Prepared:
    data: ReportData
    content_sha256: str
    etag: str  # quoted, as HTTP sends it


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    number: str
    issued_at: datetime
    filename: str
    fallback_filename: str
    etag: str
    content_sha256: str


@retry_races
class ReportsService:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        store: ObjectStore | None = None,
        renderer: RenderPool | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store or build_store(settings)
        self.rectification_service = RectificationQueries(settings, clock)
        self.checklists_service = ChecklistQueries(settings, clock)
        self.samples_service = SampleQueries(settings, clock)
        self.warranty_service = WarrantyService(settings, clock)
        self.renderer = renderer or RenderPool.shared(settings.reports)

    # Preparing: one method per report, each calling its own data loader

    def prepare(self, data: ReportData) -> Prepared:
        data = data.within_limits()
        shown = {"title": data.title, "letterhead": asdict(data.letterhead), "content": data.context}
        content = rules.content_sha256(data.kind, data.hashed if data.hashed is not None else shown)
        # the ETag follows everything printed, even where the number's hash does not
        printed = rules.content_sha256(data.kind, shown)
        tag = hashlib.sha256(f"{content}:{printed}:{templates_digest()}".encode()).hexdigest()[:32]
        return Prepared(data=data, content_sha256=content, etag=f'"{tag}"')

    async def rectification(self, actor: Actor, order_id: UUID, which: Which) -> Prepared:
        return self.prepare(await load_rectification(self.rectification_service, actor, order_id, which))

    async def weekly(self, actor: Actor, project_id: UUID, week: date | None = None) -> Prepared:
        now = self.clock.now()
        return self.prepare(
            await load_project_weekly(self.samples_service, actor, project_id, week or rules.local_day(now), now)
        )

    async def programme_weekly(self, actor: Actor, district: str, year: int, week: date | None = None) -> Prepared:
        now = self.clock.now()
        return self.prepare(
            await load_programme_weekly(self.samples_service, actor, district, year, week or rules.local_day(now), now)
        )

    async def inspection(self, actor: Actor, inspection_id: UUID) -> Prepared:
        return self.prepare(await load_inspection(self.checklists_service, actor, inspection_id))

    async def ledger(self, actor: Actor, project_id: UUID, date_from: date | None, date_to: date | None) -> Prepared:
        return self.prepare(await load_ledger(self.samples_service, actor, project_id, date_from, date_to))

    async def warranty_register(self, actor: Actor, project_id: UUID) -> Prepared:
        return self.prepare(await load_warranty_register(self.warranty_service, actor, project_id))

    async def acceptance(self, actor: Actor, acceptance_id: UUID) -> Prepared:
        return self.prepare(await load_acceptance(self.warranty_service, actor, acceptance_id))

    # Issuing

    async def issue(self, actor: Actor, prepared: Prepared) -> Rendered:
        """Register and render; ReportsBusy (503) before any of that when the render queue is full,
        RenderTimedOut (504) past reports.render_timeout_s. Cancelling it stops the render."""
        self.renderer.check_capacity()
        data = prepared.data
        issued = await register.register(
            actor, self.clock, data.kind, data.subject_id, data.project_id, prepared.content_sha256
        )
        url = rules.verification_url(self.settings.public_base_url, issued.number, prepared.content_sha256)
        doc = DocumentHead(
            title=data.title,
            number=issued.number,
            issued_at=issued.issued_at,
            content_sha256=prepared.content_sha256,
            verify_url=url,
            qr=qr_svg(url),
            letterhead=data.letterhead,
        )
        thumbnails = await load_thumbnails(self.store, data.thumbnails)
        template = rules.kind_info(data.kind).template
        pdf = await self.renderer.pdf(template, doc, data.context, thumbnails)
        return Rendered(
            pdf=pdf,
            number=issued.number,
            issued_at=issued.issued_at,
            filename=f"{data.title}-{issued.number}.pdf",
            fallback_filename=f"{issued.number}.pdf",
            etag=prepared.etag,
            content_sha256=prepared.content_sha256,
        )

    async def number(self, actor: Actor, prepared: Prepared) -> register.Issued:
        """Register the document's number without rendering it: a notice is numbered the moment it
        goes out, and printing the same content later finds the same number."""
        data = prepared.data
        return await register.register(
            actor, self.clock, data.kind, data.subject_id, data.project_id, prepared.content_sha256
        )

    async def latest_numbers(self, kind: str, subject_ids: list[UUID]) -> dict[UUID, str]:
        return await register.latest_numbers(kind, subject_ids)

    async def notice_numbers(self, order_ids: list[UUID]) -> dict[UUID, str]:
        """The 整改通知单 number each order went out under: its notice's, when it went out with
        others; else its own notice's once numbered. Drafts have none yet."""
        if not order_ids:
            return {}
        RO = RectificationOrder
        rows = await RO.select(RO.id, RO.notice.number.as_alias("number")).where(
            RO.id.is_in(list(set(order_ids))) & RO.notice.is_not_null()
        )
        grouped = {r["id"]: r["number"] for r in rows}
        alone = [i for i in order_ids if i not in grouped]
        return {**await register.latest_numbers(KINDS["notice"], alone), **grouped}

    async def verify(self, number: str, content_sha256: str) -> register.Verification:
        return await register.verify(number, content_sha256)

    def start(self) -> None:
        """Warm the render workers (the server's start-up)."""
        self.renderer.start()

    async def close(self) -> None:
        await self.renderer.close()
