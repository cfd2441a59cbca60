"""Use cases for rectification and stop-work orders: open, issue, respond, accept, reject, cancel,
resume, escalate, and the queries around them. One transaction each; rights checked here.

For other domains (checklists, samples, warranty), one call opens an order from inside their own
transaction, so the order and the record that raised it commit together or not at all:

    from inspection.rectification.service import OrderSpec, open_order

    async with write(actor, clock) as w:
        answer = await w.insert(...)                      # your own record
        order = await open_order(w, actor, OrderSpec(
            project_id=..., kind=OrderKind.quality, severity=Severity.general,
            source=Source.inspection_answer, source_table="inspection_answer", source_id=answer["id"],
            description="...", work_item_id=..., photos=[sha256, ...], issue=True,
        ))

`issue=False` saves a draft the inspector reviews and issues later; the acting user must hold an
issuing role in the project (SYSTEM may open drafts only). It raises the same ValidationFailed /
Forbidden / NotFound as the API. And to show a stop on a site or work item:

    from inspection.rectification.service import active_stops
    stops = await active_stops(work_item_id=...)           # or site_id= / project_id=

Concurrency: every move re-reads the order inside the write transaction, which already holds the
change counter's lock (writers queue on it, on SQLite and PostgreSQL alike), and writes with the
version it read as a compare-and-set; of two people acting at once the second finds the new state
and gets 409.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID

from inspection import deadlines
from inspection.actor import SYSTEM, Actor
from inspection.clock import Clock, FixedClock
from inspection.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed, VersionConflict
from inspection.evidence import links
from inspection.messages import t
from inspection.notifications import feed as outbox
from inspection.notifications import schemas as ns
from inspection.projects.access import ProjectAccess, project_access
from inspection.projects.rules import WORK_PARTY_KINDS, Role
from inspection.projects.tables import Building, Membership, Organisation, Site, WorkItem
from inspection.records import Write, new_id, retry_races, write
from inspection.rectification import escalation, notices
from inspection.rectification import schemas as s
from inspection.rectification.access import may_read_order, may_read_response, order_access, party, visible_where
from inspection.rectification.history import order_buckets, record_event
from inspection.rectification.rules import (
    AWAITING_CONTRACTOR,
    ISSUING_ROLES,
    Action,
    MoveRefused,
    OrderFacts,
    OrderKind,
    OrderState,
    Party,
    RuleBook,
    Severity,
    Source,
    answered_late,
    choose_deadline,
    deadline_problem,
    decide,
    is_overdue,
    parse_rulebook,
    rule_deadline,
    tally,
)
from inspection.rectification.stops import StopInfo, active_stops, end_stops, start_stop, stop_out
from inspection.rectification.tables import OrderEvent, OrderResponse, RectificationOrder, WorkStop
from inspection.settings import Settings

ORDER_TABLE = RectificationOrder._meta.tablename
RESPONSE_TABLE = OrderResponse._meta.tablename
RULES_FILE = Path(__file__).with_name("rules.toml")

RO = RectificationOrder


def load_rulebook(path: Path = RULES_FILE) -> RuleBook:
    return parse_rulebook(tomllib.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def default_rulebook() -> RuleBook:
    return load_rulebook()


def _utc(value: datetime | None) -> datetime | None:
    """Stored in UTC so both engines compare deadlines the same way; naive input is refused earlier."""
    return value.astimezone(UTC) if value is not None and value.tzinfo is not None else value


@dataclass
class OrderSpec:
    """What another domain (or the API) asks for when it opens an order."""

    project_id: UUID
    kind: OrderKind
    description: str
    severity: Severity = Severity.general
    source: Source = Source.manual
    source_table: str | None = None
    source_id: UUID | None = None
    site_id: UUID | None = None
    building_id: UUID | None = None
    work_item_id: UUID | None = None
    contractor_id: UUID | None = None
    photos: Sequence[str] = field(default_factory=list)
    deadline: datetime | None = None
    deadline_reason: str = ""
    issue: bool = False
    id: UUID | None = None


# Opening an order


async def _contractor_on_project(project_id: UUID, org_id: UUID) -> bool:
    members = await Membership.exists().where(
        (Membership.project == project_id)
        & (Membership.role == Role.contractor.value)
        & (Membership.user.organisation == org_id)
        & Membership.deleted.eq(False)
    )
    if members:
        return True
    return await WorkItem.exists().where(
        (WorkItem.project == project_id) & (WorkItem.contractor == org_id) & WorkItem.deleted.eq(False)
    )


async def _where(spec: OrderSpec) -> tuple[UUID | None, UUID | None, UUID | None, UUID | None]:
    """Check the site, building and work item belong together; fill the site from the others.
    Returns (site, building, work item, the work item's contractor)."""
    site_id, building_id, work_contractor = spec.site_id, spec.building_id, None
    if spec.work_item_id is not None:
        item = (
            await WorkItem.select(WorkItem.project, WorkItem.site, WorkItem.building, WorkItem.contractor)
            .where((WorkItem.id == spec.work_item_id) & WorkItem.deleted.eq(False))
            .first()
        )
        if item is None or item["project"] != spec.project_id:
            raise ValidationFailed(t("rectification.work_item_not_part_project"), field="work_item_id")
        if site_id is not None and site_id != item["site"]:
            raise ValidationFailed(t("rectification.work_item_not_site"), field="work_item_id")
        site_id = item["site"]
        building_id = building_id or item["building"]
        work_contractor = item["contractor"]
    if building_id is not None:
        building = (
            await Building.select(Building.project, Building.site)
            .where((Building.id == building_id) & Building.deleted.eq(False))
            .first()
        )
        if building is None or building["project"] != spec.project_id:
            raise ValidationFailed(t("rectification.building_not_part_project"), field="building_id")
        if site_id is not None and site_id != building["site"]:
            raise ValidationFailed(t("rectification.building_not_site"), field="building_id")
        site_id = building["site"]
    if site_id is not None:
        site = await Site.select(Site.project).where((Site.id == site_id) & Site.deleted.eq(False)).first()
        if site is None or site["project"] != spec.project_id:
            raise ValidationFailed(t("rectification.site_not_part_project"), field="site_id")
    return site_id, building_id, spec.work_item_id, work_contractor


async def _addressee(spec: OrderSpec, work_contractor: UUID | None) -> UUID:
    org_id = spec.contractor_id or work_contractor
    if org_id is None:
        raise ValidationFailed(t("rectification.name_contractor_order_addressed"), field="contractor_id")
    org = (
        await Organisation.select(Organisation.kind)
        .where((Organisation.id == org_id) & Organisation.deleted.eq(False))
        .first()
    )
    if org is None:
        raise ValidationFailed(t("rectification.no_such_organisation"), field="contractor_id")
    if org["kind"] not in {k.value for k in WORK_PARTY_KINDS}:
        raise ValidationFailed(
            t("rectification.organisation_not_contractor_utility_operator", kind=org["kind"]), field="contractor_id"
        )
    if not await _contractor_on_project(spec.project_id, org_id):
        raise ValidationFailed(t("rectification.contractor_has_no_members_no_work"), field="contractor_id")
    return org_id


async def open_order(w: Write, actor: Actor, spec: OrderSpec, book: RuleBook | None = None) -> dict[str, Any]:
    """Open a draft (or issue at once) inside the caller's transaction; returns the order row."""
    book = book or default_rulebook()
    if actor.is_system:
        if spec.issue:
            raise Forbidden(t("rectification.system_may_open_drafts_only_inspector"))
    else:
        access = await project_access(actor, spec.project_id)
        if not access.roles & ISSUING_ROLES:
            raise Forbidden(t("rectification.only_inspectors_supervisors_owners_authority_project"))
    if spec.id is not None and await RO.exists().where(RO.id == spec.id):
        raise Conflict(t("rectification.order_id_already_exists", id=spec.id), field="id")
    if (spec.source_table is None) != (spec.source_id is None):
        raise ValidationFailed(t("rectification.give_source_table_source_id_together"), field="source_id")
    if not spec.description.strip():
        raise ValidationFailed(t("rectification.describe_defect_hazard"), field="description")
    site_id, building_id, work_item_id, work_contractor = await _where(spec)
    if spec.kind is OrderKind.stop_work and site_id is None:
        raise ValidationFailed(t("rectification.stop_work_order_names_site_work"), field="site_id")
    contractor_id = await _addressee(spec, work_contractor)
    deadline = _utc(spec.deadline)
    if spec.issue:
        deadline = choose_deadline(deadline, spec.kind, spec.severity, w.now, spec.deadline_reason, book)
    else:
        allowed = rule_deadline(w.now, book.deadline_rule(spec.kind, spec.severity), book.calendar)
        problem = deadline_problem(deadline, allowed, w.now, spec.deadline_reason)
        if problem:
            raise ValidationFailed(problem[1], field=problem[0])
    status = OrderState.issued if spec.issue else OrderState.draft
    values: dict[str, Any] = {
        "id": spec.id or new_id(),
        "project": spec.project_id,
        "site": site_id,
        "building": building_id,
        "work_item": work_item_id,
        "kind": spec.kind.value,
        "severity": spec.severity.value,
        "source": spec.source.value,
        "source_table": spec.source_table,
        "source_id": spec.source_id,
        "description": spec.description,
        "contractor": contractor_id,
        "issuer": actor.user_id,
        "issuer_organisation": actor.organisation_id,
        "status": status.value,
        "issued_at": w.now if spec.issue else None,
        "deadline": deadline,
        "deadline_reason": spec.deadline_reason,
        "deadline_round": 1 if spec.issue else 0,
    }
    order = await w.insert(RO, values, order_buckets(values))
    await links.attach(
        w,
        list(spec.photos),
        record_table=ORDER_TABLE,
        record_id=order["id"],
        project_id=spec.project_id,
        organisation_id=contractor_id,
        field="photos",
    )
    await record_event(w, order, "issue" if spec.issue else "create", None, status.value, deadline=deadline)
    if spec.issue and spec.kind is OrderKind.stop_work:
        await start_stop(w, order)
    if spec.issue:
        await notices.issued(w, order, actor.user_id)
    return order


@retry_races
class RectificationService:
    def __init__(self, settings: Settings, clock: Clock, book: RuleBook | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.book = book or default_rulebook()

    # Moves

    async def create_order(self, actor: Actor, data: s.OrderCreate) -> s.OrderDetail:
        spec = OrderSpec(
            project_id=data.project_id,
            kind=data.kind,
            severity=data.severity,
            source=data.source,
            source_table=data.source_table,
            source_id=data.source_id,
            description=data.description,
            site_id=data.site_id,
            building_id=data.building_id,
            work_item_id=data.work_item_id,
            contractor_id=data.contractor_id,
            photos=data.photos,
            deadline=deadlines.resolve(data.deadline, self.book.calendar.tz),
            deadline_reason=data.deadline_reason,
            issue=data.issue,
            id=data.id,
        )
        async with write(actor, self.clock) as w:
            order = await open_order(w, actor, spec, self.book)
        return await self.get_order(actor, order["id"])

    async def _begin_move(
        self, w: Write, actor: Actor, order_id: UUID, action: Action, version: int | None
    ) -> tuple[dict[str, Any], ProjectAccess, OrderState, dict[str, Any] | None]:
        """Re-read the order inside the transaction and judge the move: (order, access, next state,
        the response under review)."""
        order = await RO.select().where(RO.id == order_id).first()
        access = await order_access(actor, order, order_id)
        assert order is not None
        latest = await self._latest_response(order_id)
        current = OrderState(order["status"])
        who: Party = party(actor, access, order, latest if action is Action.accept else None)
        try:
            nxt = decide(current, action, who, OrderKind(order["kind"]))
        except MoveRefused as refused:
            if refused.status == 403:
                raise Forbidden(refused.message) from None
            raise InvalidTransition(refused.message, field="status", current_state=current.value) from None
        if version is not None and version != order["version"]:
            raise VersionConflict(
                t(
                    "rectification.order_changed_since_version_now",
                    order_id=order_id,
                    version=version,
                    version2=order["version"],
                    value=current.value,
                ),
                field="version",
                current_state=current.value,
                current_version=order["version"],
            )
        return order, access, nxt, latest

    async def _set_state(self, w: Write, order: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """Compare-and-set on the version read in this transaction."""
        return await w.update(
            RO,
            order["id"],
            changes,
            order_buckets({**order, **changes}),
            expected_version=order["version"],
            current=order,
            action="transition",
        )

    async def _latest_response(self, order_id: UUID) -> dict[str, Any] | None:
        return await (  # type: ignore[no-any-return]
            OrderResponse.select()
            .where((OrderResponse.order == order_id) & OrderResponse.deleted.eq(False))
            .order_by(OrderResponse.round, ascending=False)
            .first()
        )

    async def issue(self, actor: Actor, order_id: UUID, data: s.IssueBody) -> s.OrderDetail:
        async with write(actor, self.clock) as w:
            order, _, nxt, _ = await self._begin_move(w, actor, order_id, Action.issue, data.version)
            requested = _utc(deadlines.resolve(data.deadline, self.book.calendar.tz)) or order["deadline"]
            reason = data.deadline_reason or order["deadline_reason"]
            deadline = choose_deadline(
                requested, OrderKind(order["kind"]), Severity(order["severity"]), w.now, reason, self.book
            )
            order = await self._set_state(
                w,
                order,
                {
                    "status": nxt.value,
                    "issued_at": w.now,
                    "deadline": deadline,
                    "deadline_reason": reason,
                    "deadline_round": 1,
                    "issuer": actor.user_id,
                    "issuer_organisation": actor.organisation_id,
                },
            )
            await record_event(
                w, order, Action.issue.value, OrderState.draft.value, nxt.value, reason=data.reason, deadline=deadline
            )
            if order["kind"] == OrderKind.stop_work.value:
                await start_stop(w, order)
            await notices.issued(w, order, actor.user_id)
        return await self.get_order(actor, order_id)

    async def issue_many(self, actor: Actor, data: s.IssueManyBody) -> list[s.OrderDetail]:
        """Issue several drafts with one deadline in one transaction: all of them or none."""
        if len(set(data.order_ids)) != len(data.order_ids):
            raise ValidationFailed(t("rectification.order_named_twice"), field="order_ids")
        one = s.IssueBody(deadline=data.deadline, deadline_reason=data.deadline_reason, reason=data.reason)
        async with write(actor, self.clock):
            return [await self.issue(actor, order_id, one) for order_id in data.order_ids]

    async def edit_draft(self, actor: Actor, order_id: UUID, data: s.DraftEdit) -> s.OrderDetail:
        """Change what a draft says before it goes out; whoever may issue it may edit it."""
        async with write(actor, self.clock) as w:
            # the same party and state test as issuing: only a draft, only by an issuer
            order, _, _, _ = await self._begin_move(w, actor, order_id, Action.issue, data.version)
            await self._set_state(w, order, {"description": data.description, "severity": data.severity.value})
        return await self.get_order(actor, order_id)

    async def respond(
        self,
        actor: Actor,
        order_id: UUID,
        data: s.RespondBody,
        *,
        device_responded_at: datetime | None = None,
        device_clock_skew_ms: int | None = None,
    ) -> s.OrderDetail:
        """`device_responded_at`: when a tablet says the answer was made offline (sync push), kept
        as evidence for the grace rule, never as the time of the answer."""
        if not data.text.strip() and not data.photos:
            raise ValidationFailed(t("rectification.answer_text_photos_both"), field="text")
        async with write(actor, self.clock) as w:
            order, _, nxt, latest = await self._begin_move(w, actor, order_id, Action.respond, data.version)
            if data.id is not None and await OrderResponse.exists().where(OrderResponse.id == data.id):
                raise Conflict(t("rectification.response_id_already_exists", id=data.id), field="id")
            buckets = order_buckets(order)
            response = await w.insert(
                OrderResponse,
                {
                    "id": data.id or new_id(),
                    "order": order_id,
                    "project": order["project"],
                    "contractor": order["contractor"],
                    "round": (latest["round"] if latest else 0) + 1,
                    "text": data.text,
                    "responder": actor.user_id,
                    "responded_at": w.now,
                    "device_responded_at": _utc(device_responded_at),
                    "device_clock_skew_ms": device_clock_skew_ms,
                },
                buckets,
            )
            await links.attach(
                w,
                data.photos,
                record_table=RESPONSE_TABLE,
                record_id=response["id"],
                project_id=order["project"],
                organisation_id=order["contractor"],
                field="photos",
            )
            previous = order["status"]
            order = await self._set_state(w, order, {"status": nxt.value})
            await record_event(w, order, Action.respond.value, previous, nxt.value, response_id=response["id"])
            await notices.answered(w, order, response["round"], actor.user_id)
        return await self.get_order(actor, order_id)

    async def accept(self, actor: Actor, order_id: UUID, data: s.AcceptBody) -> s.OrderDetail:
        async with write(actor, self.clock) as w:
            order, _, nxt, latest = await self._begin_move(w, actor, order_id, Action.accept, data.version)
            assert latest is not None  # responded implies a response
            photos = await links.linked(RESPONSE_TABLE, [latest["id"]])
            await links.require_stored(photos[latest["id"]], field="photos")  # the filings the reply cites
            await self._review(w, order, latest, "accepted", data.note)
            previous = order["status"]
            order = await self._set_state(w, order, {"status": nxt.value, "closed_at": w.now})
            await record_event(
                w, order, Action.accept.value, previous, nxt.value, reason=data.note, response_id=latest["id"]
            )
            await notices.closed(w, order, actor.user_id)
        return await self.get_order(actor, order_id)

    async def _review(self, w: Write, order: dict[str, Any], response: dict[str, Any], verdict: str, note: str) -> None:
        await w.update(
            OrderResponse,
            response["id"],
            {"review": verdict, "reviewed_by": w.actor.user_id, "reviewed_at": w.now, "review_note": note},
            order_buckets(order),
            current=response,
        )

    async def reject(self, actor: Actor, order_id: UUID, data: s.RejectBody) -> s.OrderDetail:
        async with write(actor, self.clock) as w:
            order, _, nxt, latest = await self._begin_move(w, actor, order_id, Action.reject, data.version)
            deadline = choose_deadline(
                _utc(deadlines.resolve(data.deadline, self.book.calendar.tz)),
                OrderKind(order["kind"]),
                Severity(order["severity"]),
                w.now,
                data.deadline_reason,
                self.book,
            )
            if latest is not None:
                await self._review(w, order, latest, "rejected", data.reason)
            previous = order["status"]
            order = await self._set_state(
                w,
                order,
                {
                    "status": nxt.value,
                    "deadline": deadline,
                    "deadline_reason": data.deadline_reason,
                    "deadline_round": order["deadline_round"] + 1,
                },
            )
            await record_event(
                w,
                order,
                Action.reject.value,
                previous,
                nxt.value,
                reason=data.reason,
                deadline=deadline,
                response_id=latest["id"] if latest else None,
            )
            await notices.returned(w, order, data.reason, actor.user_id)
        return await self.get_order(actor, order_id)

    async def cancel(self, actor: Actor, order_id: UUID, data: s.CancelBody) -> s.OrderDetail:
        async with write(actor, self.clock) as w:
            order, _, nxt, latest = await self._begin_move(w, actor, order_id, Action.cancel, data.version)
            if latest is not None and latest["review"] == "pending":
                await self._review(w, order, latest, "cancelled", data.reason)
            previous = order["status"]
            order = await self._set_state(
                w, order, {"status": nxt.value, "cancelled_at": w.now, "cancel_reason": data.reason}
            )
            await record_event(w, order, Action.cancel.value, previous, nxt.value, reason=data.reason)
            # a stop ordered by mistake ends with the order that imposed it
            await end_stops(w, order, f"order cancelled: {data.reason}")
        return await self.get_order(actor, order_id)

    async def resume(self, actor: Actor, order_id: UUID, data: s.ResumeBody) -> s.OrderDetail:
        """复工: the stop ends once the issuer side has accepted the contractor's response."""
        async with write(actor, self.clock) as w:
            order, _, nxt, _ = await self._begin_move(w, actor, order_id, Action.resume, data.version)
            if await end_stops(w, order, data.note) == 0:
                raise InvalidTransition(
                    t("rectification.work_order_stopped_has_already_resumed"),
                    field="status",
                    current_state=order["status"],
                )
            await record_event(w, order, Action.resume.value, order["status"], nxt.value, reason=data.note)
            await notices.resumed(w, order, actor.user_id)
        return await self.get_order(actor, order_id)

    # Escalation

    async def escalate(self, now: datetime | None = None) -> s.EscalationReport:
        """Notify about every order past a threshold at `now` (default: the clock); each
        notification is made once, however often this runs."""
        at = now or self.clock.now()
        async with write(SYSTEM, FixedClock(at)) as w:
            checked, created = await escalation.apply(w, at, self.book, self.settings.public_base_url)
        return s.EscalationReport(at=at, orders_checked=checked, notifications_created=created)

    # The in-app notification feed

    async def notifications(
        self, actor: Actor, unread_only: bool = False, limit: int = 50, offset: int = 0
    ) -> ns.NotificationPage:
        return await outbox.feed(actor, unread_only, limit, offset)

    async def mark_read(self, actor: Actor, notification_id: UUID) -> ns.NotificationOut:
        return await outbox.mark_read(actor, notification_id, self.clock.now())

    # Queries

    async def get_order(self, actor: Actor, order_id: UUID) -> s.OrderDetail:
        order = (
            await RO.select(*RO.all_columns(), RO.contractor.name.as_alias("contractor_name"))
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
        due_before: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> s.OrderPage:
        """Overdue orders first, then by deadline (soonest first), then drafts without one."""
        if not 1 <= limit <= 500:
            raise ValidationFailed(t("rectification.limit_must_from_1_500"), field="limit")
        if offset < 0:
            raise ValidationFailed(t("rectification.offset_must_not_negative"), field="offset")
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
                RO.select(*RO.all_columns(), RO.contractor.name.as_alias("contractor_name"))
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


links.register_reader(ORDER_TABLE, may_read_order)
links.register_reader(RESPONSE_TABLE, may_read_response)

__all__ = ["OrderSpec", "RectificationService", "StopInfo", "active_stops", "open_order"]
