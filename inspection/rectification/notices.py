"""Who hears about an order's moves, and what they read: each move's event for the notifications
domain (called inside the move's transaction, so the move and its notifications commit together)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from inspection.messages import Message, t
from inspection.notifications.kinds import Kind
from inspection.notifications.outbox import Event, HasNow, notify, portal_link
from inspection.notifications.recipients import contractor_managers, people
from inspection.projects.names import organisation_names, place_names
from inspection.projects.rules import Role
from inspection.rectification.rules import OrderKind
from inspection.rectification.tables import RectificationOrder
from inspection.rectification.texts import KIND_NAMES

ORDER_TABLE = RectificationOrder._meta.tablename


async def _names(order: dict[str, Any]) -> dict[str, Any]:
    (place,) = await place_names([order])
    contractor = (await organisation_names([order["contractor"]])).get(order["contractor"], "")
    return {
        "place": place,
        "kind": KIND_NAMES[OrderKind(order["kind"])],
        "contractor": contractor,
        "link": portal_link(f"/portal/orders/{order['id']}"),
    }


def _what(order: dict[str, Any]) -> str:
    text = " ".join(str(order["description"]).split())
    return text if len(text) <= 80 else text[:79] + "…"


def _event(order: dict[str, Any], kind: Kind, text: Message, users: list[Any], *, occurrence: int = 0) -> Event:
    return Event(
        kind=kind,
        project_id=order["project"],
        subject_table=ORDER_TABLE,
        subject_id=order["id"],
        text=text,
        users=users,
        occurrence=occurrence,
        fallback_org=order["contractor"] if kind is not Kind.order_answered else None,
    )


async def _stop_people(order: dict[str, Any]) -> list[Any]:
    """Contractor, owner and the quality station: who a stop or a resumption concerns."""
    return [
        *await contractor_managers(order["project"], order["contractor"]),
        *await people(order["project"], [Role.owner, Role.authority]),
    ]


async def issued(w: HasNow, order: dict[str, Any], actor: Any) -> int:
    """An order issued: its contractor's site managers; a stop-work order also owner and authority."""
    names = await _names(order)
    if order["kind"] == OrderKind.stop_work.value:
        text = t("notify.stop_work", **names, at=w.now, what=_what(order))
        event = _event(order, Kind.stop_work, text, await _stop_people(order))
    else:
        text = t("notify.order_issued", **names, deadline=order["deadline"], what=_what(order))
        users = await contractor_managers(order["project"], order["contractor"])
        event = _event(order, Kind.order_issued, text, users, occurrence=order["deadline_round"])
    return await notify(w, _with_actor(event, actor))


async def returned(w: HasNow, order: dict[str, Any], reason: str, actor: Any) -> int:
    """An answer sent back with a new deadline: the contractor's site managers, once per round."""
    text = t("notify.order_returned", **await _names(order), reason=reason or "—", deadline=order["deadline"])
    users = await contractor_managers(order["project"], order["contractor"])
    return await notify(
        w, _with_actor(_event(order, Kind.order_returned, text, users, occurrence=order["deadline_round"]), actor)
    )


async def answered(w: HasNow, order: dict[str, Any], round_: int, actor: Any) -> int:
    """The contractor answered: the order's issuer, once per answer."""
    if order["issuer"] is None:
        return 0
    text = t("notify.order_answered", **await _names(order), at=w.now, round=round_)
    return await notify(
        w, _with_actor(_event(order, Kind.order_answered, text, [order["issuer"]], occurrence=round_), actor)
    )


async def closed(w: HasNow, order: dict[str, Any], actor: Any) -> int:
    """Accepted and closed: the contractor's site managers."""
    text = t("notify.order_closed", **await _names(order), at=w.now)
    users = await contractor_managers(order["project"], order["contractor"])
    return await notify(w, _with_actor(_event(order, Kind.order_closed, text, users), actor))


async def cancelled(w: HasNow, order: dict[str, Any], reason: str, actor: Any) -> int:
    """Cancelled after it was issued: the contractor's site managers, and its issuer when someone
    else cancelled it (notify leaves out whoever did); a stop-work order's also owner and authority,
    who were told of the stop it ends."""
    text = t("notify.order_cancelled", **await _names(order), at=w.now, reason=reason or "—")
    if order["kind"] == OrderKind.stop_work.value:
        users = await _stop_people(order)
    else:
        users = await contractor_managers(order["project"], order["contractor"])
    if order["issuer"] is not None:
        users.append(order["issuer"])
    return await notify(w, _with_actor(_event(order, Kind.order_cancelled, text, users), actor))


async def resumed(w: HasNow, order: dict[str, Any], actor: Any) -> int:
    """复工: the contractor, the owner and the quality station."""
    text = t("notify.work_resumed", **await _names(order), at=w.now)
    return await notify(w, _with_actor(_event(order, Kind.work_resumed, text, await _stop_people(order)), actor))


def _with_actor(event: Event, actor: Any) -> Event:
    return replace(event, actor=actor)
