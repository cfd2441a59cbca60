"""Read-only use cases of rectification and stop-work orders: one order with its responses,
history and stops, the list (overdue first), the counts per contractor, a project's stops.
`RectificationService` (service.py) builds on `RectificationQueries` and answers with its views of
what it wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from inspection import deadlines
from inspection.actor import Actor
from inspection.clock import Clock
from inspection.errors import NotFound, ValidationFailed
from inspection.evidence import links
from inspection.messages import t
from inspection.projects.access import project_access
from inspection.records import retry_races
from inspection.rectification import schemas as s
from inspection.rectification.access import order_access, visible_where
from inspection.rectification.rulebook import default_rulebook
from inspection.rectification.rules import (
    AWAITING_CONTRACTOR,
    OrderFacts,
    OrderKind,
    OrderState,
    RuleBook,
    Severity,
    answered_late,
    is_overdue,
    tally,
)
from inspection.rectification.stops import stop_out
from inspection.rectification.tables import (
    OrderEvent,
    OrderResponse,
    RectificationNotice,
    RectificationOrder,
    WorkStop,
)
from inspection.settings import Settings

ORDER_TABLE = RectificationOrder._meta.tablename
RESPONSE_TABLE = OrderResponse._meta.tablename
RO = RectificationOrder
RN = RectificationNotice


def _utc(value: datetime | None) -> datetime | None:
    """Stored in UTC so both engines compare deadlines the same way; naive input is refused earlier."""
    return value.astimezone(UTC) if value is not None and value.tzinfo is not None else value


def _photo(p: links.EvidenceInfo) -> s.PhotoOut:
    return s.PhotoOut(sha256=p.sha256, status=p.status, pending=p.status != "stored", content_type=p.content_type)


async def _page_segments(segments: list[Any], limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """One page across queries shown one after another (each sorted by deadline): an ORDER BY
    with a CASE on the server's time would need engine-specific SQL."""
    rows: list[dict[str, Any]] = []
    total = 0
    skip, want = offset, limit
    for where in segments:
        n = await RO.count().where(where)
        total += n
        if want > 0 and skip < n:
            part = await (
                RO.select(
                    *RO.all_columns(),
                    RO.contractor.name.as_alias("contractor_name"),
                    RO.notice.number.as_alias("notice_number"),
                )
                .where(where)
                .order_by(RO.deadline)
                .order_by(RO.updated_at)
                .order_by(RO.id)
                .limit(want)
                .offset(skip)
            )
            rows += part
            want -= len(part)
        skip = max(0, skip - n)
    return rows, total


