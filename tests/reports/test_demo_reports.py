"""Every report renders from the demo data (`make run` shows the same), as a demo user would get it."""

from __future__ import annotations

from inspection.actor import Actor
from inspection.clock import FixedClock
from inspection.demo import load_demo
from inspection.projects.tables import Membership, Project, User
from inspection.rectification.tables import OrderResponse, RectificationOrder
from inspection.reports import rules
from inspection.reports.service import ReportsService
from inspection.settings import get_settings
from tests.reports.helpers import pdf_text, squeeze


async def _actor(username: str) -> Actor:
    row = await User.select(User.id, User.organisation, User.is_admin).where(User.username == username).first()
    assert row is not None
    return Actor(user_id=row["id"], username=username, organisation_id=row["organisation"], is_admin=row["is_admin"])


async def test_reports_from_demo_data(clock: FixedClock) -> None:
    assert await load_demo(quiet=True, clock=clock) is True
    service = ReportsService(get_settings(), clock)
    supervisor = await _actor("supervisor1")
    answered = await (
        RectificationOrder.select(RectificationOrder.id, RectificationOrder.project, RectificationOrder.description)
        .where(
            RectificationOrder.id.is_in(OrderResponse.select(OrderResponse.order))
            # the supervisor's own projects (the programme demo answers orders in others too)
            & RectificationOrder.project.is_in(
                Membership.select(Membership.project).where(Membership.user == supervisor.user_id)
            )
        )
        .order_by(RectificationOrder.description)
        .first()
    )
    assert answered is not None
    try:
        for which, title in (("notice", "整改通知单"), ("reply", "整改回复单")):
            rendered = await service.issue(supervisor, await service.rectification(supervisor, answered["id"], which))
            text = squeeze(pdf_text(rendered.pdf))
            assert title in text and squeeze(answered["description"])[:20] in text
        weekly = await service.issue(supervisor, await service.weekly(supervisor, answered["project"]))
        text = squeeze(pdf_text(weekly.pdf))
        assert "工程质量安全周报" in text and "各小区进度" in text
        project = await Project.select(Project.district, Project.year).where(Project.id == answered["project"]).first()
        assert project is not None
        programme = await service.issue(
            supervisor, await service.programme_weekly(supervisor, project["district"], project["year"])
        )
        assert f"范围：{project['district']}{project['year']}年老旧小区改造" in squeeze(pdf_text(programme.pdf))
        assert rendered.number.startswith(rules.kind_info("rectification_reply").code)
    finally:
        await service.close()


async def test_domain_reports_from_demo_data(clock: FixedClock) -> None:
    from inspection.checklists.tables import Inspection
    from inspection.samples.tables import MaterialBatch
    from inspection.warranty.tables import Acceptance

    assert await load_demo(quiet=True, clock=clock) is True
    service = ReportsService(get_settings(), clock)
    supervisor = await _actor("supervisor1")
    try:
        inspection = await Inspection.select(Inspection.id).where(Inspection.status == "submitted").first()
        assert inspection is not None, "the demo has no submitted inspection"
        rendered = await service.issue(supervisor, await service.inspection(supervisor, inspection["id"]))
        assert "检查结果汇总" in squeeze(pdf_text(rendered.pdf))
        batch = await MaterialBatch.select(MaterialBatch.project).first()
        assert batch is not None, "the demo has no material batch"
        rendered = await service.issue(supervisor, await service.ledger(supervisor, batch["project"], None, None))
        assert "进场批次及取样送检" in squeeze(pdf_text(rendered.pdf))
        acceptance = await Acceptance.select(Acceptance.id, Acceptance.project).first()
        assert acceptance is not None, "the demo has no acceptance"
        owner = await _actor("owner1")
        rendered = await service.issue(owner, await service.acceptance(owner, acceptance["id"]))
        assert "参加验收单位及人员" in squeeze(pdf_text(rendered.pdf))
        rendered = await service.issue(owner, await service.warranty_register(owner, acceptance["project"]))
        assert "保修登记表" in squeeze(pdf_text(rendered.pdf))
    finally:
        await service.close()
