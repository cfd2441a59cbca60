"""Tablet commands on material batches and samples.

Each command runs the same service method the API uses, inside the push's transaction. Ids are
made on the tablet (entity_id), so a command that arrives twice from its author answers `noop`;
an id already taken by someone else's record is rejected.

- `batch.create@1`   entity_id = the new batch;  args = the body of POST /samples/batches
- `sample.record@1`  entity_id = the new sample; args = {"batch_id": …} + the body of POST …/samples
- `sample.results@1` entity_id = the sample;     args = the body of POST /samples/samples/{id}/results
- `sample.retest@1`  entity_id = the new retest; args = {"retest_of": …} + the body of POST …/retest
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from inspection.samples import schemas as s
from inspection.sync.commands.base import CommandContext, Outcome, create_once


class SampleRecord(s.SampleCreate, kw_only=True):
    batch_id: UUID


class RetestRecord(s.RetestCreate, kw_only=True):
    retest_of: UUID


async def create_batch(ctx: CommandContext, args: s.BatchCreate) -> Outcome:
    data = msgspec.structs.replace(args, id=ctx.entity)

    async def run() -> Outcome:
        detail = await ctx.services.samples.create_batch(ctx.actor, data)
        return Outcome("applied", detail.batch.version, extra={"server_state": detail.batch.status})

    return await create_once(ctx, "material_batch", run)


async def record_sample(ctx: CommandContext, args: SampleRecord) -> Outcome:
    fields = msgspec.structs.asdict(args)
    batch_id = fields.pop("batch_id")
    data = s.SampleCreate(**{**fields, "id": ctx.entity})

    async def run() -> Outcome:
        detail = await ctx.services.samples.take_sample(ctx.actor, batch_id, data)
        return Outcome("applied", detail.sample.version, extra={"server_state": detail.batch.status})

    return await create_once(ctx, "sample", run)


async def record_results(ctx: CommandContext, args: s.ResultsBody) -> Outcome:
    detail = await ctx.services.samples.record_results(ctx.actor, ctx.entity, args)
    return Outcome(
        "applied", detail.sample.version, extra={"verdict": detail.sample.verdict, "server_state": detail.batch.status}
    )


async def take_retest(ctx: CommandContext, args: RetestRecord) -> Outcome:
    fields = msgspec.structs.asdict(args)
    original = fields.pop("retest_of")
    data = s.RetestCreate(**{**fields, "id": ctx.entity})

    async def run() -> Outcome:
        detail = await ctx.services.samples.take_retest(ctx.actor, original, data)
        return Outcome("applied", detail.sample.version, extra={"server_state": detail.batch.status})

    return await create_once(ctx, "sample", run)
