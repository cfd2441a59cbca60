"""Escalation of overdue orders: the rules (rules.escalation_steps) decide which thresholds an
order has reached; this applies them, once each, to the notification outbox and the order's history.

The alerts domain schedules `RectificationService.escalate` (one run at a time is not required:
the outbox's unique index and the write lock make a second run create nothing new).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from inspection.messages import t
from inspection.notifications.outbox import notify_once
from inspection.notifications.recipients import Recipient
from inspection.projects.names import organisation_names, place_names
from inspection.projects.rules import Role
from inspection.projects.tables import Membership, Project, User
from inspection.records import Write
from inspection.rectification.history import record_event
from inspection.rectification.rules import (
    AWAITING_CONTRACTOR,
    Audience,
    OrderKind,
    OrderState,
    RuleBook,
    Severity,
    escalation_steps,
)
from inspection.rectification.tables import RectificationNotice, RectificationOrder
from inspection.rectification.texts import KIND_NAMES

ORDER_TABLE = RectificationOrder._meta.tablename
NOTICE_TABLE = RectificationNotice._meta.tablename
RULE = "order_overdue"


async def _owner_organisation(project_id: UUID) -> UUID | None:
    row = await Project.select(Project.owner_organisation).where(Project.id == project_id).first()
    return row["owner_organisation"] if row else None


async def _authority_organisations(project_id: UUID) -> list[UUID]:
    rows = await Membership.select(Membership.user.organisation.as_alias("org")).where(
        (Membership.project == project_id) & (Membership.role == Role.authority.value) & Membership.deleted.eq(False)
    )
    return sorted({r["org"] for r in rows if r["org"] is not None}, key=str)


async def _recipients(order: dict[str, Any], audience: Audience) -> tuple[str, list[Recipient]]:
    """The notification kind and who receives it."""
    if audience is Audience.issuer_and_owner:
        found: list[Recipient] = []
        if order["issuer_organisation"] is not None:
            found.append(("org", order["issuer_organisation"]))
        elif order["issuer"] is not None:
            found.append(("user", order["issuer"]))
        owner = await _owner_organisation(order["project"])
        if owner is not None:
            found.append(("org", owner))
        return "order_overdue", list(dict.fromkeys(found))
    authorities = await _authority_organisations(order["project"])
    if authorities:
        return "order_overdue_authority", [("org", a) for a in authorities]
    # nobody from the authority is on the project: the owner must know the report could not go up
    owner = await _owner_organisation(order["project"])
    return "order_overdue_no_authority", [("org", owner)] if owner else []


async def _message(order: dict[str, Any], threshold: int, now: datetime, base_url: str) -> str:
    """The escalation a reader gets: which order, where, whose, how late, and its link."""
    (place,) = await place_names([order])
    contractor = (await organisation_names([order["contractor"]])).get(order["contractor"], "")
    values = {
        "place": place,
        "kind": KIND_NAMES[OrderKind(order["kind"])],
        "contractor": contractor,
        "deadline": order["deadline"],
        "days": (now - order["deadline"]).days,
        "link": f"{base_url}/portal/orders/{order['id']}",
    }
    if threshold == 1:
        return t("escalation.overdue", **values).render()
    return t("escalation.reported", **values).render()


async def _notice_message(orders: list[dict[str, Any]], threshold: int, now: datetime, base_url: str) -> str:
    """One escalation for the overdue items of one 整改通知单: its number, 小区, contractor, how
    many items are still unanswered, how late, and the notice's link."""
    first = orders[0]
    row = await RectificationNotice.select(RectificationNotice.number).where(RectificationNotice.id == first["notice"])
    (place,) = await place_names([{"site": first["site"]}])
    contractor = (await organisation_names([first["contractor"]])).get(first["contractor"], "")
    values = {
        "place": place,
        "number": row[0]["number"] if row else "",
        "count": len(orders),
        "contractor": contractor,
        "deadline": first["deadline"],
        "days": (now - first["deadline"]).days,
        "link": f"{base_url}/portal/orders/notices/{first['notice']}",
    }
    if threshold == 1:
        return t("escalation.notice_overdue", **values).render()
    return t("escalation.notice_reported", **values).render()


async def _who(recipients: list[Recipient]) -> str:
    """The people told, by name, as the order's history shows them ("、"-separated)."""
    orgs = await organisation_names(r[1] for r in recipients if r[0] == "org")
    user_ids = [r[1] for r in recipients if r[0] == "user"]
    users = {}
    if user_ids:
        rows = await User.select(User.id, User.display_name).where(User.id.is_in(user_ids))
        users = {r["id"]: r["display_name"] for r in rows}
    names = [(orgs if kind == "org" else users).get(rid, "") for kind, rid in recipients]
    return "、".join(n for n in names if n)


async def apply(w: Write, at: datetime, book: RuleBook, base_url: str = "") -> tuple[int, int]:
    """Inside the caller's write transaction: (orders checked, notifications created)."""
    RO = RectificationOrder
    candidates = await RO.select().where(
        RO.status.is_in([st.value for st in AWAITING_CONTRACTOR]) & (RO.deadline < at) & RO.deleted.eq(False)
    )
    # The items of one 整改通知单 that are late together are escalated together: one notification
    # per threshold for the notice (its subject), not one per item; each item's history still
    # records it. An item whose deadline moved on its own (a rejection) is late on its own.
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    steps_of: dict[tuple[Any, ...], Any] = {}
    for order in candidates:
        steps = escalation_steps(OrderState(order["status"]), order["deadline"], Severity(order["severity"]), at, book)
        for step in steps:
            if order.get("notice") is not None:
                key: tuple[Any, ...] = ("notice", order["notice"], order["deadline"], step.threshold, step.audience)
            else:
                key = ("order", order["id"], step.threshold)
            groups.setdefault(key, []).append(order)
            steps_of[key] = step
    created = 0
    for key, orders in groups.items():
        step = steps_of[key]
        first = orders[0]
        kind, recipients = await _recipients(first, step.audience)
        if key[0] == "notice":
            subject_table, subject_id = NOTICE_TABLE, first["notice"]
            # the deadline the items share, in minutes: a new shared deadline is escalated afresh
            occurrence = int(first["deadline"].timestamp()) // 60
            message = await _notice_message(orders, step.threshold, at, base_url)
        else:
            subject_table, subject_id = ORDER_TABLE, first["id"]
            # a new deadline after a rejection is a new occurrence, escalated afresh
            occurrence = first["deadline_round"]
            message = await _message(first, step.threshold, at, base_url)
        fresh = 0
        for recipient in recipients:
            fresh += await notify_once(
                recipient,
                kind=kind,
                subject_table=subject_table,
                subject_id=subject_id,
                rule=RULE,
                occurrence=occurrence,
                threshold=step.threshold,
                project_id=first["project"],
                message=message,
                at=at,
            )
        if fresh:
            created += fresh
            who = await _who(recipients)
            for order in orders:
                # the history is read by people (the API's order history, the tablet): Chinese,
                # by name; which rule fired stays in the outbox rows (rule, threshold)
                await record_event(
                    w,
                    order,
                    "escalate",
                    order["status"],
                    order["status"],
                    reason=t("escalation.history", step=step.threshold, who=who).render(),
                    deadline=order["deadline"],
                )
    return len(candidates), created
