"""Supervision plans (监理控制点): per work type, the ordered hold points (停止点), witness points
(见证点) and side-station points (旁站), each with its checklist template; and where every work
item stands on its plan.

A point passes when an inspection made at that point (`supervision_point` on the inspection) is
submitted with a passing grade, and fails when it is submitted failing (a later passing one
clears it). Starting a step while an earlier hold point has not passed is refused with 409, or —
with `hold_point_violation = "record"` in rules.toml — allowed, marked a violation, and a draft
rectification order is opened for the inspector to review.

The plan rules at the top are pure; the service functions below them do the I/O.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID

from inspection.actor import SYSTEM, Actor
from inspection.checklists import schemas as s
from inspection.checklists.scoring import FAILED, rule_data
from inspection.checklists.tables import SupervisionPointState
from inspection.clock import Clock
from inspection.errors import Conflict, Forbidden, NotFound, ValidationFailed
from inspection.messages import Message, t
from inspection.notifications.kinds import Kind
from inspection.notifications.outbox import Event, notify, portal_link
from inspection.notifications.recipients import people
from inspection.projects.access import project_access
from inspection.projects.names import place_names
from inspection.projects.rules import Role, WorkType
from inspection.projects.tables import WorkItem
from inspection.records import Write, contractor_bucket, project_bucket, retry_races, write
from inspection.rectification.rules import ISSUING_ROLES, OrderKind, Severity, Source
from inspection.rectification.service import OrderSpec, open_order

PLAN_DIR = Path(__file__).with_name("plans")
POINT_KINDS = ("hold", "witness", "side_station")
SPS = SupervisionPointState


class PlanError(ValueError):
    def __init__(self, problems: list[tuple[str, str, Message]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{f}: {p or '-'}: {r}" for f, p, r in problems))


# Who may be named as taking part in a point besides the supervisor and the contractor: a utility
# operator at its gas tests, the special-equipment inspection institute at a lift's inspection.
PARTICIPANTS = {
    "utility": "专业经营单位",
    "lab": "检测机构",
    "designer": "设计单位",
    "owner": "建设单位",
    "special_equipment_institute": "特种设备检验机构",
}


@dataclass(frozen=True)
class Point:
    code: str
    kind: str
    title: str
    template_code: str
    photos_required: bool
    # who takes part besides the supervisor and the contractor (PARTICIPANTS)
    participants: tuple[str, ...] = ()
    # the work item cannot be handed over (joint acceptance) until this point has passed
    blocks_handover: bool = False


@dataclass(frozen=True)
class Plan:
    code: str
    work_type: str
    title: str
    points: tuple[Point, ...]
    # what the work samples (material codes of inspection/samples/rules.toml)
    materials: tuple[str, ...] = ()
    source: str = ""

    def index(self, code: str) -> int:
        for i, p in enumerate(self.points):
            if p.code == code:
                return i
        raise KeyError(code)


def parse_plan(
    raw: dict[str, Any],
    file: str,
    template_codes: set[str] | None = None,
    material_codes: set[str] | None = None,
) -> Plan:
    problems: list[tuple[str, str, Message]] = []
    work_type = raw.get("work_type")
    if work_type not in {w.value for w in WorkType}:
        problems.append((file, "", t("plan.work_type", value=repr(work_type))))
    points: list[Point] = []
    for i, p in enumerate(raw.get("points", [])):
        where = str(p.get("code") or f"points[{i}]")
        if p.get("kind") not in POINT_KINDS:
            problems.append((file, where, t("plan.kind", allowed=list(POINT_KINDS))))
        if not isinstance(p.get("title"), str) or not p.get("title"):
            problems.append((file, where, t("plan.title")))
        code = p.get("template_code")
        if not isinstance(code, str) or (template_codes is not None and code not in template_codes):
            problems.append((file, where, t("plan.template_code", value=repr(code))))
        participants = p.get("participants", [])
        if not isinstance(participants, list) or any(x not in PARTICIPANTS for x in participants):
            problems.append((file, where, t("plan.participants", allowed=list(PARTICIPANTS))))
            participants = []
        blocks = p.get("blocks_handover", False)
        if not isinstance(blocks, bool) or (blocks and p.get("kind") != "hold"):
            problems.append((file, where, t("plan.blocks_handover")))
            blocks = False
        points.append(
            Point(
                where,
                str(p.get("kind")),
                str(p.get("title")),
                str(code),
                bool(p.get("photos_required", True)),
                tuple(str(x) for x in participants),
                blocks,
            )
        )
    if not points:
        problems.append((file, "", t("plan.no_points")))
    if len({p.code for p in points}) != len(points):
        problems.append((file, "", t("plan.points_repeat")))
    materials = raw.get("materials", [])
    if not isinstance(materials, list) or not all(isinstance(m, str) for m in materials):
        problems.append((file, "", t("plan.materials_list")))
        materials = []
    elif material_codes is not None:
        unknown = [m for m in materials if m not in material_codes]
        if unknown:
            problems.append((file, "", t("plan.materials_unknown", codes=unknown)))
    if problems:
        raise PlanError(problems)
    return Plan(
        str(raw.get("code")),
        str(work_type),
        str(raw.get("title", "")),
        tuple(points),
        tuple(materials),
        str(raw.get("source", "")),
    )


def open_holds_before(plan: Plan, point_code: str, states: dict[str, str]) -> list[str]:
    """Hold points earlier in the plan than `point_code` that have not passed."""
    stop = plan.index(point_code)
    return [p.code for p in plan.points[:stop] if p.kind == "hold" and states.get(p.code) != "passed"]


def current_point(plan: Plan, states: dict[str, str]) -> str | None:
    """The first point not yet passed (None when every point has passed)."""
    return next((p.code for p in plan.points if states.get(p.code) != "passed"), None)


@lru_cache(maxsize=1)
def plans() -> dict[str, Plan]:
    """Shipped plans by work type."""
    from inspection.checklists.templates import load_file, shipped_files
    from inspection.samples.rulebook import default_rulebook

    codes = {load_file(f).code for f in shipped_files()}
    materials = set(default_rulebook().materials)
    out: dict[str, Plan] = {}
    for f in sorted(PLAN_DIR.glob("*.toml")):
        plan = parse_plan(tomllib.loads(f.read_text(encoding="utf-8")), str(f), codes, materials)
        if plan.work_type in out:
            raise PlanError(
                [(str(f), "", t("plan.work_type_twice", work_type=plan.work_type, code=out[plan.work_type].code))]
            )
        out[plan.work_type] = plan
    return out


def violation_mode() -> str:
    mode = str(rule_data().get("supervision", {}).get("hold_point_violation", "refuse"))
    return mode if mode in ("refuse", "record") else "refuse"


# I/O


async def _work_item(work_item_id: UUID | None) -> dict[str, Any]:
    row = await WorkItem.select().where((WorkItem.id == work_item_id) & WorkItem.deleted.eq(False)).first()
    if row is None:
        raise NotFound(t("checklists.work_item_does_not_exist", work_item_id=work_item_id))
    return row  # type: ignore[no-any-return]


def _plan_for(item: dict[str, Any]) -> Plan | None:
    return plans().get(item["work_type"])


def _buckets(item: dict[str, Any]) -> list[str]:
    buckets = [project_bucket(item["project"])]
    if item["contractor"]:
        buckets.append(contractor_bucket(item["project"], item["contractor"]))
    return buckets


async def point_of(work_item_id: UUID | None, point_code: str) -> Point:
    item = await _work_item(work_item_id)
    plan = _plan_for(item)
    point = next((p for p in plan.points if p.code == point_code), None) if plan else None
    if point is None:
        raise ValidationFailed(
            t("checklists.plan_has_no_point", work_type=item["work_type"], point_code=point_code),
            field="supervision_point",
        )
    return point


async def check_point_template(work_item_id: UUID | None, point_code: str, template_code: str) -> None:
    """An inspection made at a point must use the point's template."""
    point = await point_of(work_item_id, point_code)
    if point.template_code != template_code:
        raise ValidationFailed(
            t(
                "checklists.point_inspected_not",
                point_code=point_code,
                template_code=point.template_code,
                template_code2=template_code,
            ),
            field="template_code",
        )


