"""Use cases for rectification and stop-work orders: open, issue, respond, accept, reject, cancel,
resume, escalate. One transaction each; rights checked here. The reads are in queries.py; what
opening an order asks for and checks (`OrderSpec`) in opening.py.

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

from datetime import datetime
from typing import Any
from uuid import UUID

from inspection import deadlines
from inspection.actor import SYSTEM, Actor
from inspection.clock import FixedClock
from inspection.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed, VersionConflict
from inspection.evidence import links
from inspection.messages import t
from inspection.notifications import feed as outbox
from inspection.notifications import schemas as ns
from inspection.projects.access import ProjectAccess, project_access
from inspection.records import Write, new_id, retry_races, write
from inspection.rectification import escalation, notices
from inspection.rectification import schemas as s
from inspection.rectification.access import order_access, party
from inspection.rectification.history import order_buckets, record_event
from inspection.rectification.opening import OrderSpec, _addressee, _where
from inspection.rectification.queries import ORDER_TABLE, RESPONSE_TABLE, RO, RectificationQueries, _utc
from inspection.rectification.rulebook import default_rulebook
from inspection.rectification.rules import (
    ISSUING_ROLES,
    Action,
    MoveRefused,
    OrderKind,
    OrderState,
    Party,
    RuleBook,
    Severity,
    choose_deadline,
    deadline_problem,
    decide,
    rule_deadline,
)
from inspection.rectification.stops import StopInfo, active_stops, end_stops, start_stop
from inspection.rectification.tables import OrderResponse

# Opening an order


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
class RectificationService(RectificationQueries):
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
            await end_stops(w, order, t("rectification.stop_ended_by_cancel", reason=data.reason).render())
            if previous != OrderState.draft.value:  # a draft never reached anybody
                await notices.cancelled(w, order, data.reason, actor.user_id)
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


__all__ = ["OrderSpec", "RectificationService", "StopInfo", "active_stops", "open_order"]
