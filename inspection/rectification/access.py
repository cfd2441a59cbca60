"""Who may see an order, and how the acting user stands towards one (the `Party` the rules judge).

- Every member of the order's project may read it, except that a user who is only a contractor
  there sees only orders addressed to its own organisation, and never drafts. Others get 404.
- Administrators read everything but make no moves: an order is signed by a party of the project.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.errors import NotFound
from inspection.evidence import links
from inspection.messages import t
from inspection.projects.access import ProjectAccess, project_access, projects_by_view
from inspection.projects.rules import Role
from inspection.rectification.rules import OrderState, Party
from inspection.rectification.tables import OrderResponse, RectificationOrder


def sees(access: ProjectAccess, order: dict[str, Any]) -> bool:
    if not access.contractor_only:
        return True
    return order["contractor"] == access.organisation_id and order["status"] != OrderState.draft.value


async def order_access(actor: Actor, order: dict[str, Any] | None, order_id: UUID) -> ProjectAccess:
    """The actor's rights in the order's project; NotFound when the order is missing or not theirs."""
    if order is None or order["deleted"]:
        raise NotFound(t("rectification.order_does_not_exist", order_id=order_id))
    try:
        access = await project_access(actor, order["project"])
    except NotFound:
        raise NotFound(t("rectification.order_does_not_exist", order_id=order_id)) from None
    if not sees(access, order):
        raise NotFound(t("rectification.order_does_not_exist", order_id=order_id))
    return access


def party(actor: Actor, access: ProjectAccess, order: dict[str, Any], response: dict[str, Any] | None = None) -> Party:
    org = actor.organisation_id
    issuer_side = (actor.user_id is not None and actor.user_id == order["issuer"]) or (
        org is not None and org == order["issuer_organisation"]
    )
    return Party(
        roles=access.roles,
        is_issuer_side=issuer_side,
        is_addressee=Role.contractor in access.roles and org is not None and org == order["contractor"],
        wrote_response=response is not None and actor.user_id is not None and response["responder"] == actor.user_id,
        order_has_issuer=order["issuer"] is not None or order["issuer_organisation"] is not None,
    )


async def may_read_order(actor: Actor, order_id: UUID) -> bool:
    """Reader check for evidence cited by an order (see inspection/evidence/links.py)."""
    row = await RectificationOrder.select().where(RectificationOrder.id == order_id).first()
    try:
        await order_access(actor, row, order_id)
    except NotFound:
        return False
    return True


async def may_read_response(actor: Actor, response_id: UUID) -> bool:
    row = await OrderResponse.select(OrderResponse.order).where(OrderResponse.id == response_id).first()
    return row is not None and await may_read_order(actor, row["order"])


async def visible_where(actor: Actor) -> Any | None:
    """A where-clause on RectificationOrder limiting it to what `actor` may read; None = nothing."""
    RO = RectificationOrder
    if actor.is_admin:
        return RO.deleted.eq(False)
    if actor.user_id is None:
        return None
    full, contractor_only = await projects_by_view(actor)
    clause: Any = None
    if full:
        clause = RO.project.is_in(full)
    if contractor_only and actor.organisation_id is not None:
        own = (
            RO.project.is_in(contractor_only)
            & (RO.contractor == actor.organisation_id)
            & (RO.status != OrderState.draft.value)
        )
        clause = own if clause is None else (clause | own)
    return None if clause is None else (clause & RO.deleted.eq(False))


# a photo cited by an order or a response is shown to whoever may read the order
links.register_reader(RectificationOrder._meta.tablename, may_read_order)
links.register_reader(OrderResponse._meta.tablename, may_read_response)
