"""What every tablet command works with: its context, its typed arguments, its outcome, and the
two shapes most commands share (a field edit merged against the tablet's base values; a create
that may arrive twice).

A command is a thin adapter, like an API controller: it decodes its `args` with the same msgspec
Struct as the matching REST request body (so a tablet can store nothing the API would refuse),
calls the domain's service, which checks the caller's access before it reads or reveals anything,
and turns the service's answer into an outcome. Commands read no domain table themselves.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from uuid import UUID

import msgspec

from inspection import records
from inspection.actor import Actor
from inspection.clock import Clock
from inspection.errors import Conflict, DomainError, InvalidTransition, ValidationFailed, VersionConflict
from inspection.messages import t
from inspection.messages.decoding import explain
from inspection.projects.schemas import Input
from inspection.sync import registry, rules
from inspection.sync.conflicts import SyncConflict

if TYPE_CHECKING:
    from inspection.checklists.service import ChecklistsService
    from inspection.projects.service import ProjectsService
    from inspection.rectification.service import RectificationService
    from inspection.samples.service import SamplesService

A = TypeVar("A", bound=msgspec.Struct)
S = TypeVar("S", bound=msgspec.Struct)


@dataclass(frozen=True)
class DomainServices:
    """The services commands call, built once with the app's settings and clock."""

    projects: ProjectsService
    checklists: ChecklistsService
    rectification: RectificationService
    samples: SamplesService


@dataclass(frozen=True)
class Outcome:
    status: str  # applied | noop | conflict_recorded
    version: int | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class AlreadyApplied(Exception):
    """Raised by a command that finds its effect already in place (the same create or move
    arriving twice). The push rolls back whatever the attempt wrote and stores `outcome`."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome


@dataclass
class CommandContext:
    w: records.Write  # for what sync itself writes (conflict records); domain writes join it
    actor: Actor
    clock: Clock
    mutation: dict[str, Any]
    device_row_id: UUID
    services: DomainServices

    @property
    def entity(self) -> UUID:
        try:
            return UUID(str(self.mutation.get("entity_id")))
        except ValueError:
            raise ValidationFailed(t("sync.entity_id_must_record_s_uuid"), field="entity_id") from None

    @property
    def base_values(self) -> dict[str, Any]:
        return self.mutation.get("base_values") or {}

    async def record_conflict(
        self,
        *,
        table_name: str,
        record_id: UUID,
        project_id: UUID | None,
        reason: str,
        field: str = "",
        kept: Any = None,
        lost: Any = None,
        organisation_id: UUID | None = None,
    ) -> None:
        """Write a conflict record that syncs back to the project (and the contractor involved)."""
        buckets = [records.project_bucket(project_id)] if project_id else []
        if project_id and organisation_id:
            buckets.append(records.contractor_bucket(project_id, organisation_id))
        await self.w.insert(
            SyncConflict,
            {
                "project": project_id,
                "organisation": organisation_id,
                "table_name": table_name,
                "record_id": record_id,
                "field": field,
                "kept_value": json.dumps(registry.plain(kept), ensure_ascii=False),
                "lost_value": json.dumps(registry.plain(lost), ensure_ascii=False),
                "lost_by": self.actor.user_id,
                "lost_device": self.actor.device_id,
                "mutation_id": self.mutation.get("id"),
                "reason": reason,
            },
            buckets,
        )


Run = Callable[[CommandContext, Any], Awaitable[Outcome]]


@dataclass(frozen=True)
class Command(Generic[A]):
    """A named tablet command: the Struct its `args` decode to, and what it does with them."""

    args: type[A]
    run: Callable[[CommandContext, A], Awaitable[Outcome]]


def decode(args: Any, shape: type[A]) -> A:
    """A mutation's `args` as `shape`, with the REST API's strictness: no string for a number, no
    unknown field, every length, range and enum checked. A bad value is refused naming the field
    under `args.`, so the tablet can show which input was wrong."""
    try:
        return msgspec.convert(args, shape, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = message.rpartition("`$.")[2].rstrip("`") if "`$." in message else ""
        raise ValidationFailed(explain(message.split(" - at `")[0]), field=f"args.{path}" if path else "args") from None


def changes_of(body: type[msgspec.Struct], *, leave_out: frozenset[str] = frozenset(), name: str) -> type[Input]:
    """A Struct of the fields of REST body `body` (types and constraints as they are there), each
    optional: the fields a tablet's edit sets. Derived, not written twice, so the two cannot drift."""
    fields = [
        (f.name, f.type | msgspec.UnsetType, msgspec.UNSET)  # type: ignore[operator]
        for f in msgspec.structs.fields(body)
        if f.name not in leave_out
    ]
    return msgspec.defstruct(name, fields, bases=(Input,), kw_only=True, module=__name__)  # type: ignore[return-value]


