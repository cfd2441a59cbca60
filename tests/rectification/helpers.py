"""Shared builders for the rectification tests: actors from the test world, photos, orders in
any state."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any
from uuid import UUID

from inspection.actor import SYSTEM, Actor
from inspection.clock import FixedClock
from inspection.evidence import links
from inspection.evidence.tables import Evidence, EvidenceLink
from inspection.notifications.outbox_tables import Notification
from inspection.records import write
from inspection.rectification import schemas as s
from inspection.rectification.rules import OrderKind, OrderState, Severity
from inspection.rectification.service import RectificationService
from inspection.rectification.tables import OrderEvent, OrderResponse, RectificationOrder, WorkStop
from tests.factories import World


def actor_of(world: World, who: str) -> Actor:
    u = world.users[who]
    org = next((o for o in world.orgs.values() if o.id == u.organisation_id), None)
    return Actor(
        user_id=u.id,
        username=u.username,
        organisation_id=u.organisation_id,
        organisation_kind=org.kind.value if org else None,
        is_admin=u.is_admin,
    )


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def announce(world: World, clock: FixedClock, name: str, *, org: str | None = None, stored: bool = False) -> str:
    """A photo row as the upload flow would leave it: pending, or stored once its bytes are checked."""
    digest = sha(name)
    async with write(SYSTEM, clock) as w:
        await links.announce(
            w,
            digest,
            project_id=world.id_of("p1"),
            organisation_id=world.orgs[org].id if org else None,
            content_type="image/jpeg",
        )
    if stored:
        await store(digest)
    return digest


async def store(*digests: str) -> None:
    await Evidence.update({Evidence.status: "stored"}).where(Evidence.sha256.is_in(list(digests)))


def create_body(world: World, **overrides: Any) -> s.OrderCreate:
    values: dict[str, Any] = {
        "project_id": world.id_of("p1"),
        "work_item_id": world.id_of("work_a"),
        "kind": OrderKind.quality,
        "severity": Severity.general,
        "description": "屋面防水卷材搭接宽度不足",
    }
    values.update(overrides)
    return s.OrderCreate(**values)


async def order_in(svc: RectificationService, world: World, clock: FixedClock, state: OrderState, **kw: Any) -> UUID:
    """An order addressed to contractor A, issued by the inspector, brought to `state`."""
    inspector, contractor = actor_of(world, "inspector"), actor_of(world, "contractor_a")
    detail = await svc.create_order(inspector, create_body(world, issue=state is not OrderState.draft, **kw))
    oid = detail.order.id
    if state in (OrderState.draft, OrderState.issued):
        return oid
    if state is OrderState.cancelled:
        await svc.cancel(inspector, oid, s.CancelBody(reason="issued by mistake"))
        return oid
    await svc.respond(contractor, oid, s.RespondBody(text="已返工,搭接宽度满足100mm"))
    if state is OrderState.closed:
        await svc.accept(inspector, oid, s.AcceptBody(note="复查合格"))
    elif state is OrderState.rejected:
        await svc.reject(inspector, oid, s.RejectBody(reason="照片不清", deadline=clock.now() + timedelta(days=2)))
    return oid


async def row_counts() -> dict[str, int]:
    return {
        "orders": await RectificationOrder.count(),
        "responses": await OrderResponse.count(),
        "events": await OrderEvent.count(),
        "stops": await WorkStop.count(),
        "links": await EvidenceLink.count(),
        "notifications": await Notification.count(),
    }


async def failed_roof(world: World, clock: FixedClock, work_item_id: Any = None) -> dict[str, Any]:
    """A submitted roof inspection with two failed items: two drafts to the work item's contractor."""
    from tests.checklists.helpers import ROOF, answer, answers_for, draft, submit  # they import this module

    d = await draft(world, template_code=ROOF, lot_size=40, work_item_id=work_item_id or world.id_of("work_a"))
    iid = d["inspection"]["id"]
    leak = await announce(world, clock, f"leak-{iid}.jpg")
    r = await answer(
        world,
        iid,
        answers_for(
            ROOF,
            M2={"value": "fail", "photos": [leak], "note": "3号楼北侧檐沟积水"},
            N3={"checked": 5, "passed": 5, "flagged": True, "note": "收头密封胶开裂一处"},
        ),
    )
    assert r.status_code == 200, r.text
    body = (await submit(world, clock, iid)).json()
    assert len(body["orders"]) == 2 and {o["status"] for o in body["orders"]} == {"draft"}
    return body  # type: ignore[no-any-return]


async def issued_notice(world: World, clock: FixedClock, who: str = "supervisor") -> dict[str, Any]:
    """A failed roof inspection's two drafts issued as one 整改通知单 to contractor A (the API's answer)."""
    body = await failed_roof(world, clock)
    request = {
        "order_ids": [o["id"] for o in body["orders"]],
        "deadline": (clock.now() + timedelta(days=3)).date().isoformat(),
    }
    r = await world.post(who, "/api/v1/rectification/notices", request)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]
