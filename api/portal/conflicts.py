"""同步冲突 pages: a project's sync conflicts for its supervisors and inspectors, each named by its
place and field with both values, who and when, and marked resolved keeping the chosen value."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery

from api.portal.common import Me, Svc, organisation_names, place_labels
from api.portal.errors import portal_error
from api.portal.forms import read_form
from api.portal.session import check_csrf, current_viewer
from api.portal.templating import label, redirect, render
from inspection.checklists import catalogue
from inspection.errors import DomainError, NotFound
from inspection.reports.loaders.base import user_names
from inspection.sync.resolution import ConflictsService, ConflictView

RECORD_KINDS = {"site": "小区", "building": "楼栋", "work_item": "改造内容", "inspection_answer": "检查项"}
FIELDS = {
    "site": {
        "name": "名称",
        "address": "地址",
        "year_built": "建成年份",
        "building_count": "楼栋数",
        "households": "户数",
        "floor_area_m2": "建筑面积（m²）",
    },
    "building": {"name": "名称", "floors": "层数", "units": "单元数", "households": "户数", "year_built": "建成年份"},
    "work_item": {
        "name": "名称",
        "contractor_id": "施工单位",
        "status": "施工状态",
        "planned_start": "计划开工",
        "planned_end": "计划完工",
    },
    "inspection_answer": {
        "value": "检查结果",
        "deduction": "扣分",
        "deductions": "扣分明细",
        "measured": "实测值",
        "unit": "单位",
        "checked": "检查数",
        "passed": "合格数",
        "text": "文字记录",
        "note": "备注",
        "flagged": "需关注",
        "serious_defect": "严重缺陷",
    },
}
REASONS = {
    "overwritten": "两人先后修改了同一栏，后到服务器的值生效",
    "entity_deleted": "记录已在服务器上删除，这次修改未能保存",
    "entity_locked": "记录已锁定，这次修改未能保存",
}
ANSWER_VALUES = {"pass": "合格", "fail": "不合格", "na": "不适用", "yes": "是", "no": "否"}


def _number(value: float) -> str:
    return f"{value:g}"


def shown(table: str, field: str, value: Any, orgs: dict[UUID, str]) -> str:
    """A stored value as a reader says it: names for ids, Chinese for codes and yes/no."""
    if value is None or value == "" or value == []:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, list):
        parts = []
        for v in value:
            if isinstance(v, dict) and "reason" in v:
                times = f" ×{v['count']}" if v.get("count", 1) != 1 else ""
                parts.append(f"{v['reason']} 扣 {_number(float(v.get('points') or 0))} 分{times}")
            elif isinstance(v, (int, float)):
                parts.append(_number(v))
            else:
                parts.append(str(v))
        return "、".join(parts)
    if isinstance(value, dict):  # a whole edit that was refused: each field it set
        labels = FIELDS.get(table, {})
        return "；".join(f"{labels.get(k, '其他')}：{shown(table, k, v, orgs)}" for k, v in value.items())
    text = str(value)
    if table == "inspection_answer" and field == "value":
        return ANSWER_VALUES.get(text, text)
    if table == "work_item" and field == "status":
        return label(text, "work_status")
    if table == "work_item" and field == "contractor_id":
        try:
            return orgs.get(UUID(text), "（未知单位）")
        except ValueError:
            return text
    return text


def _org_ids(conflicts: list[ConflictView]) -> set[UUID | None]:
    ids: set[UUID | None] = set()
    for c in conflicts:
        if c.table_name == "work_item" and c.field == "contractor_id":
            for v in (c.kept, c.lost, c.chosen):
                try:
                    ids.add(UUID(str(v)) if v else None)
                except ValueError:
                    continue
    return ids


def service_of(services: Any) -> ConflictsService:
    return ConflictsService(services.clock, services.projects, services.checklists)


class ConflictPages(Controller):
    path = "/portal"
    dependencies = {"viewer": Provide(current_viewer)}

    async def _page(
        self,
        request: Request[Any, Any, Any],
        viewer: Any,
        services: Any,
        project_id: UUID,
        show: str = "open",
        **extra: Any,
    ) -> Response[str]:
        actor = viewer.actor
        conflicts = service_of(services)
        found = await conflicts.list_conflicts(actor, project_id, resolved=None if show == "all" else False)
        project = await services.projects.get_project(actor, project_id)
        places = await place_labels(services, actor, [(c.site_id, c.building_id, c.work_item_id) for c in found])
        people = await user_names([c.lost_by for c in found] + [c.resolved_by for c in found])
        orgs = await organisation_names(services, actor, _org_ids(found))
        items: dict[tuple[UUID, str], str] = {}
        for c in found:
            if c.template_id and (c.template_id, c.item_code) not in items:
                template = catalogue.template_of(await catalogue.get_version(c.template_id))
                for item in template.items:
                    items[(c.template_id, item.code)] = item.text
        rows = []
        for c in found:
            what = items.get((c.template_id, c.item_code), "") if c.template_id else ""
            rows.append(
                {
                    "c": c,
                    "place": places.get((c.site_id, c.building_id, c.work_item_id), ""),
                    "kind": RECORD_KINDS.get(c.table_name, "记录"),
                    "item": what,
                    "field": FIELDS.get(c.table_name, {}).get(c.field, "整条修改") if c.field else "整条修改",
                    "reason": REASONS.get(c.reason, "同步时未能按原样保存"),
                    "kept": shown(c.table_name, c.field, c.kept, orgs),
                    "lost": shown(c.table_name, c.field, c.lost, orgs),
                    "chosen": shown(c.table_name, c.field, c.chosen, orgs) if c.resolved else "",
                    # the person whose push met the conflict: the later edit, or the one not saved
                    "who_label": "覆盖人" if c.reason == "overwritten" else "提交人",
                    "who": people.get(c.lost_by, "（未知）") if c.lost_by else "（未知）",
                    "resolver": people.get(c.resolved_by, "（未知）") if c.resolved_by else "",
                    "can_apply": bool(c.field),
                }
            )
        return render(
            request,
            "conflicts.html",
            status_code=extra.pop("status_code", 200),
            project=project,
            rows=rows,
            show=show,
            done=request.query_params.get("done"),
            error=extra.pop("error", None),
            failed=extra.pop("failed", None),
            form=extra.pop("form", {}),
        )

    @get("/projects/{project_id:uuid}/conflicts", name="portal-conflicts")
    async def list_conflicts(
        self,
        request: Request[Any, Any, Any],
        project_id: FromPath[UUID],
        viewer: Me,
        services: Svc,
        show: FromQuery[str] = "open",
    ) -> Response[str]:
        return await self._page(request, viewer, services, project_id, "all" if show == "all" else "open")

    @post("/conflicts/{conflict_id:uuid}/resolve", status_code=303)
    async def resolve(
        self, request: Request[Any, Any, Any], conflict_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        """标为已解决, keeping the server's value or writing the overwritten one back."""
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        conflicts = service_of(services)
        found = await conflicts.get(viewer.actor, conflict_id)  # 404 before anything else is said
        version = form.get("version")
        try:
            await conflicts.resolve(
                viewer.actor,
                conflict_id,
                form.get("choice"),
                form.get("note").strip(),
                int(version) if version.isdigit() else None,
            )
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            return await self._page(
                request,
                viewer,
                services,
                found.project_id,
                status_code=exc.status,
                error=portal_error(exc),
                failed=conflict_id,
                form=form.fields,
            )
        return redirect(request, f"/portal/projects/{found.project_id}/conflicts?done={conflict_id}")