def set_fields(changes: msgspec.Struct) -> dict[str, Any]:
    """The fields an edit names, as decoded values; at least one."""
    given = {k: v for k, v in msgspec.structs.asdict(changes).items() if v is not msgspec.UNSET}
    if not given:
        raise ValidationFailed(t("sync.args_set_must_name_at_least"), field="args.set")
    return given


async def edit_fields(
    ctx: CommandContext,
    *,
    table_name: str,
    current: msgspec.Struct,
    changes: msgspec.Struct,
    save: Callable[[int, dict[str, Any]], Awaitable[msgspec.Struct]],
    project_id: UUID,
    organisation_id: UUID | None = None,
) -> Outcome:
    """Apply a tablet's field edits by three-way merge against its base values. `current` is the
    record as its service returned it to this caller (so access was checked); `save(version,
    fields)` writes through the same service call as the REST update. The later arrival wins
    and what it overwrote is recorded as a conflict; an edit of a deleted record is recorded."""
    incoming = set_fields(changes)
    shown = msgspec.to_builtins(current)
    record_id = shown["id"]
    if shown.get("deleted"):
        await ctx.record_conflict(
            table_name=table_name,
            record_id=UUID(record_id),
            project_id=project_id,
            reason="entity_deleted",
            lost=msgspec.to_builtins(incoming),
            organisation_id=organisation_id,
        )
        return Outcome(
            "conflict_recorded",
            shown["version"],
            detail="the record was deleted on the server",
            extra={"code": "entity_deleted"},
        )
    merged = rules.merge_fields(shown, ctx.base_values, msgspec.to_builtins(incoming))
    if not merged.changed:
        return Outcome("noop", shown["version"])
    try:
        saved = await save(shown["version"], {k: incoming[k] for k in merged.apply})
    except VersionConflict as exc:
        # The version given is the one read a moment ago in this transaction: a mismatch is
        # someone else's write in between, a race the push runs this mutation again for.
        if isinstance(exc, records.RaceLost):
            raise
        raise records.RaceLost(exc.message, field=exc.field, **exc.extra) from exc
    for c in merged.conflicts:
        await ctx.record_conflict(
            table_name=table_name,
            record_id=UUID(record_id),
            project_id=project_id,
            reason="overwritten",
            field=c.field,
            kept=c.kept,
            lost=c.lost,
            organisation_id=organisation_id,
        )
    return Outcome("conflict_recorded" if merged.conflicts else "applied", msgspec.to_builtins(saved)["version"])


async def create_once(ctx: CommandContext, table_name: str, create: Callable[[], Awaitable[Outcome]]) -> Outcome:
    """Run a create whose id the tablet made. When it is refused and the record with that id is
    there already, made by this same person, the create arrived twice: `noop`. The record is
    looked at only then, and its author only learns what they made; anyone else's refusal stands
    (an id taken by someone else's record is `id_conflict`)."""
    try:
        return await create()
    except records.RaceLost:
        raise  # the push rolls it back and runs it again: then the record is there to look at
    except (Conflict, InvalidTransition, ValidationFailed) as exc:
        row = await records.load_row(registry.synced_tables()[table_name], ctx.entity)
        if row is not None and not row["deleted"] and row["created_by"] == ctx.actor.user_id:
            raise AlreadyApplied(Outcome("noop", row["version"])) from None
        if isinstance(exc, Conflict) and exc.field == "id" and row is not None:
            raise ValidationFailed(
                t("sync.id_already_taken_another_record", entity=ctx.entity), field="entity_id", code="id_conflict"
            ) from None
        raise


async def move_once(target: str, move: Callable[[], Awaitable[Outcome]]) -> Outcome:
    """Run a state move; refused because the record is already in `target` (the service says so
    only to someone who may see the record), it converges quietly as `noop`."""
    try:
        return await move()
    except InvalidTransition as exc:
        if exc.extra.get("current_state") == target:
            raise AlreadyApplied(Outcome("noop", None, extra={"server_state": target})) from None
        raise


def refusal(exc: DomainError) -> dict[str, Any]:
    """A refused command's stored outcome: the problem's type, detail and field."""
    return {
        "status": "rejected",
        "code": exc.slug,
        "type": f"urn:siteinspect:problem:{exc.slug}",
        "detail": exc.detail,
        "field": exc.field,
        **{k: registry.plain(v) for k, v in exc.extra.items()},
    }
