"""Tablet commands on material batches and samples, applied through sync push.

Each command runs the same service method the API uses, inside the push's transaction. Ids are
made on the tablet (entity_id), so a command that arrives twice from its author answers `noop`;
an id already taken by someone else's record is rejected.

- `batch.create@1`   entity_id = the new batch;  args = the body of POST /samples/batches
- `sample.record@1`  entity_id = the new sample; args = {"batch_id": …} + the body of POST …/samples
- `sample.results@1` entity_id = the sample;     args = the body of POST /samples/samples/{id}/results
- `sample.retest@1`  entity_id = the new retest; args = {"retest_of": …} + the body of POST …/retest
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

import msgspec

from inspection.errors import ValidationFailed
from inspection.samples import schemas as s
from inspection.samples.service import SamplesService
from inspection.samples.tables import MaterialBatch, Sample
from inspection.settings import get_settings
from inspection.sync.registry import Outcome
from inspection.sync.registry import parse_args as _parse
from inspection.sync.service import MutationContext

T = TypeVar("T", bound=msgspec.Struct)


def _uuid(value: Any, field: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise ValidationFailed(f"{field} must be a UUID", field=field) from None


def _service(ctx: MutationContext) -> SamplesService:
    return SamplesService(get_settings(), ctx.clock)


async def _already(ctx: MutationContext, table: type[MaterialBatch] | type[Sample], entity: UUID) -> Outcome | None:
    """`noop` when the author's own create arrives again; refusal when the id is someone else's."""
    row = await table.select(table.created_by, table.version).where(table.id == entity).first()
    if row is None:
        return None
    if row["created_by"] == ctx.actor.user_id:
        return Outcome("noop", row["version"])
    raise ValidationFailed(f"id {entity} is already taken by another record", field="entity_id", code="id_conflict")


def _pop(args: dict[str, Any], key: str) -> tuple[UUID, dict[str, Any]]:
    rest = dict(args)
    if key not in rest:
        raise ValidationFailed(f"args.{key} is required", field=f"args.{key}")
    return _uuid(rest.pop(key), f"args.{key}"), rest


async def create_batch(ctx: MutationContext) -> Outcome:
    entity = _uuid(ctx.mutation.get("entity_id"), "entity_id")
    if (done := await _already(ctx, MaterialBatch, entity)) is not None:
        return done
    data = _parse({**ctx.args, "id": str(entity)}, s.BatchCreate)
    detail = await _service(ctx).create_batch(ctx.actor, data)
    return Outcome("applied", detail.batch.version, extra={"server_state": detail.batch.status})


async def record_sample(ctx: MutationContext) -> Outcome:
    entity = _uuid(ctx.mutation.get("entity_id"), "entity_id")
    if (done := await _already(ctx, Sample, entity)) is not None:
        return done
    batch_id, rest = _pop(ctx.args, "batch_id")
    data = _parse({**rest, "id": str(entity)}, s.SampleCreate)
    detail = await _service(ctx).take_sample(ctx.actor, batch_id, data)
    return Outcome("applied", detail.sample.version, extra={"server_state": detail.batch.status})


async def record_results(ctx: MutationContext) -> Outcome:
    entity = _uuid(ctx.mutation.get("entity_id"), "entity_id")
    detail = await _service(ctx).record_results(ctx.actor, entity, _parse(ctx.args, s.ResultsBody))
    return Outcome(
        "applied", detail.sample.version, extra={"verdict": detail.sample.verdict, "server_state": detail.batch.status}
    )


async def take_retest(ctx: MutationContext) -> Outcome:
    entity = _uuid(ctx.mutation.get("entity_id"), "entity_id")
    if (done := await _already(ctx, Sample, entity)) is not None:
        return done
    original, rest = _pop(ctx.args, "retest_of")
    data = _parse({**rest, "id": str(entity)}, s.RetestCreate)
    detail = await _service(ctx).take_retest(ctx.actor, original, data)
    return Outcome("applied", detail.sample.version, extra={"server_state": detail.batch.status})


MUTATIONS = {
    "batch.create@1": create_batch,
    "sample.record@1": record_sample,
    "sample.results@1": record_results,
    "sample.retest@1": take_retest,
}
