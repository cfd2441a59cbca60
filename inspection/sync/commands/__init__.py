"""Every command a tablet may push, by name, with the Struct its arguments decode to.

One explicit table, so a reader sees the whole write surface of sync at once. A name carries its
version (`@1`): a command whose arguments change gets a new name, and old tablets keep theirs.
"""

from __future__ import annotations

from typing import Any

from inspection.checklists import schemas as checklist_schemas
from inspection.rectification import schemas as order_schemas
from inspection.samples import schemas as sample_schemas
from inspection.sync.commands import checklists, projects, rectification, samples
from inspection.sync.commands.base import (
    AlreadyApplied,
    Command,
    CommandContext,
    DomainServices,
    Outcome,
    decode,
    refusal,
)

COMMANDS: dict[str, Command[Any]] = {
    "site.update@1": Command(projects.SiteEdit, projects.site_update),
    "building.update@1": Command(projects.BuildingEdit, projects.building_update),
    "work_item.update@1": Command(projects.WorkItemEdit, projects.work_item_update),
    "inspection.create@1": Command(checklist_schemas.InspectionCreate, checklists.create),
    "answer.set@1": Command(checklists.AnswerSet, checklists.answer_set),
    "inspection.submit@1": Command(checklist_schemas.SubmitBody, checklists.submit),
    "order.create@1": Command(order_schemas.OrderCreate, rectification.create),
    "order.issue@1": Command(order_schemas.IssueBody, rectification.issue),
    "order.respond@1": Command(order_schemas.RespondBody, rectification.respond),
    "order.accept@1": Command(order_schemas.AcceptBody, rectification.accept),
    "order.reject@1": Command(order_schemas.RejectBody, rectification.reject),
    "order.cancel@1": Command(order_schemas.CancelBody, rectification.cancel),
    "order.resume@1": Command(order_schemas.ResumeBody, rectification.resume),
    "batch.create@1": Command(sample_schemas.BatchCreate, samples.create_batch),
    "sample.record@1": Command(samples.SampleRecord, samples.record_sample),
    "sample.results@1": Command(sample_schemas.ResultsBody, samples.record_results),
    "sample.retest@1": Command(samples.RetestRecord, samples.take_retest),
}

__all__ = ["COMMANDS", "AlreadyApplied", "Command", "CommandContext", "DomainServices", "Outcome", "decode", "refusal"]
