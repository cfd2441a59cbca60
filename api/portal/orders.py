"""整改单 pages: the list (a contractor's open orders by deadline, or a project's orders for the
office), one order with its photos and history, the contractor's reply with photos, and the
issuer's review (accept or send back)."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery

from api.evidence import UPLOAD_ROUTE_CEILING
from api.portal.common import (
    ORDER_REPORTS,
    Me,
    Svc,
    end_of_day,
    may_issue,
    member_names,
    notice_numbers,
    number_notice,
    organisation_names,
    place_labels,
    report_links,
    store_photos,
)
from api.portal.errors import portal_error
from api.portal.forms import Form, read_form
from api.portal.panels import contractor_material
from api.portal.session import check_csrf, current_viewer
from api.portal.templating import redirect, render
from inspection.errors import DomainError, NotFound, ValidationFailed
from inspection.messages import t
from inspection.rectification import schemas as rs
from inspection.rectification.rules import AWAITING_CONTRACTOR, OPEN, OrderState, Severity, rule_deadline

MAX_REPLY_PHOTOS = 9


def _version(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


async def _issuable(actor: Any, drafts: list[Any]) -> list[Any]:
    """The drafts of projects where the actor may issue orders (others have nothing to do with them)."""
    allowed: dict[UUID, bool] = {}
    out = []
    for o in drafts:
        if o.project_id not in allowed:
            allowed[o.project_id] = await may_issue(actor, o.project_id)
        if allowed[o.project_id]:
            out.append(o)
    return out


class OrderPages(Controller):
    path = "/portal/orders"
    dependencies = {"viewer": Provide(current_viewer)}

    @get("/", name="portal-orders")
    async def list_orders(
        self,
        request: Request[Any, Any, Any],
        viewer: Me,
        services: Svc,
        project_id: FromQuery[UUID | None] = None,
        status: FromQuery[OrderState | None] = None,
        overdue: FromQuery[bool | None] = None,
        contractor_id: FromQuery[UUID | None] = None,
    ) -> Response[str]:
        """A contractor sees its open orders, overdue first then by deadline; the office filters."""
        rect = services.rectification
        actor = viewer.actor
        if status is None and overdue is None:
            # open orders: one query per open state, merged by deadline (overdue ones come first)
            items = []
            for state in sorted(OPEN):
                page = await rect.list_orders(
                    actor, project_id=project_id, status=state, contractor_id=contractor_id, limit=500
                )
                items += page.items
            items.sort(key=lambda o: (not o.overdue, o.deadline or datetime.max.replace(tzinfo=o.updated_at.tzinfo)))
            # drafts waiting to go out come first for whoever may issue them
            if not viewer.is_contractor:
                drafts = await rect.list_orders(
                    actor, project_id=project_id, status=OrderState.draft, contractor_id=contractor_id, limit=500
                )
                items = await _issuable(actor, drafts.items) + items
            heading = "待办整改单"
        else:
            page = await rect.list_orders(
                actor, project_id=project_id, status=status, overdue=overdue, contractor_id=contractor_id, limit=500
            )
            items = page.items
            if status is OrderState.draft:
                items = await _issuable(actor, items)
            heading = "整改单"
        if contractor_id is not None:
            names = await organisation_names(services, actor, {contractor_id})
            heading += f" · {names[contractor_id]}"
        projects = await services.projects.list_projects(actor, None, None, limit=500, offset=0)
        material = await contractor_material(services, actor) if viewer.is_contractor else None
        places = await place_labels(services, actor, [(o.site_id, o.building_id, o.work_item_id) for o in items])
        numbers = await notice_numbers(services, items)
        return render(
            request,
            "orders.html",
            orders=items,
            heading=heading,
            projects=projects.items,
            project_id=project_id,
            status=status.value if status else "",
            overdue=overdue,
            contractor_id=contractor_id,
            states=list(OrderState),
            material=material,
            places=places,
            numbers=numbers,
            drafts_shown=any(o.status is OrderState.draft for o in items),
        )

    @get("/notices/{notice_id:uuid}", name="portal-order-notice")
    async def notice(
        self, request: Request[Any, Any, Any], notice_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[str]:
        """整改通知单 covering several orders: its number, deadline and every item it lists."""
        actor = viewer.actor
        detail = await services.rectification.get_notice(actor, notice_id)
        n = detail.notice
        project = await services.projects.get_project(actor, n.project_id)
        orgs = await organisation_names(services, actor, {n.contractor_id, n.issuer_organisation_id})
        orders = detail.orders
        places = await place_labels(services, actor, [(o.site_id, o.building_id, o.work_item_id) for o in orders])
        return render(
            request,
            "order_notice.html",
            notice=n,
            project=project,
            orgs=orgs,
            orders=orders,
            places=places,
            numbers={o.id: n.number for o in orders},
            # the notice prints from any of its orders, under its one number
            reports=report_links(request.app, ORDER_REPORTS[:1], orders[0].id) if orders else [],
        )

    async def _detail(
        self, request: Request[Any, Any, Any], viewer: Any, services: Any, order_id: UUID, **extra: Any
    ) -> Response[str]:
        actor = viewer.actor
        detail = await services.rectification.get_order(actor, order_id)
        order = detail.order
        project = await services.projects.get_project(actor, order.project_id)
        site = await services.projects.get_site(actor, order.site_id) if order.site_id else None
        work = None
        if order.work_item_id:
            try:
                work = await services.projects.get_work_item(actor, order.work_item_id)
            except NotFound:
                work = None
        building = None
        if order.building_id:
            try:
                building = await services.projects.get_building(actor, order.building_id)
            except NotFound:
                building = None
        number = (await notice_numbers(services, [order])).get(order.id)
        if number is None and order.status is not OrderState.draft and order.notice_id is None:
            # an order issued elsewhere (the tablet, the API) gets its number when first read here
            try:
                number = await number_notice(services, actor, order.id)
            except DomainError:
                number = None
        book = services.rectification.book
        drafting = order.status is OrderState.draft and await may_issue(actor, order.project_id)
        allowed = (
            rule_deadline(services.clock.now(), book.deadline_rule(order.kind, order.severity), book.calendar)
            .astimezone(book.calendar.tz)
            .date()
            .isoformat()
        )
        orgs = await organisation_names(services, actor, {order.contractor_id, order.issuer_organisation_id})
        people = await member_names(services, actor, order.project_id)
        state = order.status
        can_respond = viewer.is_contractor and state in AWAITING_CONTRACTOR
        can_review = not viewer.is_contractor and state is OrderState.responded
        today = services.clock.today()
        return render(
            request,
            "order.html",
            status_code=extra.pop("status_code", 200),
            detail=detail,
            order=order,
            project=project,
            site=site,
            building=building,
            work=work,
            number=number,
            drafting=drafting,
            allowed=allowed,
            severities=list(Severity),
            orgs=orgs,
            people=people,
            can_respond=can_respond,
            can_review=can_review,
            max_photos=MAX_REPLY_PHOTOS,
            photo_limit=services.settings.storage.max_upload_bytes,
            default_deadline=(today + timedelta(days=7)).isoformat(),
            today=today.isoformat(),
            reports=report_links(request.app, ORDER_REPORTS if detail.responses else ORDER_REPORTS[:1], order.id),
            error=extra.pop("error", None),
            done=request.query_params.get("done"),
            form=extra.pop("form", {}),
            **extra,
        )

    async def _retry(
        self, request: Request[Any, Any, Any], viewer: Any, services: Any, order_id: UUID, exc: DomainError, form: Any
    ) -> Response[str]:
        """The same order page again with what went wrong and what the user typed."""
        if isinstance(exc, NotFound):
            raise exc
        return await self._detail(
            request,
            viewer,
            services,
            order_id,
            status_code=exc.status,
            error=portal_error(exc),
            form=form,
        )

    @get("/{order_id:uuid}", name="portal-order")
    async def order(
        self, request: Request[Any, Any, Any], order_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[str]:
        return await self._detail(request, viewer, services, order_id)

    @post("/{order_id:uuid}/respond", request_max_body_size=UPLOAD_ROUTE_CEILING, status_code=303)
    async def respond(
        self, request: Request[Any, Any, Any], order_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        """整改回复: text and photos. The photos are spooled and hashed as they arrive, stored through
        the evidence service, then cited by the response in RectificationService.respond."""
        actor = viewer.actor
        form = Form()
        with ExitStack() as stack:
            try:
                await read_form(request, stack, max_files=MAX_REPLY_PHOTOS, into=form)
            except DomainError as exc:  # a photo refused mid-form: the typed text comes back
                return await self._retry(request, viewer, services, order_id, exc, form.fields)
            check_csrf(request, form.fields)
            # the order must be the viewer's before any photo is kept (404 otherwise)
            order = (await services.rectification.get_order(actor, order_id)).order
            try:
                shas = await store_photos(services, actor, form.files, order.project_id)
                await services.rectification.respond(
                    actor,
                    order_id,
                    rs.RespondBody(text=form.get("text").strip(), photos=shas, version=_version(form.get("version"))),
                )
            except DomainError as exc:
                return await self._retry(request, viewer, services, order_id, exc, form.fields)
        return redirect(request, f"/portal/orders/{order_id}?done=respond")

    @post("/{order_id:uuid}/accept", status_code=303)
    async def accept(
        self, request: Request[Any, Any, Any], order_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        try:
            await services.rectification.accept(
                viewer.actor,
                order_id,
                rs.AcceptBody(note=form.get("note").strip(), version=_version(form.get("version"))),
            )
        except DomainError as exc:
            return await self._retry(request, viewer, services, order_id, exc, form.fields)
        return redirect(request, f"/portal/orders/{order_id}?done=accept")

    @post("/{order_id:uuid}/reject", status_code=303)
    async def reject(
        self, request: Request[Any, Any, Any], order_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        try:
            if not form.get("reason").strip():
                raise ValidationFailed(t("portal.say_what_still_wrong"), field="reason")
            deadline = end_of_day(form.get("deadline"), services.rectification.book.calendar.tz)
            await services.rectification.reject(
                viewer.actor,
                order_id,
                rs.RejectBody(
                    reason=form.get("reason").strip(),
                    deadline=deadline.isoformat(),
                    deadline_reason=form.get("deadline_reason").strip(),
                    version=_version(form.get("version")),
                ),
            )
        except DomainError as exc:
            return await self._retry(request, viewer, services, order_id, exc, form.fields)
        return redirect(request, f"/portal/orders/{order_id}?done=reject")

    @post("/{order_id:uuid}/issue", status_code=303)
    async def issue(
        self, request: Request[Any, Any, Any], order_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        """下发 one draft with the deadline picked on the page."""
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        try:
            deadline = end_of_day(form.get("deadline"), services.rectification.book.calendar.tz)
            await services.rectification.issue(
                viewer.actor,
                order_id,
                rs.IssueBody(
                    deadline=deadline.isoformat(),
                    deadline_reason=form.get("deadline_reason").strip(),
                    version=_version(form.get("version")),
                ),
            )
            await number_notice(services, viewer.actor, order_id)
        except DomainError as exc:
            return await self._retry(request, viewer, services, order_id, exc, form.fields)
        return redirect(request, f"/portal/orders/{order_id}?done=issue")

    @post("/{order_id:uuid}/edit", status_code=303)
    async def edit(
        self, request: Request[Any, Any, Any], order_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        """修改草稿: what the notice will say, and how serious it is."""
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        try:
            text = form.get("description").strip()
            if not text:
                raise ValidationFailed(t("portal.describe_draft"), field="description")
            if form.get("severity") not in {s.value for s in Severity}:
                raise ValidationFailed(t("portal.choose_severity"), field="severity")
            await services.rectification.edit_draft(
                viewer.actor,
                order_id,
                rs.DraftEdit(
                    description=text, severity=Severity(form.get("severity")), version=_version(form.get("version"))
                ),
            )
        except DomainError as exc:
            return await self._retry(request, viewer, services, order_id, exc, form.fields)
        return redirect(request, f"/portal/orders/{order_id}?done=edit")

    @post("/{order_id:uuid}/discard", status_code=303)
    async def discard(
        self, request: Request[Any, Any, Any], order_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        """作废 a draft nobody should receive, with the reason kept in its history."""
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        try:
            reason = form.get("discard_reason").strip()
            if not reason:
                raise ValidationFailed(t("portal.discard_needs_reason"), field="discard_reason")
            detail = await services.rectification.get_order(viewer.actor, order_id)
            if detail.order.status is not OrderState.draft:
                raise ValidationFailed(t("portal.only_drafts_discarded"), field="status")
            await services.rectification.cancel(
                viewer.actor, order_id, rs.CancelBody(reason=reason, version=_version(form.get("version")))
            )
        except DomainError as exc:
            return await self._retry(request, viewer, services, order_id, exc, form.fields)
        return redirect(request, f"/portal/orders/{order_id}?done=discard")
