"""Material batches, samples, lab results, retests, dispositions and the sampling views over HTTP."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from api.deps import PROVIDERS, Limit, Offset, SamplesDep
from inspection.actor import Actor
from inspection.samples import schemas as s
from inspection.samples.rules import BatchStatus

Me = NamedDependency[Actor]


class SamplesController(Controller):
    path = "/samples"
    dependencies = {"samples": PROVIDERS["samples"]}
    tags = ["samples"]

    @get("/materials", operation_id="list_material_rules")
    async def materials(self, samples: SamplesDep) -> s.MaterialsOut:
        """The material rules (rules.toml): unit, plan, test items and limits, with sources."""
        return samples.materials()

    @post("/batches", operation_id="create_material_batch")
    async def create_batch(self, data: JSONBody[s.BatchCreate], actor: Me, samples: SamplesDep) -> s.BatchDetail:
        """Log a delivery (进场): the required sample sets follow from its quantity and the rules."""
        return await samples.create_batch(actor, data)

    @get("/batches", operation_id="list_material_batches")
    async def list_batches(
        self,
        actor: Me,
        samples: SamplesDep,
        project_id: FromQuery[UUID | None] = None,
        material: FromQuery[str | None] = None,
        status: FromQuery[BatchStatus | None] = None,
        lab_id: FromQuery[UUID | None] = None,
        contractor_id: FromQuery[UUID | None] = None,
        arrived_from: FromQuery[date | None] = None,
        arrived_to: FromQuery[date | None] = None,
        flagged: FromQuery[bool | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> s.BatchPage:
        """Batches the signed-in user may see, newest arrival first; `flagged=true`: rejected, not disposed."""
        return await samples.list_batches(
            actor,
            project_id=project_id,
            material=material,
            status=status,
            lab_id=lab_id,
            contractor_id=contractor_id,
            arrived_from=arrived_from,
            arrived_to=arrived_to,
            flagged=flagged,
            limit=limit,
            offset=offset,
        )

    @get("/batches/{batch_id:str}", operation_id="get_material_batch")
    async def get_batch(self, batch_id: FromPath[UUID], actor: Me, samples: SamplesDep) -> s.BatchDetail:
        """One batch with its plan, samples, results, disposition and filing."""
        return await samples.get_batch(actor, batch_id)

    @patch("/batches/{batch_id:str}", operation_id="correct_material_batch")
    async def update_batch(
        self,
        batch_id: FromPath[UUID],
        data: JSONBody[s.BatchUpdate],
        actor: Me,
        samples: SamplesDep,
    ) -> s.BatchDetail:
        """Correct what was logged (send the `version` read); the plan follows a corrected quantity."""
        return await samples.update_batch(actor, batch_id, data)

    @get("/batches/{batch_id:str}/plan", operation_id="get_sampling_plan")
    async def plan(self, batch_id: FromPath[UUID], actor: Me, samples: SamplesDep) -> s.PlanOut:
        """Sample sets required, taken, witnessed and missing, and any retest due."""
        return await samples.plan(actor, batch_id)

    @post("/batches/{batch_id:str}/certificates", status_code=HTTP_200_OK, operation_id="add_batch_certificates")
    async def certificates(
        self,
        batch_id: FromPath[UUID],
        data: JSONBody[s.CertificatesBody],
        actor: Me,
        samples: SamplesDep,
    ) -> s.BatchDetail:
        return await samples.add_certificates(actor, batch_id, data)

    @post("/batches/{batch_id:str}/samples", operation_id="take_sample")
    async def take_sample(
        self,
        batch_id: FromPath[UUID],
        data: JSONBody[s.SampleCreate],
        actor: Me,
        samples: SamplesDep,
    ) -> s.SampleDetail:
        """取样: sets taken (witnessed or not) and sent to a lab."""
        return await samples.take_sample(actor, batch_id, data)

    @post("/batches/{batch_id:str}/disposition", operation_id="dispose_of_batch")
    async def dispose(
        self,
        batch_id: FromPath[UUID],
        data: JSONBody[s.DispositionCreate],
        actor: Me,
        samples: SamplesDep,
    ) -> s.BatchDetail:
        """退场 / 销毁 of a rejected batch, with evidence and the witness who saw it."""
        return await samples.dispose(actor, batch_id, data)

    @get("/samples/{sample_id:str}", operation_id="get_sample")
    async def get_sample(self, sample_id: FromPath[UUID], actor: Me, samples: SamplesDep) -> s.SampleDetail:
        return await samples.get_sample(actor, sample_id)

    @post("/samples/{sample_id:str}/results", status_code=HTTP_200_OK, operation_id="record_sample_results")
    async def results(
        self,
        sample_id: FromPath[UUID],
        data: JSONBody[s.ResultsBody],
        actor: Me,
        samples: SamplesDep,
    ) -> s.SampleDetail:
        """Lab results; the verdict and the batch's status follow (never typed in)."""
        return await samples.record_results(actor, sample_id, data)

    @post("/samples/{sample_id:str}/retest", operation_id="take_retest")
    async def retest(
        self,
        sample_id: FromPath[UUID],
        data: JSONBody[s.RetestCreate],
        actor: Me,
        samples: SamplesDep,
    ) -> s.SampleDetail:
        """复验 of a failed sample: twice its sets, on the failed items."""
        return await samples.take_retest(actor, sample_id, data)

    @get("/summary", operation_id="materials_summary")
    async def summary(self, actor: Me, samples: SamplesDep, project_id: FromQuery[UUID]) -> s.SummaryOut:
        """At a glance: batches by status, rejected ones still on site, samples awaiting results,
        materials short of witnessed samples."""
        return await samples.summary(actor, project_id)

    @get("/witness-ratio", operation_id="witness_ratio")
    async def witness_ratio(self, actor: Me, samples: SamplesDep, project_id: FromQuery[UUID]) -> s.WitnessRatioOut:
        """Per material: required sets, witnessed sets, ratio and the shortfall against 30 %."""
        return await samples.witness_ratio(actor, project_id)

    @get("/ledger.csv", operation_id="material_ledger_csv", media_type="text/csv")
    async def ledger(
        self,
        actor: Me,
        samples: SamplesDep,
        project_id: FromQuery[UUID],
        arrived_from: FromQuery[date | None] = None,
        arrived_to: FromQuery[date | None] = None,
    ) -> Response[bytes]:
        """原材料进场及取样台账 as CSV (UTF-8 with BOM, so Excel shows the Chinese)."""
        body = await samples.ledger_csv(actor, project_id, arrived_from, arrived_to)
        return Response(
            content=body,
            media_type="text/csv",  # Litestar adds "; charset=utf-8" to text/* itself
            headers={"Content-Disposition": f'attachment; filename="material-ledger-{project_id}.csv"'},
        )
