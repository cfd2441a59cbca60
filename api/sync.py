"""Tablet sync: pull changes by cursor, push an ordered outbox of named mutations."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from api.deps import PROVIDERS, SyncDep
from inspection.actor import Actor
from inspection.errors import ValidationFailed
from inspection.messages import t
from inspection.projects import schemas as s
from inspection.sync import progress, rules

MutationName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z_.]*@[0-9]+$", max_length=80)]


class PullIn(s.Input, kw_only=True):
    device_id: s.DeviceId
    schema_version: Annotated[int, msgspec.Meta(ge=0, le=1000)]
    cursor: Annotated[str, msgspec.Meta(max_length=200_000)] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=5000)] = 1000
    max_bytes: Annotated[int, msgspec.Meta(ge=10_000, le=20_000_000)] = 2_000_000
    device_now: datetime | None = None
    # ask for `estimate`: how many changes this pull has yet to send (a progress bar's total)
    estimate: bool = False


class Purge(s.Output, kw_only=True):
    bucket: str
    project_id: str | None


class PullOut(s.Output, kw_only=True):
    changes: dict[str, dict[str, list[Any]]]
    purge: list[Purge]
    cursor: str
    has_more: bool
    last_mutation_seq: int
    server_now: datetime
    reset_required: bool = False
    estimate: int | None = None


class MutationIn(s.Input, kw_only=True):
    seq: Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]
    id: UUID
    name: MutationName
    entity_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    base_version: s.Version | None = None
    base_values: dict[str, Any] = {}
    args: dict[str, Any] = {}
    device_ts: datetime | None = None


class PushIn(s.Input, kw_only=True):
    device_id: s.DeviceId
    schema_version: Annotated[int, msgspec.Meta(ge=0, le=1000)]
    mutations: Annotated[list[MutationIn], msgspec.Meta(max_length=500)]
    device_now: datetime | None = None


class PushOut(s.Output, kw_only=True):
    results: list[dict[str, Any]]
    last_mutation_seq: int


def _same_device(actor: Actor, device_id: str) -> None:
    if device_id != actor.device_id:
        raise ValidationFailed(
            t("api.device_id_must_device_session_signed"), field="device_id", session_device=actor.device_id
        )


class SyncController(Controller):
    path = "/sync"
    dependencies = {"sync": PROVIDERS["sync"]}
    tags = ["sync"]

    @post("/pull", status_code=HTTP_200_OK, operation_id="sync_pull")
    async def pull(self, data: JSONBody[PullIn], actor: NamedDependency[Actor], sync: SyncDep) -> PullOut:
        """Changes for the signed-in user's buckets since the cursor, one bounded page at a time."""
        _same_device(actor, data.device_id)
        result = await sync.pull(
            actor, data.device_id, data.cursor, data.schema_version, data.limit, data.max_bytes, data.device_now
        )
        estimate = None
        if data.estimate and not result.reset_required:
            estimate = await progress.changes_to_come(sync.key, actor, data.device_id, data.cursor)
        return PullOut(
            changes=result.changes,
            purge=[Purge(bucket=p["bucket"], project_id=p["project_id"]) for p in result.purge],
            cursor=result.cursor,
            has_more=result.has_more,
            last_mutation_seq=result.last_mutation_seq,
            server_now=result.server_now,
            reset_required=result.reset_required,
            estimate=estimate,
        )

    @post("/push", status_code=HTTP_200_OK, operation_id="sync_push")
    async def push(self, data: JSONBody[PushIn], actor: NamedDependency[Actor], sync: SyncDep) -> PushOut:
        """Apply the device's mutations in order, each exactly once; retries get the stored outcome."""
        _same_device(actor, data.device_id)
        if data.device_now is not None and data.device_now.tzinfo is not None:
            # the services correct the device times the mutations carry by the skew measured now
            actor = replace(actor, clock_skew_ms=rules.clock_skew_ms(sync.clock.now(), data.device_now))
        mutations = [msgspec.to_builtins(m) for m in data.mutations]
        for raw, m in zip(mutations, data.mutations, strict=True):
            raw["id"] = m.id
        results, last = await sync.push(actor, data.device_id, data.schema_version, mutations, data.device_now)
        return PushOut(results=results, last_mutation_seq=last)
