"""Rectification and stop-work orders, work stops and the notification feed over HTTP."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from api.deps import PROVIDERS, Limit, Offset, OrdersDep
from inspection.actor import Actor
from inspection.deadlines import Moment
from inspection.rectification import schemas as s
from inspection.rectification.rules import OrderKind, OrderState, Severity

Me = NamedDependency[Actor]


class OrderController(Controller):
    path = "/rectification"
    dependencies = {"orders": PROVIDERS["orders"]}
    tags = ["rectification"]

    @post("/orders", operation_id="create_order")
    async def create(self, data: JSONBody[s.OrderCreate], actor: Me, orders: OrdersDep) -> s.OrderDetail:
        """Open an order as a draft, or issue it at once (`issue: true`). The deadline defaults to
        the rule for its kind and severity; a later one needs `deadline_reason`."""
        return await orders.create_order(actor, data)

    @get("/orders", operation_id="list_orders")
    async def list_(
        self,
        actor: Me,
        orders: OrdersDep,
        project_id: FromQuery[UUID | None] = None,
        status: FromQuery[OrderState | None] = None,
        kind: FromQuery[OrderKind | None] = None,
        severity: FromQuery[Severity | None] = None,
        contractor_id: FromQuery[UUID | None] = None,
        overdue: FromQuery[bool | None] = None,
        due_before: FromQuery[Moment | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> s.OrderPage:
        """Orders the signed-in user may see, overdue first, then by deadline."""
        return await orders.list_orders(
            actor,
            project_id=project_id,
            status=status,
            kind=kind,
            severity=severity,
            contractor_id=contractor_id,
            overdue=overdue,
            due_before=due_before,
            limit=limit,
            offset=offset,
        )

    @get("/orders/{order_id:str}", operation_id="get_order")
    async def get_one(self, order_id: FromPath[UUID], actor: Me, orders: OrdersDep) -> s.OrderDetail:
        """One order with its photos, responses, full history and stops."""
        return await orders.get_order(actor, order_id)

    @post("/orders/{order_id:str}/issue", status_code=HTTP_200_OK, operation_id="issue_order")
    async def issue(
        self,
        order_id: FromPath[UUID],
        data: JSONBody[s.IssueBody],
        actor: Me,
        orders: OrdersDep,
    ) -> s.OrderDetail:
        return await orders.issue(actor, order_id, data)

    @post("/orders/{order_id:str}/respond", status_code=HTTP_200_OK, operation_id="respond_to_order")
    async def respond(
        self,
        order_id: FromPath[UUID],
        data: JSONBody[s.RespondBody],
        actor: Me,
        orders: OrdersDep,
    ) -> s.OrderDetail:
        """The addressed contractor answers with text and/or photos (整改回复单)."""
        return await orders.respond(actor, order_id, data)

    @post("/orders/{order_id:str}/accept", status_code=HTTP_200_OK, operation_id="accept_order_response")
    async def accept(
        self,
        order_id: FromPath[UUID],
        data: JSONBody[s.AcceptBody],
        actor: Me,
        orders: OrdersDep,
    ) -> s.OrderDetail:
        return await orders.accept(actor, order_id, data)

    @post("/orders/{order_id:str}/reject", status_code=HTTP_200_OK, operation_id="reject_order_response")
    async def reject(
        self,
        order_id: FromPath[UUID],
        data: JSONBody[s.RejectBody],
        actor: Me,
        orders: OrdersDep,
    ) -> s.OrderDetail:
        """Send the answer back with a reason and a new deadline."""
        return await orders.reject(actor, order_id, data)

    @post("/orders/{order_id:str}/cancel", status_code=HTTP_200_OK, operation_id="cancel_order")
    async def cancel(
        self,
        order_id: FromPath[UUID],
        data: JSONBody[s.CancelBody],
        actor: Me,
        orders: OrdersDep,
    ) -> s.OrderDetail:
        return await orders.cancel(actor, order_id, data)

    @post("/orders/{order_id:str}/resume", status_code=HTTP_200_OK, operation_id="resume_work")
    async def resume(
        self,
        order_id: FromPath[UUID],
        data: JSONBody[s.ResumeBody],
        actor: Me,
        orders: OrdersDep,
    ) -> s.OrderDetail:
        """复工: lift the stop of a stop-work order whose response was accepted."""
        return await orders.resume(actor, order_id, data)

    @post("/notices", operation_id="issue_notice")
    async def issue_notice(self, data: JSONBody[s.NoticeIssue], actor: Me, orders: OrdersDep) -> s.NoticeDetail:
        """Issue drafts of one inspection addressed to one contractor as one 整改通知单: one number
        (ZGTZ-…), one deadline (a plain date means the end of that day, local time), one
        notification. All the drafts go out or none does."""
        return await orders.issue_notice(actor, data)

    @get("/notices/{notice_id:str}", operation_id="get_notice")
    async def get_notice(self, notice_id: FromPath[UUID], actor: Me, orders: OrdersDep) -> s.NoticeDetail:
        """One 整改通知单 and the orders it lists, for whoever may read its orders."""
        return await orders.get_notice(actor, notice_id)

    @get("/counts", operation_id="order_counts")
    async def counts(
        self,
        actor: Me,
        orders: OrdersDep,
        project_id: FromQuery[UUID | None] = None,
        contractor_id: FromQuery[UUID | None] = None,
    ) -> s.CountsOut:
        """Open, overdue, closed orders and average days to close, in total and per contractor."""
        return await orders.counts(actor, project_id, contractor_id)

    @get("/stops", operation_id="list_stops")
    async def stops(
        self,
        actor: Me,
        orders: OrdersDep,
        project_id: FromQuery[UUID],
        site_id: FromQuery[UUID | None] = None,
        work_item_id: FromQuery[UUID | None] = None,
        active: FromQuery[bool] = False,
    ) -> s.StopPage:
        """Work stops of a project, newest first; `active=true` for those not yet resumed."""
        return await orders.list_stops(actor, project_id, site_id, work_item_id, active)
