"""整改通知单 and 整改回复单 — from the rectification service's view of one order, so the same
access rules hold (a contractor of another organisation gets 404, drafts are not printed)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from inspection.actor import Actor
from inspection.errors import Conflict
from inspection.messages import t
from inspection.rectification.queries import RectificationQueries
from inspection.rectification.rules import OrderState, notice_facts
from inspection.rectification.schemas import OrderDetail
from inspection.reports import rules
from inspection.reports.loaders.base import (
    Photos,
    ReportData,
    letterhead,
    org_rows,
    place_names,
    project_row,
    user_names,
)
from inspection.reports.register import latest_numbers

Which = Literal["notice", "reply"]
KINDS: dict[str, str] = {"notice": "rectification_notice", "reply": "rectification_reply"}


def _order_facts(detail: OrderDetail) -> dict[str, Any]:
    o = detail.order
    return {
        "id": o.id,
        "kind": o.kind.value,
        "severity": o.severity.value,
        "source": o.source.value,
        "description": o.description,
        "issued_at": o.issued_at,
        "deadline": o.deadline,
        "deadline_reason": o.deadline_reason,
        "deadline_round": o.deadline_round,
    }


async def load_notice(service: RectificationQueries, actor: Actor, notice_id: UUID) -> ReportData:
    """One 整改通知单 covering several orders: every item with its place, the one deadline and the
    number it went out under (the register finds it again by the facts it was numbered with)."""
    detail = await service.get_notice(actor, notice_id)  # NotFound unless the actor may read its orders
    n = detail.notice
    project = await project_row(n.project_id)
    people = await user_names([n.issued_by_id])
    owner = project["owner_organisation"]
    orgs = await org_rows([n.issuer_organisation_id, n.contractor_id, owner])
    photos = Photos(actor)
    await photos.load([p.sha256 for o in detail.orders for p in o.photos])
    items = []
    for o in detail.orders:
        items.append(
            {
                "id": o.id,
                "severity": o.severity.value,
                "description": o.description,
                "place": await place_names(o.site_id, o.building_id, o.work_item_id),
                "before": [photos.show(p.sha256) for p in o.photos],
            }
        )
    context: dict[str, Any] = {
        "notice": {
            "id": n.id,
            "kind": n.kind.value,
            "number": n.number,
            "issued_at": n.issued_at,
            "deadline": n.deadline,
            "deadline_reason": n.deadline_reason,
        },
        "items": items,
        "contractor": orgs[n.contractor_id]["name"] if n.contractor_id in orgs else n.contractor_name or "",
        "issuer": {
            "name": people.get(n.issued_by_id, "") if n.issued_by_id else "",
            "organisation": orgs[n.issuer_organisation_id]["name"] if n.issuer_organisation_id in orgs else "",
        },
        "cc": [orgs[owner]["name"]] if owner in orgs and owner != n.issuer_organisation_id else [],
    }
    facts = notice_facts(
        n.id,
        n.project_id,
        n.contractor_id,
        n.kind.value,
        n.deadline,
        [(o.id, o.description, o.severity.value) for o in detail.orders],
    )
    return ReportData(
        kind=KINDS["notice"],
        subject_id=n.id,
        project_id=n.project_id,
        title=rules.label("order_notice_title", n.kind.value),
        letterhead=await letterhead(project, n.issuer_organisation_id),
        context=context,
        thumbnails=photos.thumbnails(),
        hashed=facts,
    )


async def load_rectification(service: RectificationQueries, actor: Actor, order_id: UUID, which: Which) -> ReportData:
    detail = await service.get_order(actor, order_id)  # NotFound unless the actor may read it
    o = detail.order
    if o.status is OrderState.draft:
        raise Conflict(t("reports.draft_order_has_no_notice_yet"), field="order_id")
    if which == "notice" and o.notice_id is not None:
        # it went out with others: its notice is theirs, under the one number
        return await load_notice(service, actor, o.notice_id)
    if which == "reply" and not detail.responses:
        raise Conflict(t("reports.contractor_has_not_replied_order_yet"), field="order_id")
    project = await project_row(o.project_id)
    people = await user_names(
        [o.issuer_id] + [r.responder_id for r in detail.responses] + [r.reviewed_by_id for r in detail.responses]
    )
    owner = project["owner_organisation"]
    orgs = await org_rows([o.issuer_organisation_id, o.contractor_id, owner])
    photos = Photos(actor)
    await photos.load([p.sha256 for p in o.photos] + [p.sha256 for r in detail.responses for p in r.photos])
    context: dict[str, Any] = {
        "order": _order_facts(detail),
        "place": await place_names(o.site_id, o.building_id, o.work_item_id),
        "contractor": orgs[o.contractor_id]["name"] if o.contractor_id in orgs else o.contractor_name or "",
        "issuer": {
            "name": people.get(o.issuer_id, "") if o.issuer_id else "",
            "organisation": orgs[o.issuer_organisation_id]["name"] if o.issuer_organisation_id in orgs else "",
        },
        "before": [photos.show(p.sha256) for p in o.photos],
        "stops": [{"started_at": st.started_at, "resumed_at": st.resumed_at} for st in detail.stops],
        # 抄送: the owner (建设单位) gets a copy of every notice it did not issue itself
        "cc": [orgs[owner]["name"]] if owner in orgs and owner != o.issuer_organisation_id else [],
    }
    if which == "reply":
        # the reply cites the notice it answers: the one it went out under, or its own
        if o.notice_number:
            context["notice_number"] = o.notice_number
        else:
            own = await latest_numbers(KINDS["notice"], [o.id])
            context["notice_number"] = own.get(o.id, "")
        context["status"] = o.status.value
        context["closed_at"] = o.closed_at
        context["responses"] = [
            {
                "round": r.round,
                "responded_at": r.responded_at,
                "responder": people.get(r.responder_id, "") if r.responder_id else "",
                "text": r.text,
                "late": r.late,
                "review": r.review,
                "reviewer": people.get(r.reviewed_by_id, "") if r.reviewed_by_id else "",
                "reviewed_at": r.reviewed_at,
                "review_note": r.review_note,
                "after": [photos.show(p.sha256) for p in r.photos],
            }
            for r in detail.responses
        ]
    # the notice comes from the issuer's organisation; the reply from the contractor answering it
    issuing = o.issuer_organisation_id if which == "notice" else o.contractor_id
    kind = KINDS[which]
    title = rules.label("order_notice_title", o.kind) if which == "notice" else rules.kind_info(kind).title
    return ReportData(
        kind=kind,
        subject_id=o.id,
        project_id=o.project_id,
        title=title,
        letterhead=await letterhead(project, issuing),
        context=context,
        thumbnails=photos.thumbnails(),
    )
