"""Tablet commands on inspections.

- `inspection.create@1` (entity_id: the inspection id made on the tablet; args: the body of
  POST /inspections) starts a draft; the same create arriving twice is a noop.
- `answer.set@1` (entity_id: the inspection id; args: {item_code, set: {field: value}, photos})
  merges the fields against the tablet's `base_values`, three-way, like every field edit: the
  later arrival wins and an overwritten value is kept in `sync_conflict`. The merged answer is
  then stored through the same service call as PUT …/answers, checked against the template.
- `inspection.submit@1` (entity_id; args: the body of POST …/submit) submits through the same
  service as the API; a submission that already happened with the same signature is a noop.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inspection.checklists import schemas as s
from inspection.errors import InvalidTransition
from inspection.projects.schemas import Input
from inspection.sync import rules
from inspection.sync.commands.base import (
    AlreadyApplied,
    CommandContext,
    Outcome,
    changes_of,
    create_once,
    set_fields,
)

AnswerChanges = changes_of(s.AnswerIn, leave_out=frozenset({"item_code", "photos"}), name="AnswerChanges")
ANSWER_FIELDS = tuple(AnswerChanges.__struct_fields__)


class AnswerSet(Input, kw_only=True):
    item_code: s.Code
    set: AnswerChanges  # type: ignore[valid-type]
    photos: s.Photos = []


async def create(ctx: CommandContext, args: s.InspectionCreate) -> Outcome:
    data = msgspec.structs.replace(args, id=ctx.entity)

    async def run() -> Outcome:
        detail = await ctx.services.checklists.create(ctx.actor, data)
        return Outcome("applied", detail.inspection.version, extra={"server_state": detail.inspection.status})

    return await create_once(ctx, "inspection", run)


def _as_edited(answer: s.AnswerOut | None) -> dict[str, Any]:
    """An answer in the terms a tablet edits it: empty values as None."""
    if answer is None:
        return dict.fromkeys(ANSWER_FIELDS)
    # as JSON carries them, so a tablet's base values compare equal to what the server holds
    out = {k: msgspec.to_builtins(getattr(answer, k)) for k in ANSWER_FIELDS}
    out["measured"] = answer.measured or None
    out["deductions"] = out["deductions"] or None
    for key in ("value", "unit"):
        out[key] = out[key] or None
    return out


async def answer_set(ctx: CommandContext, args: AnswerSet) -> Outcome:
    checklists, inspection_id = ctx.services.checklists, ctx.entity
    incoming = set_fields(args.set)
    answer = await checklists.answer_for_edit(ctx.actor, inspection_id, args.item_code)
    current = _as_edited(answer)
    merged = rules.merge_fields(current, ctx.base_values, msgspec.to_builtins(incoming))
    if not merged.changed and not args.photos and answer is not None:
        return Outcome("noop", answer.version)
    fields = {**current, **{k: msgspec.to_builtins(incoming[k]) for k in merged.apply}}
    fields["flagged"] = bool(fields["flagged"])
    fields["serious_defect"] = bool(fields["serious_defect"])
    fields["note"] = fields["note"] or ""
    # through msgspec's conversion, so nested values (itemised deductions) become their Structs
    answer_in = msgspec.convert({**fields, "item_code": args.item_code, "photos": args.photos}, s.AnswerIn)
    stored = await checklists.store_answers(ctx.actor, inspection_id, [answer_in])
    for c in merged.conflicts:
        await ctx.record_conflict(
            table_name="inspection_answer",
            record_id=stored[0]["id"],
            project_id=stored[0]["project"],
            reason="overwritten",
            field=c.field,
            kept=c.kept,
            lost=c.lost,
        )
    return Outcome("conflict_recorded" if merged.conflicts else "applied", stored[0]["version"])


async def submit(ctx: CommandContext, args: s.SubmitBody) -> Outcome:
    checklists, inspection_id = ctx.services.checklists, ctx.entity
    try:
        submitted = await checklists.submit_record(ctx.actor, inspection_id, args)
    except InvalidTransition:
        # refused after the access check: if this very submission is the one on record, converge
        found = (await checklists.get(ctx.actor, inspection_id)).inspection
        if (
            found.status == "submitted"
            and found.inspector == ctx.actor.user_id
            and found.signature_sha256 == args.signature_sha256
        ):
            raise AlreadyApplied(
                Outcome("noop", found.version, extra={"server_state": found.status, "grade": found.grade})
            ) from None
        raise
    return Outcome(
        "applied", submitted["version"], extra={"server_state": submitted["status"], "grade": submitted["grade"]}
    )