async def _states(work_item_id: UUID) -> dict[str, dict[str, Any]]:
    rows = await SPS.select().where((SPS.work_item == work_item_id) & SPS.deleted.eq(False))
    return {r["point_code"]: r for r in rows}


async def _set_state(w: Write, item: dict[str, Any], plan: Plan, code: str, changes: dict[str, Any]) -> dict[str, Any]:
    existing = (await _states(item["id"])).get(code)
    if existing is None:
        return await w.insert(
            SPS,
            {
                "project": item["project"],
                "work_item": item["id"],
                "plan_code": plan.code,
                "point_code": code,
                **changes,
            },
            _buckets(item),
        )
    return await w.update(SPS, existing["id"], changes, _buckets(item), current=existing)


async def record_inspection(w: Write, inspection: dict[str, Any], grade: str) -> None:
    """Called by submit: the inspection decides its point."""
    item = await _work_item(inspection["work_item"])
    plan = _plan_for(item)
    if plan is None:
        return
    state = "failed" if grade == FAILED else "passed"
    await _set_state(
        w,
        item,
        plan,
        inspection["supervision_point"],
        {"state": state, "inspection": inspection["id"], "decided_at": w.now},
    )


async def _hold_point_waiting(w: Write, item: dict[str, Any], point: Point, row: dict[str, Any], actor: Actor) -> None:
    """A hold point's step has started: the project's supervisors must come and inspect it."""
    place = {"site": item["site"], "building": item.get("building"), "work_item": item["id"]}
    await notify(
        w,
        Event(
            kind=Kind.hold_point_waiting,
            project_id=item["project"],
            subject_table=SPS._meta.tablename,
            subject_id=row["id"],
            text=t(
                "notify.hold_point_waiting",
                place=(await place_names([place]))[0],
                point=point.title,
                at=w.now,
                link=portal_link(f"/portal/projects/{item['project']}"),
            ),
            users=await people(item["project"], [Role.supervisor]),
            actor=actor.user_id,
        ),
    )


