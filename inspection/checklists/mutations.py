"""Tablet commands on inspections, applied through sync push.

- `inspection.create@1` (entity_id: the inspection id made on the tablet; args: the create body)
  starts a draft; the same create arriving twice is a noop.
- `answer.set@1` (entity_id: the inspection id; args: {item_code, set: {field: value}, photos})
  merges the fields against the tablet's `base_values`, three-way, like every field edit in sync:
  the later arrival wins and an overwritten value is kept in `sync_conflict`. The merged answer is
  then checked against the template version like an API answer. Answers of a submitted inspection
  are locked: the mutation is rejected with the server's state.
- `inspection.submit@1` (entity_id; args: the submit body) submits through the same service as
  the API; a submission that already happened with the same signature is a noop.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from inspection.checklists import schemas as s
from inspection.checklists.service import IA, IN, ChecklistsService, answer_id
from inspection.errors import InvalidTransition, ValidationFailed
from inspection.projects.access import project_access
from inspection.rectification.mutations import parse
from inspection.settings import get_settings
from inspection.sync import rules as sync_rules
from inspection.sync.registry import Outcome
from inspection.sync.service import MutationContext

ANSWER_FIELDS = ("value", "deduction", "measured", "unit", "checked", "passed", "text", "note", "flagged")


def _entity(ctx: MutationContext) -> UUID:
    try:
        return UUID(str(ctx.mutation.get("entity_id")))
    except ValueError:
        raise ValidationFailed("entity_id must be the inspection's UUID", field="entity_id") from None


def _service(ctx: MutationContext) -> ChecklistsService:
    return ChecklistsService(get_settings(), ctx.clock)


async def create(ctx: MutationContext) -> Outcome:
    inspection_id = _entity(ctx)
    data = parse({**ctx.args, "id": str(inspection_id)}, s.InspectionCreate)
    existing = await IN.select(IN.created_by, IN.version).where(IN.id == inspection_id).first()
    if existing is not None:
        if existing["created_by"] == ctx.actor.user_id:
            return Outcome("noop", existing["version"])
        raise ValidationFailed(
            f"inspection id {inspection_id} is already taken by another record", field="entity_id", code="id_conflict"
        )
    detail = await _service(ctx).create(ctx.actor, data)
    return Outcome("applied", detail.inspection.version, extra={"server_state": detail.inspection.status})


def _as_answer_fields(row: dict[str, Any]) -> dict[str, Any]:
    """An answer row in the terms a tablet edits (measured as a list, empty values as None)."""
    out = {k: row[k] for k in ANSWER_FIELDS}
    out["measured"] = json.loads(row["measured"]) if row["measured"] else None
    for key in ("value", "unit"):
        out[key] = out[key] or None
    return out


async def answer_set(ctx: MutationContext) -> Outcome:
    inspection_id = _entity(ctx)
    item_code = ctx.args.get("item_code")
    incoming = ctx.args.get("set")
    if not isinstance(item_code, str) or not item_code:
        raise ValidationFailed("args.item_code names the item answered", field="args.item_code")
    if not isinstance(incoming, dict) or not incoming:
        raise ValidationFailed("args.set must name at least one field", field="args.set")
    unknown = sorted(set(incoming) - set(ANSWER_FIELDS))
    if unknown:
        raise ValidationFailed(f"these fields are not part of an answer: {', '.join(unknown)}", field="args.set")
    inspection = await IN.select().where(IN.id == inspection_id).first()
    if inspection is not None and inspection["status"] != "draft":
        raise InvalidTransition(
            f"inspection {inspection_id} is {inspection['status']}: its answers are locked",
            field="status",
            current_state=inspection["status"],
        )
    current_row = await IA.select().where(IA.id == answer_id(inspection_id, item_code)).first()
    current = _as_answer_fields(current_row) if current_row else dict.fromkeys(ANSWER_FIELDS)
    merged = sync_rules.merge_fields(current, ctx.base_values, incoming)
    photos = ctx.args.get("photos") or []
    if not merged.changed and not photos and current_row is not None:
        return Outcome("noop", current_row["version"])
    fields = {**current, **merged.apply}
    if fields.get("flagged") is None:
        fields["flagged"] = False
    if fields.get("note") is None:
        fields["note"] = ""
    answer = parse({"item_code": item_code, "photos": photos, **fields}, s.AnswerIn)
    stored = await _service(ctx).write_answers(ctx.w, ctx.actor, inspection_id, [answer])
    for c in merged.conflicts:
        await ctx.record_conflict(
            table_name=IA._meta.tablename,
            record_id=stored[0]["id"],
            project_id=stored[0]["project"],
            reason="overwritten",
            field=c.field,
            kept=c.kept,
            lost=c.lost,
        )
    return Outcome("conflict_recorded" if merged.conflicts else "applied", stored[0]["version"])


async def submit(ctx: MutationContext) -> Outcome:
    inspection_id = _entity(ctx)
    data = parse(ctx.args, s.SubmitBody)
    row = await IN.select().where(IN.id == inspection_id).first()
    if row is not None and row["status"] != "draft":
        await project_access(ctx.actor, row["project"])
        if (
            row["status"] == "submitted"
            and row["inspector"] == ctx.actor.user_id
            and row["signature_sha256"] == data.signature_sha256
        ):
            return Outcome("noop", row["version"], extra={"server_state": row["status"], "grade": row["grade"]})
        raise InvalidTransition(
            f"inspection {inspection_id} is already {row['status']}", field="status", current_state=row["status"]
        )
    submitted = await _service(ctx).submit_in(ctx.w, ctx.actor, inspection_id, data)
    return Outcome(
        "applied", submitted["version"], extra={"server_state": submitted["status"], "grade": submitted["grade"]}
    )


MUTATIONS = {
    "inspection.create@1": create,
    "answer.set@1": answer_set,
    "inspection.submit@1": submit,
}
