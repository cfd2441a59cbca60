"""Residents' complaints over HTTP for the office roles: list, read, triage into an order, dismiss.
(Residents send them from the site's public notice page, api/portal/notice.py.)"""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from api.deps import PROVIDERS, ComplaintsDep, Limit
from inspection.actor import Actor
from inspection.complaints import schemas as s
from inspection.complaints.rules import ComplaintState

Me = NamedDependency[Actor]


class ComplaintController(Controller):
    path = "/complaints"
    dependencies = {"complaints": PROVIDERS["complaints"]}
    tags = ["complaints"]

    @get("/", operation_id="list_complaints")
    async def list_(
        self,
        actor: Me,
        complaints: ComplaintsDep,
        project_id: FromQuery[UUID],
        status: FromQuery[ComplaintState | None] = None,
        limit: Limit = 100,
    ) -> s.ComplaintPage:
        """A project's complaints, newest first (its inspectors, supervisors, owners, authority)."""
        return await complaints.list_complaints(actor, project_id, status, limit)

    @get("/{complaint_id:uuid}", operation_id="get_complaint")
    async def get_one(self, complaint_id: FromPath[UUID], actor: Me, complaints: ComplaintsDep) -> s.ComplaintOut:
        return await complaints.get_complaint(actor, complaint_id)

    @post("/{complaint_id:uuid}/order", status_code=HTTP_200_OK, operation_id="complaint_to_order")
    async def to_order(
        self,
        complaint_id: FromPath[UUID],
        data: JSONBody[s.ToOrderBody],
        actor: Me,
        complaints: ComplaintsDep,
    ) -> s.ComplaintOut:
        """Issue a rectification order (source `complaint`) citing the complaint's photos."""
        return await complaints.to_order(actor, complaint_id, data)

    @post("/{complaint_id:uuid}/dismiss", status_code=HTTP_200_OK, operation_id="dismiss_complaint")
    async def dismiss(
        self,
        complaint_id: FromPath[UUID],
        data: JSONBody[s.DismissBody],
        actor: Me,
        complaints: ComplaintsDep,
    ) -> s.ComplaintOut:
        return await complaints.dismiss(actor, complaint_id, data)