@retry_races
class SupervisionService:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def _progress(self, item: dict[str, Any]) -> s.ProgressOut:
        plan = _plan_for(item)
        states = await _states(item["id"])
        if plan is None:
            return s.ProgressOut(
                work_item=item["id"],
                work_type=item["work_type"],
                plan_code=None,
                points=[],
                current=None,
                waiting_hold_points=[],
            )
        simple = {c: r["state"] for c, r in states.items()}
        points = []
        for p in plan.points:
            r = states.get(p.code, {})
            points.append(
                s.PointOut(
                    code=p.code,
                    kind=p.kind,
                    title=p.title,
                    template_code=p.template_code,
                    photos_required=p.photos_required,
                    participants=list(p.participants),
                    blocks_handover=p.blocks_handover,
                    state=r.get("state", "pending"),
                    violation=bool(r.get("violation", False)),
                    inspection=r.get("inspection"),
                    started_at=r.get("started_at"),
                    decided_at=r.get("decided_at"),
                )
            )
        current = current_point(plan, simple)
        waiting = [p.code for p in plan.points if p.kind == "hold" and simple.get(p.code) != "passed"]
        return s.ProgressOut(
            work_item=item["id"],
            work_type=item["work_type"],
            plan_code=plan.code,
            points=points,
            current=current,
            waiting_hold_points=waiting,
        )

    async def _readable(self, actor: Actor, work_item_id: UUID) -> tuple[dict[str, Any], Any]:
        item = await WorkItem.select().where((WorkItem.id == work_item_id) & WorkItem.deleted.eq(False)).first()
        if item is None:
            raise NotFound(t("checklists.work_item_does_not_exist", work_item_id=work_item_id))
        try:
            access = await project_access(actor, item["project"])
        except NotFound:
            raise NotFound(t("checklists.work_item_does_not_exist", work_item_id=work_item_id)) from None
        if not access.sees_organisation_record(item["contractor"]):
            raise NotFound(t("checklists.work_item_does_not_exist", work_item_id=work_item_id))
        return item, access

    async def progress(self, actor: Actor, work_item_id: UUID) -> s.ProgressOut:
        item, _ = await self._readable(actor, work_item_id)
        return await self._progress(item)

    async def start_point(self, actor: Actor, work_item_id: UUID, point_code: str, data: s.StartBody) -> s.ProgressOut:
        """The contractor (or the supervising side) records that the step at `point_code` starts."""
        item, access = await self._readable(actor, work_item_id)
        is_contractor = Role.contractor in access.roles and actor.organisation_id == item["contractor"]
        if not (is_contractor or access.roles & ISSUING_ROLES):
            raise Forbidden(t("checklists.only_work_item_s_contractor_supervising"))
        plan = _plan_for(item)
        if plan is None:
            raise NotFound(t("checklists.no_supervision_plan_work_type", work_type=item["work_type"]))
        if point_code not in {p.code for p in plan.points}:
            raise NotFound(t("checklists.plan_has_no_point_2", code=plan.code, point_code=point_code))
        async with write(actor, self.clock) as w:
            states = await _states(item["id"])
            current = states.get(point_code)
            if current is not None and current["state"] != "pending":
                raise Conflict(
                    t("checklists.point_already", point_code=point_code, state=current["state"]),
                    field="point_code",
                    current_state=current["state"],
                )
            holds = open_holds_before(plan, point_code, {c: r["state"] for c, r in states.items()})
            changes: dict[str, Any] = {
                "state": "started",
                "started_at": w.now,
                "started_by": actor.user_id,
                "note": data.note,
            }
            if holds:
                if violation_mode() == "refuse":
                    raise Conflict(
                        t("checklists.hold_point_s_have_not_passed", items=", ".join(holds), point_code=point_code),
                        field="point_code",
                        open_hold_points=holds,
                    )
                changes["violation"] = True
            row = await _set_state(w, item, plan, point_code, changes)
            if holds and item["contractor"] is not None:
                order = await open_order(
                    w,
                    SYSTEM,
                    OrderSpec(
                        project_id=item["project"],
                        kind=OrderKind.quality,
                        severity=Severity.general,
                        source=Source.manual,
                        source_table=SPS._meta.tablename,
                        source_id=row["id"],
                        description=f"停止点 {', '.join(holds)} 未验收即开始 {point_code}({item['name']})",
                        work_item_id=item["id"],
                    ),
                )
                await w.update(SPS, row["id"], {"violation_order": order["id"]}, _buckets(item), current=row)
            point = next(p for p in plan.points if p.code == point_code)
            if point.kind == "hold":
                await _hold_point_waiting(w, item, point, row, actor)
        return await self._progress(item)

    async def project_points(self, actor: Actor, project_id: UUID) -> s.ProjectPoints:
        access = await project_access(actor, project_id)
        query = WorkItem.select().where((WorkItem.project == project_id) & WorkItem.deleted.eq(False))
        if access.contractor_only:
            query = query.where(WorkItem.contractor == actor.organisation_id)
        items = await query.order_by(WorkItem.name)
        progress = [await self._progress(i) for i in items]
        waiting = [
            {"work_item": p.work_item, "point": code, "work_type": p.work_type}
            for p in progress
            for code in p.waiting_hold_points
        ]
        return s.ProjectPoints(
            project=project_id, work_items=[p for p in progress if p.plan_code], waiting_hold_points=waiting
        )

    async def list_plans(self) -> list[dict[str, Any]]:
        return [plan_json(p) for p in plans().values()]

    async def get_plan(self, code: str) -> dict[str, Any]:
        plan = next((p for p in plans().values() if p.code == code or p.work_type == code), None)
        if plan is None:
            raise NotFound(t("checklists.no_supervision_plan", code=code))
        return plan_json(plan)


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "code": plan.code,
        "work_type": plan.work_type,
        "title": plan.title,
        "source": plan.source,
        "materials": list(plan.materials),
        "points": [
            {
                **p.__dict__,
                "participants": list(p.participants),
                "participant_names": [PARTICIPANTS[x] for x in p.participants],
            }
            for p in plan.points
        ],
    }


def handover_holds(plan: Plan, states: dict[str, str]) -> list[Point]:
    """The hold points that must pass before the work item is handed over, and have not."""
    return [p for p in plan.points if p.blocks_handover and states.get(p.code) != "passed"]
