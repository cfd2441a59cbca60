"""Tablet commands on rectification orders, applied through sync push.

Each command is a move of the order's state machine, run by the same service method the API
uses, inside the push's transaction. A move to the state the order is already in answers `noop`
(two inspectors accepting the same answer converge); any other illegal move is rejected with the
server's state, so a stale tablet can never reopen a closed order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from inspection.errors import ValidationFailed
from inspection.rectification import schemas as s
from inspection.rectification.rules import OrderState
from inspection.rectification.service import RectificationService
from inspection.rectification.tables import OrderResponse, RectificationOrder
from inspection.settings import get_settings
from inspection.sync.registry import Outcome
from inspection.sync.registry import parse_args as parse
from inspection.sync.service import MutationContext
from inspection.sync.tables import SyncDevice

T = TypeVar("T", bound=msgspec.Struct)


def entity(ctx: MutationContext) -> UUID:
    try:
        return UUID(str(ctx.mutation.get("entity_id")))
    except ValueError:
        raise ValidationFailed("entity_id must be the order's UUID", field="entity_id") from None


def service(ctx: MutationContext) -> RectificationService:
    return RectificationService(get_settings(), ctx.clock)


async def _status(order_id: UUID) -> str | None:
    row = await RectificationOrder.select(RectificationOrder.status).where(RectificationOrder.id == order_id).first()
    return row["status"] if row else None


def move(
    target: OrderState, shape: type[T], run: Callable[[RectificationService, Any, UUID, T], Awaitable[s.OrderDetail]]
) -> Callable[[MutationContext], Awaitable[Outcome]]:
    async def handler(ctx: MutationContext) -> Outcome:
        order_id = entity(ctx)
        data = parse(ctx.args, shape)
        if await _status(order_id) == target.value:
            # already there: converge quietly (the version check in the service would refuse it)
            return Outcome("noop", None, extra={"server_state": target.value})
        detail = await run(service(ctx), ctx.actor, order_id, data)
        return Outcome("applied", detail.order.version, extra={"server_state": detail.order.status})

    return handler


async def create(ctx: MutationContext) -> Outcome:
    order_id = entity(ctx)
    data = parse({**ctx.args, "id": str(order_id)}, s.OrderCreate)
    existing = (
        await RectificationOrder.select(RectificationOrder.created_by, RectificationOrder.version)
        .where(RectificationOrder.id == order_id)
        .first()
    )
    if existing is not None:
        if existing["created_by"] == ctx.actor.user_id:
            return Outcome("noop", existing["version"])  # the same create arriving twice
        raise ValidationFailed(
            f"order id {order_id} is already taken by another record", field="entity_id", code="id_conflict"
        )
    detail = await service(ctx).create_order(ctx.actor, data)
    return Outcome("applied", detail.order.version, extra={"server_state": detail.order.status})


async def device_time(ctx: MutationContext) -> tuple[datetime | None, int | None]:
    """When the tablet says the mutation was made, and the skew measured for that tablet now."""
    raw = ctx.mutation.get("device_ts")
    try:
        at = datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        raise ValidationFailed("device_ts must be an ISO 8601 time with its offset", field="device_ts") from None
    if at is not None and at.tzinfo is None:
        raise ValidationFailed("device_ts needs a time-zone offset", field="device_ts")
    row = await SyncDevice.select(SyncDevice.clock_skew_ms).where(SyncDevice.id == ctx.device_row_id).first()
    return at, (row["clock_skew_ms"] if row else None)


async def respond(ctx: MutationContext) -> Outcome:
    order_id = entity(ctx)
    data = parse(ctx.args, s.RespondBody)
    if data.id is not None and await OrderResponse.exists().where(OrderResponse.id == data.id):
        return Outcome("noop", None, extra={"server_state": await _status(order_id)})
    device_at, skew_ms = await device_time(ctx)
    detail = await service(ctx).respond(
        ctx.actor, order_id, data, device_responded_at=device_at, device_clock_skew_ms=skew_ms
    )
    return Outcome("applied", detail.order.version, extra={"server_state": detail.order.status})


async def resume(ctx: MutationContext) -> Outcome:
    # the order stays closed when work resumes, so "already there" cannot be read off its state
    detail = await service(ctx).resume(ctx.actor, entity(ctx), parse(ctx.args, s.ResumeBody))
    return Outcome("applied", detail.order.version, extra={"server_state": detail.order.status})


MUTATIONS = {
    "order.create@1": create,
    "order.issue@1": move(OrderState.issued, s.IssueBody, lambda svc, a, o, d: svc.issue(a, o, d)),
    "order.respond@1": respond,
    "order.accept@1": move(OrderState.closed, s.AcceptBody, lambda svc, a, o, d: svc.accept(a, o, d)),
    "order.reject@1": move(OrderState.rejected, s.RejectBody, lambda svc, a, o, d: svc.reject(a, o, d)),
    "order.cancel@1": move(OrderState.cancelled, s.CancelBody, lambda svc, a, o, d: svc.cancel(a, o, d)),
    "order.resume@1": resume,
}
