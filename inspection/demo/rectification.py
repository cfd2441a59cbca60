"""Demo rectification work for `siteinspect demo`: orders in every state on the first sites of
project 1, issued by the demo inspector through the same service the API uses, some with photos,
one overdue, one answered and waiting for review, one closed, and a stop-work order."""

from __future__ import annotations

import io
import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from PIL import Image, ImageDraw

from inspection.actor import Actor
from inspection.clock import Clock, FixedClock
from inspection.evidence.service import EvidenceService
from inspection.projects.tables import Organisation, Project, User, WorkItem
from inspection.rectification import schemas as s
from inspection.rectification.rules import OrderKind, Severity
from inspection.rectification.service import RectificationService
from inspection.settings import Settings

# (work type, kind, severity, description, days ago issued, contractor answers?, reviewer verdict)
ORDERS: list[tuple[str, OrderKind, Severity, str, int, bool, str | None]] = [
    (
        "roof_waterproofing",
        OrderKind.quality,
        Severity.general,
        "屋面卷材搭接宽度不足，局部空鼓，需返工处理。",
        1,
        False,
        None,
    ),
    (
        "external_wall_insulation",
        OrderKind.quality,
        Severity.general,
        "保温板粘结面积不足，锚栓数量少于方案要求。",
        12,
        False,
        None,
    ),
    (
        "stairwell",
        OrderKind.safety,
        Severity.general,
        "楼道施工未设隔离与警示标识，居民通行存在坠物风险。",
        3,
        True,
        None,
    ),
    ("drainage", OrderKind.safety, Severity.general, "沟槽开挖深度超过2米未设临边防护栏杆。", 6, True, "accepted"),
    (
        "road_paving",
        OrderKind.quality,
        Severity.general,
        "透水砖铺装平整度超差，部分接缝宽度不均。",
        4,
        True,
        "rejected",
    ),
    (
        "water_supply",
        OrderKind.stop_work,
        Severity.major,
        "管沟作业未办理有限空间作业审批，未检测即进入，立即停工。",
        2,
        False,
        None,
    ),
]


def demo_photo(seed: int, label: str) -> bytes:
    """A small JPEG that looks enough like a site photo for the demo: sky, wall, a marked defect."""
    rng = random.Random(seed)
    image = Image.new("RGB", (800, 600), (170 + rng.randint(0, 40), 190, 215))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 260, 800, 600), fill=(150 + rng.randint(0, 30), 140, 125))
    for x in range(40, 800, 120):
        draw.rectangle((x, 300, x + 70, 380), fill=(90, 110, 130))
    cx, cy = rng.randint(150, 650), rng.randint(320, 520)
    draw.ellipse((cx - 60, cy - 40, cx + 60, cy + 40), outline=(220, 30, 30), width=6)
    draw.text((20, 20), label, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _actor(username: str) -> Actor:
    row = await User.select(User.id, User.organisation).where(User.username == username).first()
    assert row is not None, f"demo user {username} is missing"
    kind = None
    if row["organisation"] is not None:
        org = await Organisation.select(Organisation.kind).where(Organisation.id == row["organisation"]).first()
        kind = org["kind"] if org else None
    return Actor(
        user_id=row["id"],
        username=username,
        organisation_id=row["organisation"],
        organisation_kind=kind,
        device_id="demo",
    )


async def _photo(settings: Settings, clock: Clock, actor: Actor, project_id: UUID, seed: int, label: str) -> str:
    import hashlib

    data = demo_photo(seed, label)
    sha = hashlib.sha256(data).hexdigest()
    await EvidenceService(settings, clock).upload(
        actor, sha, _one_chunk(data), declared_size=len(data), project_id=project_id, original_name=f"{label}.jpg"
    )
    return sha


async def load_demo(settings: Settings, now: datetime, project_code: str) -> int:
    """Open the demo orders on project `project_code`; returns how many were made."""
    project = await Project.select(Project.id).where(Project.code == project_code).first()
    if project is None:
        return 0
    pid = project["id"]
    inspector = await _actor("inspector1")
    contractors = {org: await _actor(name) for name, org in await _contractor_users(pid)}
    items: dict[str, dict[str, Any]] = {}
    # "the first work item of each type": by site and building name, so every load picks the same
    rows = (
        await WorkItem.select(WorkItem.id, WorkItem.work_type, WorkItem.contractor)
        .where(WorkItem.project == pid)
        .order_by(WorkItem.site.name, WorkItem.building.name, WorkItem.id)
    )
    for row in rows:
        if row["contractor"] in contractors:
            items.setdefault(row["work_type"], row)
    made = 0
    for n, (work_type, kind, severity, text, days_ago, answered, verdict) in enumerate(ORDERS):
        item = items.get(work_type)
        if item is None:
            continue
        clock = FixedClock(now - timedelta(days=days_ago))
        service = RectificationService(settings, clock)
        before = await _photo(settings, clock, inspector, pid, 100 + n, f"defect-{n + 1}")
        order = await service.create_order(
            inspector,
            s.OrderCreate(
                project_id=pid,
                work_item_id=item["id"],
                kind=kind,
                severity=severity,
                description=text,
                photos=[before],
                issue=True,
            ),
        )
        made += 1
        if not answered:
            continue
        contractor = contractors[item["contractor"]]
        clock.advance(timedelta(days=1))
        after = await _photo(settings, clock, contractor, pid, 200 + n, f"fixed-{n + 1}")
        await service.respond(
            contractor, order.order.id, s.RespondBody(text="已按要求完成整改，附整改后照片，请复查。", photos=[after])
        )
        clock.advance(timedelta(hours=6))
        if verdict == "accepted":
            await service.accept(inspector, order.order.id, s.AcceptBody(note="复查合格，同意关闭。"))
        elif verdict == "rejected":
            await service.reject(
                inspector,
                order.order.id,
                s.RejectBody(
                    reason="复查仍有三处接缝超差，请继续整改。", deadline=(clock.now() + timedelta(days=3)).isoformat()
                ),
            )
    return made


async def _contractor_users(project_id: UUID) -> list[tuple[str, UUID]]:
    """(username, organisation) of the project's contractor members, one person per organisation."""
    from inspection.projects.tables import Membership

    rows = (
        await Membership.select(Membership.user.username, Membership.user.organisation)
        .where((Membership.project == project_id) & (Membership.role == "contractor"))
        .order_by(Membership.user.username)
    )
    seen: dict[UUID, str] = {}
    for r in rows:
        seen.setdefault(r["user.organisation"], r["user.username"])
    return [(name, org) for org, name in seen.items()]
