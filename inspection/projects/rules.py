"""Pure rules for organisations, projects and people: credit codes, kinds, roles and work types."""

from __future__ import annotations

from enum import StrEnum

from inspection.messages import Message, t

# GB 32100-2015 统一社会信用代码: 18 characters from a 31-character alphabet (no I, O, Z, S, V);
# the 18th is a check character over the first 17 with these weights (3^(i) mod 31).
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> Message | None:
    """None when `code` is a valid unified social credit code, else why it is not."""
    if len(code) != 18:
        return t("projects.must_18_characters_got", count=len(code))
    bad = sorted({c for c in code if c not in CREDIT_CODE_ALPHABET})
    if bad:
        return t("projects.contains_characters_not_allowed_credit_code", items="".join(bad))
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        return t("projects.check_character_expected", value=code[17], expected=expected)
    return None


class OrgKind(StrEnum):
    """Kinds of organisation in a renovation programme."""

    owner = "owner"  # 建设单位
    contractor = "contractor"  # 施工单位
    supervisor = "supervisor"  # 监理 / 全过程咨询
    designer = "designer"  # 设计单位
    lab = "lab"  # 检测机构
    authority = "authority"  # 质监站 / 住建局
    community = "community"  # 街道 / 社区
    property = "property"  # 物业
    # 专业经营单位: water, power, heating, gas, telecom and cable TV operators. They own and often
    # build their networks in a renovation (供水、供电、供热、供气、通信、广电), so they may hold
    # work items, answer orders as the responsible party and take part in acceptance.
    utility = "utility"


# Organisations that may be responsible for a work item: build it, answer its orders, owe its
# warranty. A utility operator (专业经营单位) moves its pipes and lines itself or through its own
# contractor (城镇老旧小区改造 guidance: 专业经营单位 出资/实施 管线改造).
WORK_PARTY_KINDS = frozenset({OrgKind.contractor, OrgKind.utility})


class Role(StrEnum):
    """A person's role in one project."""

    inspector = "inspector"
    contractor = "contractor"
    supervisor = "supervisor"
    owner = "owner"
    authority = "authority"
    resident_supervisor = "resident_supervisor"
    viewer = "viewer"


# Roles that may change a project's structure (sites, buildings, work items, members).
MANAGING_ROLES = frozenset({Role.owner, Role.supervisor})

# The project's office side: who reads what residents send in confidence (complaints, with their
# contact and photos). Resident supervisors, viewers and contractors are not among them.
OFFICE_ROLES = frozenset({Role.inspector, Role.supervisor, Role.owner, Role.authority})

# Which organisation kinds may hold which role; residents have no organisation.
ROLE_ORG_KINDS: dict[Role, frozenset[OrgKind] | None] = {
    Role.inspector: frozenset({OrgKind.supervisor, OrgKind.authority, OrgKind.owner}),
    Role.contractor: WORK_PARTY_KINDS,
    Role.supervisor: frozenset({OrgKind.supervisor}),
    Role.owner: frozenset({OrgKind.owner}),
    Role.authority: frozenset({OrgKind.authority}),
    Role.resident_supervisor: None,
    Role.viewer: None,
}


def role_problem(role: Role, org_kind: OrgKind | None) -> Message | None:
    allowed = ROLE_ORG_KINDS[role]
    if allowed is None or (org_kind is not None and org_kind in allowed):
        return None
    kinds = ", ".join(sorted(k.value for k in allowed))
    return t("projects.role_needs_member_organisation_kind", value=role.value, kinds=kinds)


class ProjectStatus(StrEnum):
    planning = "planning"
    active = "active"
    accepted = "accepted"
    closed = "closed"


class WorkCategory(StrEnum):
    basic = "basic"  # 基础类
    improvement = "improvement"  # 完善类
    upgrade = "upgrade"  # 提升类


class WorkType(StrEnum):
    roof_waterproofing = "roof_waterproofing"  # 屋面防水
    external_wall_insulation = "external_wall_insulation"  # 外墙保温
    stairwell = "stairwell"  # 楼道改造
    water_supply = "water_supply"  # 供水
    drainage = "drainage"  # 排水 / 雨污分流
    power = "power"  # 供电 (强电线路, 线缆入地)
    telecom = "telecom"  # 通信、广电、弱电线缆 (入地、规整)
    gas = "gas"  # 燃气
    heating = "heating"  # 供热
    road_paving = "road_paving"  # 道路铺装
    fence = "fence"  # 围墙
    accessibility = "accessibility"  # 无障碍
    fire_facilities = "fire_facilities"  # 消防设施
    security = "security"  # 安防
    lighting = "lighting"  # 照明
    ev_charging = "ev_charging"  # 充电设施
    elevator = "elevator"  # 加装电梯
    greening = "greening"  # 绿化
    windows = "windows"  # 门窗
    structure = "structure"  # 结构加固


class WorkItemStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    completed = "completed"
    accepted = "accepted"
