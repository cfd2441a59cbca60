"""Joint acceptance, the warranty register and warranty claims over HTTP."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from api.deps import PROVIDERS, Limit, Offset, WarrantyDep
from inspection.actor import Actor
from inspection.warranty import schemas as s
from inspection.warranty.rules import ClaimState

# Litestar leaves a minimum of 0 on an optional parameter out of the OpenAPI document (it reads 0 as
# "no minimum"), and clients (and the fuzzer) would believe negative numbers are accepted.
Within = Annotated[int | None, QueryParameter(name="expiring_within_days", ge=0, le=36500, schema_extra={"minimum": 0})]

Me = NamedDependency[Actor]


class WarrantyController(Controller):
    path = "/warranty"
    dependencies = {"warranty": PROVIDERS["warranty"]}
    tags = ["warranty"]

    @post("/acceptances", operation_id="record_acceptance")
    async def record_acceptance(
        self, data: JSONBody[s.AcceptanceCreate], actor: Me, warranty: WarrantyDep
    ) -> s.AcceptanceOut:
        """竣工验收: the owner records a joint acceptance of a project or site. A passed one is
        refused (409, each blocker listed) while orders are open or work is stopped, and makes one
        warranty item per work item."""
        return await warranty.record_acceptance(actor, data)

    @get("/acceptances", operation_id="list_acceptances")
    async def list_acceptances(
        self, actor: Me, warranty: WarrantyDep, project_id: FromQuery[UUID]
    ) -> list[s.AcceptanceOut]:
        return await warranty.list_acceptances(actor, project_id)

    @get("/acceptances/{acceptance_id:str}", operation_id="get_acceptance")
    async def get_acceptance(self, acceptance_id: FromPath[UUID], actor: Me, warranty: WarrantyDep) -> s.AcceptanceOut:
        return await warranty.get_acceptance(actor, acceptance_id)

    @get("/items", operation_id="warranty_register")
    async def register(
        self,
        actor: Me,
        warranty: WarrantyDep,
        project_id: FromQuery[UUID],
        site_id: FromQuery[UUID | None] = None,
        contractor_id: FromQuery[UUID | None] = None,
        expiring_within_days: Within = None,
        include_expired: FromQuery[bool] = True,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> s.WarrantyPage:
        """The project's warranty register, soonest to expire first, with days left."""
        return await warranty.register(
            actor,
            project_id,
            site_id=site_id,
            contractor_id=contractor_id,
            expiring_within_days=expiring_within_days,
            include_expired=include_expired,
            limit=limit,
            offset=offset,
        )

    @post("/items/{item_id:str}/release-retention", status_code=HTTP_200_OK, operation_id="release_retention")
    async def release_retention(
        self,
        item_id: FromPath[UUID],
        data: JSONBody[s.RetentionRelease],
        actor: Me,
        warranty: WarrantyDep,
    ) -> s.WarrantyItemOut:
        """The owner records that the retention money (质量保证金) was paid back."""
        return await warranty.release_retention(actor, item_id, data)

    @post("/claims", operation_id="report_warranty_claim")
    async def report_claim(self, data: JSONBody[s.ClaimCreate], actor: Me, warranty: WarrantyDep) -> s.ClaimOut:
        """保修: report a defect on an item under warranty, with photos and where it is."""
        return await warranty.report_claim(actor, data)

    @get("/claims", operation_id="list_warranty_claims")
    async def list_claims(
        self,
        actor: Me,
        warranty: WarrantyDep,
        project_id: FromQuery[UUID],
        status: FromQuery[ClaimState | None] = None,
    ) -> s.ClaimPage:
        return await warranty.list_claims(actor, project_id, status)

    @get("/claims/{claim_id:str}", operation_id="get_warranty_claim")
    async def get_claim(self, claim_id: FromPath[UUID], actor: Me, warranty: WarrantyDep) -> s.ClaimOut:
        return await warranty.get_claim(actor, claim_id)

    @post("/claims/{claim_id:str}/answer", status_code=HTTP_200_OK, operation_id="answer_warranty_claim")
    async def answer_claim(
        self,
        claim_id: FromPath[UUID],
        data: JSONBody[s.ClaimAnswer],
        actor: Me,
        warranty: WarrantyDep,
    ) -> s.ClaimOut:
        """The contractor takes the claim on (`accept: true`) or disputes it, which opens a
        warranty rectification order."""
        return await warranty.answer_claim(actor, claim_id, data)
