"""Sync conflicts (同步冲突) of a project read and resolved by its supervisors and inspectors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from inspection import records
from inspection.actor import Actor
from inspection.checklists import schemas as cs
from inspection.checklists.service import ChecklistsService
from inspection.checklists.tables import Inspection, InspectionAnswer
from inspection.clock import Clock
from inspection.errors import InvalidTransition, NotFound, ValidationFailed
from inspection.messages import t
from inspection.projects import schemas as ps
from inspection.projects.access import project_access
from inspection.projects.rules import Role
from inspection.projects.service import ProjectsService
from inspection.projects.tables import Building, WorkItem
from inspection.sync.commands.checklists import _as_edited
from inspection.sync.conflicts import SyncConflict
from inspection.sync.tables import SyncMutation

# Who sees a project's conflicts and decides them: the people whose tablets make them. Other
# members of the project are answered as if there were nothing there (404), like non-members.
RESOLVING_ROLES = (Role.supervisor, Role.inspector)
Choice = Literal["kept", "lost"]
CHOICES = ("kept", "lost")


@dataclass(frozen=True)
class ConflictView:
    """One conflict with what a reader needs to name it: the place its record belongs to."""

    id: UUID
    project_id: UUID
    table_name: str
    record_id: UUID
    field: str
    reason: str
    kept: Any
    lost: Any
    lost_by: UUID | None
    lost_device: str
    arrived_at: datetime  # when the losing change reached the server
    version: int
    site_id: UUID | None = None
    building_id: UUID | None = None
    work_item_id: UUID | None = None
    inspection_id: UUID | None = None
    template_id: UUID | None = None
    item_code: str = ""
    resolved_at: datetime | None = None
    resolved_by: UUID | None = None
    resolution: str = ""
    chosen: Any = None
    note: str = ""

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None


def _json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return raw


async def _places(rows: list[dict[str, Any]]) -> dict[UUID, dict[str, Any]]:
    """Where each conflict's record is: site, building, work item (and, for an answer, its
    inspection, checklist version and item)."""
    out: dict[UUID, dict[str, Any]] = {}
    by_table: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_table.setdefault(r["table_name"], []).append(r)
    for r in by_table.get("site", []):
        out[r["id"]] = {"site_id": r["record_id"]}
    if by_table.get("building"):
        ids = list({r["record_id"] for r in by_table["building"]})
        found = {b["id"]: b for b in await Building.select(Building.id, Building.site).where(Building.id.is_in(ids))}
        for r in by_table["building"]:
            b = found.get(r["record_id"])
            out[r["id"]] = {"site_id": b["site"] if b else None, "building_id": r["record_id"]}
    if by_table.get("work_item"):
        ids = list({r["record_id"] for r in by_table["work_item"]})
        found = {
            w["id"]: w
            for w in await WorkItem.select(WorkItem.id, WorkItem.site, WorkItem.building).where(WorkItem.id.is_in(ids))
        }
        for r in by_table["work_item"]:
            w = found.get(r["record_id"])
            out[r["id"]] = {
                "site_id": w["site"] if w else None,
                "building_id": w["building"] if w else None,
                "work_item_id": r["record_id"],
            }
    if by_table.get("inspection_answer"):
        ids = list({r["record_id"] for r in by_table["inspection_answer"]})
        answers = {
            a["id"]: a
            for a in await InspectionAnswer.select(
                InspectionAnswer.id, InspectionAnswer.inspection, InspectionAnswer.item_code
            ).where(InspectionAnswer.id.is_in(ids))
        }
        inspection_ids = list({a["inspection"] for a in answers.values()})
        inspections = {
            i["id"]: i
            for i in (
                await Inspection.select(
                    Inspection.id, Inspection.site, Inspection.building, Inspection.work_item, Inspection.template
                ).where(Inspection.id.is_in(inspection_ids))
                if inspection_ids
                else []
            )
        }
        for r in by_table["inspection_answer"]:
            a = answers.get(r["record_id"])
            i = inspections.get(a["inspection"]) if a else None
            out[r["id"]] = {
                "site_id": i["site"] if i else None,
                "building_id": i["building"] if i else None,
                "work_item_id": i["work_item"] if i else None,
                "inspection_id": i["id"] if i else None,
                "template_id": i["template"] if i else None,
                "item_code": a["item_code"] if a else "",
            }
    return out


async def _arrivals(rows: list[dict[str, Any]]) -> dict[UUID, datetime]:
    ids = list({r["mutation_id"] for r in rows if r["mutation_id"]})
    if not ids:
        return {}
    found = await SyncMutation.select(SyncMutation.mutation_id, SyncMutation.received_at).where(
        SyncMutation.mutation_id.is_in(ids)
    )
    return {m["mutation_id"]: m["received_at"] for m in found}


async def _views(rows: list[dict[str, Any]]) -> list[ConflictView]:
    places = await _places(rows)
    arrivals = await _arrivals(rows)
    return [
        ConflictView(
            id=r["id"],
            project_id=r["project"],
            table_name=r["table_name"],
            record_id=r["record_id"],
            field=r["field"],
            reason=r["reason"],
            kept=_json(r["kept_value"]),
            lost=_json(r["lost_value"]),
            lost_by=r["lost_by"],
            lost_device=r["lost_device"],
            # a conflict is written once by the push that lost; resolving it moves updated_at on
            arrived_at=arrivals.get(r["mutation_id"]) or r["updated_at"],
            version=r["version"],
            resolved_at=r["resolved_at"],
            resolved_by=r["resolved_by"],
            resolution=r["resolution"],
            chosen=_json(r["chosen_value"]) if r["resolution"] else None,
            note=r["resolution_note"],
            **places.get(r["id"], {}),
        )
        for r in rows
    ]


def _buckets(row: dict[str, Any]) -> list[str]:
    """The buckets the conflict was written to (see CommandContext.record_conflict)."""
    buckets = [records.project_bucket(row["project"])]
    if row["organisation"]:
        buckets.append(records.contractor_bucket(row["project"], row["organisation"]))
    return buckets


class ConflictsService:
    """Reads through the actor's project rights; a resolution that keeps the overwritten value
    writes it back through the same domain service call as the tablet's edit (and its rules)."""

    def __init__(self, clock: Clock, projects: ProjectsService, checklists: ChecklistsService) -> None:
        self.clock = clock
        self.projects = projects
        self.checklists = checklists

    @staticmethod
    async def _require(actor: Actor, project_id: UUID | None) -> None:
        if project_id is None or not (await project_access(actor, project_id)).has(*RESOLVING_ROLES):
            raise NotFound(t("sync.conflicts_not_found"))

    async def list_conflicts(
        self, actor: Actor, project_id: UUID, *, resolved: bool | None = None, limit: int = 500
    ) -> list[ConflictView]:
        """Unresolved first, newest first within each."""
        await self._require(actor, project_id)
        where = (SyncConflict.project == project_id) & (SyncConflict.deleted.eq(False))
        if resolved is True:
            where &= SyncConflict.resolved_at.is_not_null()
        elif resolved is False:
            where &= SyncConflict.resolved_at.is_null()
        rows = await SyncConflict.select().where(where).order_by(SyncConflict.updated_at, ascending=False).limit(limit)
        views = await _views(rows)
        return sorted(views, key=lambda v: v.resolved)

    async def count_open(self, actor: Actor, project_id: UUID) -> int | None:
        """Unresolved conflicts of the project, or None when the actor does not resolve them."""
        try:
            await self._require(actor, project_id)
        except NotFound:
            return None
        return int(
            await SyncConflict.count().where(
                (SyncConflict.project == project_id)
                & (SyncConflict.deleted.eq(False))
                & (SyncConflict.resolved_at.is_null())
            )
        )

    async def get(self, actor: Actor, conflict_id: UUID) -> ConflictView:
        row = await records.read_row(SyncConflict, conflict_id)
        if row is None or row["deleted"]:
            raise NotFound(t("sync.conflicts_not_found"))
        await self._require(actor, row["project"])
        return (await _views([row]))[0]

    async def resolve(
        self, actor: Actor, conflict_id: UUID, choice: str, note: str, version: int | None
    ) -> ConflictView:
        """Mark the conflict resolved with the value that is to stand. Choosing the overwritten
        value writes it to the record first, in the same transaction: refused by the record's own
        rules (a submitted inspection, a role that may not edit), nothing is written."""
        if choice not in CHOICES:
            raise ValidationFailed(t("sync.choose_value_to_keep"), field="choice")
        if len(note) > 2000:
            raise ValidationFailed(t("sync.resolution_note_too_long"), field="note")
        async with records.write(actor, self.clock) as w:
            row = await records.locked_row(SyncConflict, conflict_id, exclusive=True)
            if row is None or row["deleted"]:
                raise NotFound(t("sync.conflicts_not_found"))
            await self._require(actor, row["project"])
            if row["resolved_at"] is not None:
                raise InvalidTransition(t("sync.conflict_already_resolved"), field="choice", current_state="resolved")
            if version is not None and row["version"] != version:
                raise InvalidTransition(t("sync.conflict_changed_meanwhile"), field="version", current_state="changed")
            if choice == "lost":
                if not row["field"]:
                    # a whole edit refused (its record deleted or locked): nothing to write back
                    raise ValidationFailed(t("sync.lost_value_cannot_be_applied"), field="choice")
                await self._apply(actor, row)
            chosen = row["kept_value"] if choice == "kept" else row["lost_value"]
            saved = await w.update(
                SyncConflict,
                conflict_id,
                {
                    "resolved_at": w.now,
                    "resolved_by": actor.user_id,
                    "resolution": choice,
                    "chosen_value": chosen,
                    "resolution_note": note,
                },
                _buckets(row),
                expected_version=row["version"],
                action="resolve",
                current=row,
            )
        return (await _views([saved]))[0]

    async def _apply(self, actor: Actor, row: dict[str, Any]) -> None:
        """Write the overwritten value back through the domain service the tablet's edit used."""
        field, value, record_id = row["field"], _json(row["lost_value"]), row["record_id"]
        projects = self.projects
        try:
            if row["table_name"] == "site":
                site = await projects.site_for_edit(actor, record_id)
                body = msgspec.convert({"version": site.version, field: value}, ps.SiteUpdate)
                await projects.update_site(actor, record_id, body)
            elif row["table_name"] == "building":
                building = await projects.building_for_edit(actor, record_id)
                body_b = msgspec.convert({"version": building.version, field: value}, ps.BuildingUpdate)
                await projects.update_building(actor, record_id, body_b)
            elif row["table_name"] == "work_item":
                work = await projects.work_item_for_edit(actor, record_id)
                body_w = msgspec.convert({"version": work.version, field: value}, ps.WorkItemUpdate)
                await projects.update_work_item(actor, record_id, body_w)
            elif row["table_name"] == "inspection_answer":
                answer = await InspectionAnswer.select(InspectionAnswer.inspection, InspectionAnswer.item_code).where(
                    InspectionAnswer.id == record_id
                )
                if not answer:
                    raise ValidationFailed(t("sync.lost_value_cannot_be_applied"), field="choice")
                inspection_id, item_code = answer[0]["inspection"], answer[0]["item_code"]
                current = await self.checklists.answer_for_edit(actor, inspection_id, item_code)
                fields = {**_as_edited(current), field: value}
                fields["flagged"] = bool(fields["flagged"])
                fields["serious_defect"] = bool(fields["serious_defect"])
                fields["note"] = fields["note"] or ""
                answer_in = msgspec.convert({**fields, "item_code": item_code, "photos": []}, cs.AnswerIn)
                await self.checklists.store_answers(actor, inspection_id, [answer_in])
            else:
                raise ValidationFailed(t("sync.lost_value_cannot_be_applied"), field="choice")
        except msgspec.ValidationError:
            raise ValidationFailed(t("sync.lost_value_cannot_be_applied"), field="choice") from None