@retry_races
class RectificationQueries:
    """What orders look like to someone who may read them."""

    def __init__(self, settings: Settings, clock: Clock, book: RuleBook | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.book = book or default_rulebook()

    async def _latest_response(self, order_id: UUID) -> dict[str, Any] | None:
        return await (  # type: ignore[no-any-return]
            OrderResponse.select()
            .where((OrderResponse.order == order_id) & OrderResponse.deleted.eq(False))
            .order_by(OrderResponse.round, ascending=False)
            .first()
        )

    async def get_order(self, actor: Actor, order_id: UUID) -> s.OrderDetail:
        order = (
            await RO.select(
                *RO.all_columns(),
                RO.contractor.name.as_alias("contractor_name"),
                RO.notice.number.as_alias("notice_number"),
            )
            .where(RO.id == order_id)
            .first()
        )
        await order_access(actor, order, order_id)
        assert order is not None
        now = self.clock.now()
        responses = await (
            OrderResponse.select()
            .where((OrderResponse.order == order_id) & OrderResponse.deleted.eq(False))
            .order_by(OrderResponse.round)
        )
        photos = await links.linked(ORDER_TABLE, [order_id])
        response_photos = await links.linked(RESPONSE_TABLE, [r["id"] for r in responses])
        history = await OrderEvent.select().where(OrderEvent.order == order_id).order_by(OrderEvent.version)
        stops = await WorkStop.select().where(WorkStop.order == order_id).order_by(WorkStop.started_at)
        return s.OrderDetail(
            order=self._order_out(order, now, photos.get(order_id, [])),
            responses=[
                s.from_row(
                    r,
                    s.ResponseOut,
                    late=answered_late(
                        r["responded_at"],
                        self._deadline_at(order, r, history) if order["deadline"] is not None else None,
                        device_responded_at=r["device_responded_at"],
                        device_clock_skew_ms=r["device_clock_skew_ms"],
                        grace=timedelta(hours=self.settings.rectification.offline_answer_grace_hours),
                    ),
                    photos=[_photo(p) for p in response_photos.get(r["id"], [])],
                )
                for r in responses
            ],
            history=[s.from_row(e, s.EventOut) for e in history],
            stops=[stop_out(st) for st in stops],
        )

    @staticmethod
    def _deadline_at(order: dict[str, Any], response: dict[str, Any], history: list[dict[str, Any]]) -> datetime:
        """The deadline that was in force when the response came in."""
        deadline = order["deadline"]
        for event in history:
            if event["deadline"] is not None and event["at"] <= response["responded_at"]:
                deadline = event["deadline"]
        return deadline  # type: ignore[no-any-return]

    @staticmethod
    def _order_out(order: dict[str, Any], now: datetime, photos: list[links.EvidenceInfo]) -> s.OrderOut:
        return s.from_row(  # type: ignore[no-any-return]
            order,
            s.OrderOut,
            overdue=is_overdue(OrderState(order["status"]), order["deadline"], now),
            photos=[_photo(p) for p in photos],
        )

    async def list_orders(
        self,
        actor: Actor,
        *,
        project_id: UUID | None = None,
        status: OrderState | None = None,
        kind: OrderKind | None = None,
        severity: Severity | None = None,
        contractor_id: UUID | None = None,
        overdue: bool | None = None,
        due_before: str | datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> s.OrderPage:
        """Overdue orders first, then by deadline (soonest first), then drafts without one."""
        if not 1 <= limit <= 500:
            raise ValidationFailed(t("rectification.limit_must_from_1_500"), field="limit")
        if offset < 0:
            raise ValidationFailed(t("rectification.offset_must_not_negative"), field="offset")
        due_before = deadlines.bound(due_before, self.clock.tz, field="due_before", upper=True)
        if due_before is not None and due_before.tzinfo is None:
            raise ValidationFailed(t("rectification.give_due_before_time_zone_offset"), field="due_before")
        now = self.clock.now()
        where = await visible_where(actor)
        if where is None:
            return s.OrderPage(items=[], total=0, limit=limit, offset=offset)
        if project_id is not None:
            await project_access(actor, project_id)
            where &= RO.project == project_id
        if status is not None:
            where &= RO.status == status.value
        if kind is not None:
            where &= RO.kind == kind.value
        if severity is not None:
            where &= RO.severity == severity.value
        if contractor_id is not None:
            where &= RO.contractor == contractor_id
        if due_before is not None:
            where &= RO.deadline < _utc(due_before)
        late = RO.status.is_in([st.value for st in AWAITING_CONTRACTOR]) & (RO.deadline < now)
        on_time = (
            RO.status.not_in([st.value for st in AWAITING_CONTRACTOR]) | (RO.deadline >= now)
        ) & RO.deadline.is_not_null()
        segments: list[Any] = []
        if overdue is not False:
            segments.append(where & late)
        if overdue is not True:
            segments += [where & on_time, where & RO.deadline.is_null()]
        rows, total = await _page_segments(segments, limit, offset)
        photos = await links.linked(ORDER_TABLE, [r["id"] for r in rows])
        return s.OrderPage(
            items=[self._order_out(r, now, photos.get(r["id"], [])) for r in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    async def get_notice(self, actor: Actor, notice_id: UUID) -> s.NoticeDetail:
        """A 整改通知单 and its orders, for whoever may read its orders (404 for anyone else)."""
        notice = (
            await RN.select(*RN.all_columns(), RN.contractor.name.as_alias("contractor_name"))
            .where((RN.id == notice_id) & RN.deleted.eq(False))
            .first()
        )
        if notice is not None:
            try:
                access = await project_access(actor, notice["project"])
            except NotFound:
                notice = None
            else:
                if access.contractor_only and notice["contractor"] != access.organisation_id:
                    notice = None
        if notice is None:
            raise NotFound(t("rectification.notice_does_not_exist", notice_id=notice_id))
        rows = await (
            RO.select(
                *RO.all_columns(),
                RO.contractor.name.as_alias("contractor_name"),
                RO.notice.number.as_alias("notice_number"),
            )
            .where((RO.notice == notice_id) & RO.deleted.eq(False))
            .order_by(RO.description)
            .order_by(RO.id)
        )
        now = self.clock.now()
        photos = await links.linked(ORDER_TABLE, [r["id"] for r in rows])
        return s.NoticeDetail(
            notice=s.from_row(notice, s.NoticeOut),
            orders=[self._order_out(r, now, photos.get(r["id"], [])) for r in rows],
        )

    async def counts(
        self, actor: Actor, project_id: UUID | None = None, contractor_id: UUID | None = None
    ) -> s.CountsOut:
        where = await visible_where(actor)
        if project_id is not None:
            await project_access(actor, project_id)
        empty = s.Counts(open=0, overdue=0, closed=0, cancelled=0, drafts=0, average_days_to_close=None)
        if where is None:
            return s.CountsOut(project_id=project_id, totals=empty, contractors=[])
        if project_id is not None:
            where &= RO.project == project_id
        if contractor_id is not None:
            where &= RO.contractor == contractor_id
        rows = await RO.select(
            RO.status,
            RO.deadline,
            RO.issued_at,
            RO.closed_at,
            RO.contractor,
            RO.contractor.name.as_alias("contractor_name"),
        ).where(where)
        now = self.clock.now()

        def facts(items: list[dict[str, Any]]) -> list[OrderFacts]:
            return [OrderFacts(OrderState(r["status"]), r["deadline"], r["issued_at"], r["closed_at"]) for r in items]

        by_contractor: dict[UUID, list[dict[str, Any]]] = {}
        for r in rows:
            by_contractor.setdefault(r["contractor"], []).append(r)
        contractors = [
            s.ContractorCounts(
                contractor_id=cid,
                contractor_name=items[0]["contractor_name"],
                **vars(tally(facts(items), now)),
            )
            for cid, items in sorted(by_contractor.items(), key=lambda kv: kv[1][0]["contractor_name"] or "")
        ]
        return s.CountsOut(
            project_id=project_id, totals=s.Counts(**vars(tally(facts(rows), now))), contractors=contractors
        )

    async def list_stops(
        self,
        actor: Actor,
        project_id: UUID,
        site_id: UUID | None = None,
        work_item_id: UUID | None = None,
        active_only: bool = False,
    ) -> s.StopPage:
        """A project's stops (history included unless active_only); a contractor sees its own."""
        access = await project_access(actor, project_id)
        where: Any = (WorkStop.project == project_id) & WorkStop.deleted.eq(False)
        if site_id is not None:
            where &= WorkStop.site == site_id
        if work_item_id is not None:
            where &= WorkStop.work_item == work_item_id
        if active_only:
            where &= WorkStop.resumed_at.is_null()
        if access.contractor_only:
            where &= WorkStop.contractor == access.organisation_id
        rows = await WorkStop.select().where(where).order_by(WorkStop.started_at, ascending=False)
        return s.StopPage(items=[stop_out(r) for r in rows])
