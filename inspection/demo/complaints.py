"""Demo complaints for `siteinspect demo`: residents' reports on the first site of project 1, sent
through the same service the public notice page uses, waiting for the supervisor's triage."""

from __future__ import annotations

from inspection.clock import Clock
from inspection.complaints import schemas as s
from inspection.complaints.rules import Topic
from inspection.complaints.service import ComplaintsService
from inspection.evidence.service import EvidenceService
from inspection.projects.tables import Project, Site
from inspection.settings import Settings

COMPLAINTS = [
    (Topic.safety, "单元门口上方在拆外墙保温，没有搭防护棚，老人进出很危险。", "13800001234"),
    (Topic.disturbance, "晚上九点以后还在切割瓷砖，噪音很大，希望控制施工时间。", ""),
    (Topic.quality, "新铺的人行道透水砖下雨后有几块松动，踩上去会溅水。", ""),
]


async def load_demo(settings: Settings, clock: Clock, project_code: str) -> int:
    """Returns how many complaints were added (none when the project or its sites are missing)."""
    project = await Project.select(Project.id).where(Project.code == project_code).first()
    if project is None:
        return 0
    site = await Site.select(Site.id).where(Site.project == project["id"]).order_by(Site.name, Site.id).first()
    if site is None:
        return 0
    service = ComplaintsService(settings, clock, EvidenceService(settings, clock))
    for topic, text, contact in COMPLAINTS:
        await service.submit(site["id"], s.ComplaintIn(topic=topic, text=text, contact=contact))
    return len(COMPLAINTS)
