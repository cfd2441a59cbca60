"""Tablet commands on rectification orders.

Each command is a move of the order's state machine, run by the same service method the API
uses, inside the push's transaction. A move to the state the order is already in answers `noop`
(two inspectors accepting the same answer converge) — the service says which state the order is
in only to someone who may see it; any other illegal move is rejected with the server's state,
so a stale tablet can never reopen a closed order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from inspection import records
from inspection.actor import Actor
from inspection.errors import Conflict, ValidationFailed
from inspection.messages import t
from inspection.rectification import schemas as s
from inspection.rectification.rules import OrderState
from inspection.rectification.service import RectificationService
from inspection.sync import registry
from inspection.sync.commands.base import AlreadyApplied, CommandContext, Outcome, create_once, move_once
from inspection.sync.tables import SyncDevice

B = TypeVar("B", bound=msgspec.Struct)


def _applied(detail: s.OrderDetail) -> Outcome:
    return Outcome("applied", detail.order.version, extra={"server_state": detail.order.status})


async def create(ctx: CommandContext, args: s.OrderCreate) -> Outcome:
    data = msgspec.structs.replace(args, id=ctx.entity)

    async def run() -> Outcome:
        return _applied(await ctx.services.rectification.create_order(ctx.actor, data))

    return await create_once(ctx, "rectification_order", run)


def move(
    target: OrderState, call: Callable[[RectificationService, Actor, UUID, B], Awaitable[s.OrderDetail]]
) -> Callable[[CommandContext, B], Awaitable[Outcome]]:
    async def run(ctx: CommandContext, args: B) -> Outcome:
        async def attempt() -> Outcome:
            return _applied(await call(ctx.services.rectification, ctx.actor, ctx.entity, args))

        return await move_once(target.value, attempt)

    return run


async def device_time(ctx: CommandContext) -> tuple[datetime | None, int | None]:
    """When the tablet says the mutation was made, and the skew measured for that tablet now."""
    raw = ctx.mutation.get("device_ts")
    try:
        at = datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        raise ValidationFailed(t("sync.device_ts_must_iso_8601_time"), field="device_ts") from None
    if at is not None and at.tzinfo is None:
        raise ValidationFailed(t("sync.device_ts_needs_time_zone_offset"), field="device_ts")
    row = await SyncDevice.select(SyncDevice.clock_skew_ms).where(SyncDevice.id == ctx.device_row_id).first()
    return at, (row["clock_skew_ms"] if row else None)


async def respond(ctx: CommandContext, args: s.RespondBody) -> Outcome:
    device_at, skew_ms = await device_time(ctx)
    try:
        detail = await ctx.services.rectification.respond(
            ctx.actor, ctx.entity, args, device_responded_at=device_at, device_clock_skew_ms=skew_ms
        )
    except Conflict as exc:
        # refused after the access check; the same answer arriving twice converges
        if args.id is not None:
            row = await records.load_row(registry.synced_tables()["order_response"], args.id)
            if row is not None and row["created_by"] == ctx.actor.user_id:
                state: Any = exc.extra.get("current_state")
                raise AlreadyApplied(Outcome("noop", None, extra={"server_state": state})) from None
        raise
    return _applied(detail)


async def resume(ctx: CommandContext, args: s.ResumeBody) -> Outcome:
    # the order stays closed when work resumes, so "already there" cannot be read off its state
    return _applied(await ctx.services.rectification.resume(ctx.actor, ctx.entity, args))


issue = move(OrderState.issued, RectificationService.issue)
accept = move(OrderState.closed, RectificationService.accept)
reject = move(OrderState.rejected, RectificationService.reject)
cancel = move(OrderState.cancelled, RectificationService.cancel)
