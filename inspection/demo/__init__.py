"""Demo data at the scale of one district programme in the seed plans: 24 sites, 146 buildings,
9,120 households and 721,000 m² in three projects, with every kind of organisation and a person in
every role. Loading twice adds nothing."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from faker import Faker

from inspection import progress
from inspection.actor import SYSTEM
from inspection.clock import Clock, SystemClock
from inspection.projects.auth import hash_password
from inspection.projects.rules import (
    CREDIT_CODE_ALPHABET,
    OrgKind,
    Role,
    WorkCategory,
    WorkType,
    credit_code_check_char,
)
from inspection.projects.tables import Building, Membership, Organisation, Project, Site, User, WorkItem
from inspection.records import REFERENCE_BUCKET, context_buckets, contractor_bucket, new_id, project_bucket, write
from inspection.settings import get_settings

DEMO_PASSWORD = "siteinspect-demo-2026"  # noqa: S105 - published demo password
DEMO_CODE_PREFIX = "DEMO-2026-"
SITES, BUILDINGS, HOUSEHOLDS, FLOOR_AREA_M2 = 24, 146, 9120, 721_000
PROJECTS = 3

# (username, role as people on site say it, what to try) — printed by `make run`.
DEMO_LOGINS = [
    ("admin", "系统管理员", "全部"),
    ("inspector1", "监理单位检查员", "项目 1、2"),
    ("supervisor1", "监理工程师", "项目 1、2"),
    ("owner1", "建设单位代表", "全部三个项目"),
    ("contractor1", "施工单位项目经理（甲公司）", "项目 1、3 中本单位的工程"),
    ("contractor2", "施工单位项目经理（乙公司）", "项目 1、2 中本单位的工程"),
    ("authority1", "质监站", "全部三个项目"),
    ("resident1", "业主监督员", "项目 1"),
    ("office1", "长青区旧改办", "旧改计划：每日简报、排名、月度考核定稿"),
    ("street1", "长青街道办", "项目 1、3，纸质问卷"),
]

# Work to do on each site: (category, type, Chinese name, per building?)
SITE_WORK = [
    (WorkCategory.basic, WorkType.roof_waterproofing, "屋面防水改造", True),
    (WorkCategory.basic, WorkType.external_wall_insulation, "外墙保温及饰面改造", True),
    (WorkCategory.basic, WorkType.stairwell, "楼道综合整治", True),
    (WorkCategory.basic, WorkType.water_supply, "供水管网改造", False),
    (WorkCategory.basic, WorkType.drainage, "雨污分流改造", False),
    (WorkCategory.basic, WorkType.fire_facilities, "消防设施完善", False),
    (WorkCategory.improvement, WorkType.road_paving, "小区道路及铺装改造", False),
    (WorkCategory.improvement, WorkType.accessibility, "无障碍设施建设", False),
    (WorkCategory.improvement, WorkType.ev_charging, "电动自行车充电设施", False),
    (WorkCategory.upgrade, WorkType.greening, "绿化提升", False),
]


def _credit_code(rng: random.Random, kind_prefix: str) -> str:
    body = (
        kind_prefix
        + "".join(rng.choice(CREDIT_CODE_ALPHABET[:10]) for _ in range(6))
        + "".join(rng.choice(CREDIT_CODE_ALPHABET) for _ in range(17 - len(kind_prefix) - 6))
    )
    return body + credit_code_check_char(body)


def _split(total: int, parts: int, rng: random.Random, spread: float = 0.35) -> list[int]:
    """`parts` positive integers that add up to `total`, varied by about ±spread."""
    weights = [1 + rng.uniform(-spread, spread) for _ in range(parts)]
    scale = total / sum(weights)
    values = [max(1, int(w * scale)) for w in weights]
    values[-1] += total - sum(values)
    return values


def _progress(done: int, total: int, label: str, quiet: bool) -> None:
    if not quiet:
        progress.report("demo data", done, total, label)


async def load_demo(seed: int = 2026, quiet: bool = False, clock: Clock | None = None) -> bool:
    """Create the demo programme as of `clock` (default: the wall clock); returns False when it is
    already there. The same seed and the same clock give the same programme: every record the
    domain demos pick is chosen by name from an ordered query, never by the order rows come in."""
    if await Project.exists().where(Project.code.like(f"{DEMO_CODE_PREFIX}%")):
        return False
    settings = get_settings()
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    clock = clock or SystemClock()
    district = "长青区"
    # One hash for every demo account: they share one published password anyway, and hashing
    # each (about 0.1 s with argon2) would make `make run` slow for nothing.
    password_hash = hash_password(DEMO_PASSWORD, settings)

    orgs: dict[str, UUID] = {}
    users: dict[str, UUID] = {}
    steps = 2 + PROJECTS + SITES
    done = 0
    async with write(SYSTEM, clock) as w:
        org_specs = [
            ("owner", OrgKind.owner, f"{district}城市更新服务中心", "12"),
            ("contractor_a", OrgKind.contractor, f"{fake.city_name()}建工集团有限公司", "91"),
            ("contractor_b", OrgKind.contractor, f"{fake.city_name()}市政建设有限公司", "91"),
            ("contractor_c", OrgKind.contractor, f"{fake.city_name()}安装工程有限公司", "91"),
            ("supervisor", OrgKind.supervisor, f"{fake.city_name()}工程建设监理有限公司", "91"),
            ("designer", OrgKind.designer, f"{fake.city_name()}建筑设计研究院有限公司", "91"),
            ("lab", OrgKind.lab, f"{fake.city_name()}建设工程质量检测中心", "12"),
            ("authority", OrgKind.authority, f"{district}建设工程质量安全监督站", "11"),
            ("community", OrgKind.community, f"{district}长青街道办事处", "11"),
            ("property", OrgKind.property, f"{fake.city_name()}物业服务有限公司", "91"),
        ]
        for key, kind, name, prefix in org_specs:
            row = await w.insert(
                Organisation,
                {
                    "name": name,
                    "kind": kind.value,
                    "credit_code": _credit_code(rng, prefix),
                    "contact_phone": fake.phone_number(),
                    "address": fake.address(),
                },
                [REFERENCE_BUCKET],
            )
            orgs[key] = row["id"]
        done += 1
        _progress(done, steps, "organisations", quiet)

        people = [
            ("admin", "系统管理员", None, True),
            ("inspector1", fake.name(), "supervisor", False),
            ("inspector2", fake.name(), "authority", False),
            ("supervisor1", fake.name(), "supervisor", False),
            ("owner1", fake.name(), "owner", False),
            ("contractor1", fake.name(), "contractor_a", False),
            ("contractor2", fake.name(), "contractor_b", False),
            ("contractor3", fake.name(), "contractor_c", False),
            ("authority1", fake.name(), "authority", False),
            ("designer1", fake.name(), "designer", False),
            ("viewer1", fake.name(), "community", False),
        ]
        people += [(f"resident{i}", fake.name(), None, False) for i in range(1, 2 * SITES + 1)]
        for username, name, org_key, admin in people:
            row = await w.insert(
                User,
                {
                    "username": username,
                    "display_name": name,
                    "phone": fake.phone_number(),
                    "organisation": orgs[org_key] if org_key else None,
                    "password_hash": password_hash,
                    "is_admin": admin,
                },
                [],
                audit_values=False,
            )
            users[username] = row["id"]
        done += 1
        _progress(done, steps, "people", quiet)

    sites_per_project = _split(SITES, PROJECTS, rng, spread=0.0)
    buildings_per_site = _split(BUILDINGS, SITES, rng, spread=0.3)
    households_per_site = _split(HOUSEHOLDS, SITES, rng)
    area_per_site = _split(FLOOR_AREA_M2, SITES, rng)
    site_index = 0
    for p in range(PROJECTS):
        async with write(SYSTEM, clock) as w:
            pid = new_id()
            await w.insert(
                Project,
                {
                    "id": pid,
                    "code": f"{DEMO_CODE_PREFIX}{p + 1:02d}",
                    "name": f"{district}2026年老旧小区改造项目（第{'一二三'[p]}批）",
                    "district": district,
                    "year": 2026,
                    "status": "active",
                    "owner_organisation": orgs["owner"],
                    "description": "基础类、完善类、提升类改造内容，按“一区一策”实施。",
                },
                context_buckets(pid),
            )
            bucket = project_bucket(pid)
            members = [
                ("owner1", Role.owner),
                ("authority1", Role.authority),
                ("inspector2", Role.inspector),
                ("viewer1", Role.viewer),
            ]
            if p < 2:
                members += [
                    ("inspector1", Role.inspector),
                    ("supervisor1", Role.supervisor),
                    ("contractor2", Role.contractor),
                ]
            if p == 0:
                members += [("contractor1", Role.contractor)]
            # two resident supervisors (业主监督员) for every site of the project
            first_site = sum(sites_per_project[:p])
            members += [
                (f"resident{i}", Role.resident_supervisor)
                for i in range(2 * first_site + 1, 2 * (first_site + sites_per_project[p]) + 1)
            ]
            if p == 2:
                members += [("contractor3", Role.contractor), ("contractor1", Role.contractor)]
            for username, role in members:
                member_buckets = [bucket]
                org_key = next(k for u, _, k, _ in people if u == username)
                if role is Role.contractor and org_key is not None:
                    member_buckets.append(contractor_bucket(pid, orgs[org_key]))
                await w.insert(
                    Membership, {"project": pid, "user": users[username], "role": role.value}, member_buckets
                )
        done += 1
        _progress(done, steps, f"project {p + 1}", quiet)

        project_contractors = {
            0: ["contractor_a", "contractor_b"],
            1: ["contractor_b"],
            2: ["contractor_c", "contractor_a"],
        }[p]
        for _ in range(sites_per_project[p]):
            async with write(SYSTEM, clock) as w:
                n_buildings = buildings_per_site[site_index]
                site = await w.insert(
                    Site,
                    {
                        "project": pid,
                        # unique, so that "the first site by name" names one site
                        "name": f"{fake.unique.street_name()}{rng.choice(['小区', '花园', '新村', '家园', '里'])}",
                        "address": fake.street_address(),
                        "year_built": rng.randint(1985, 2000),
                        "building_count": n_buildings,
                        "households": households_per_site[site_index],
                        "floor_area_m2": float(area_per_site[site_index]),
                    },
                    context_buckets(pid),
                )
                start = date(2026, 3, 1) + timedelta(days=rng.randint(0, 60))
                building_ids = []
                per_building = _split(households_per_site[site_index], n_buildings, rng, spread=0.2)
                for b in range(n_buildings):
                    row = await w.insert(
                        Building,
                        {
                            "project": pid,
                            "site": site["id"],
                            "name": f"{b + 1}号楼",
                            "floors": rng.choice([5, 6, 6, 7]),
                            "units": rng.choice([2, 3, 4]),
                            "households": per_building[b],
                            "year_built": site["year_built"],
                        },
                        context_buckets(pid),
                    )
                    building_ids.append(row["id"])
                for i, (category, work_type, name, per_building_item) in enumerate(SITE_WORK):
                    contractor_key = project_contractors[i % len(project_contractors)]
                    targets: list[Any] = building_ids[:2] if per_building_item else [None]
                    for building_id in targets:
                        await w.insert(
                            WorkItem,
                            {
                                "project": pid,
                                "site": site["id"],
                                "building": building_id,
                                "category": category.value,
                                "work_type": work_type.value,
                                "name": name,
                                "contractor": orgs[contractor_key],
                                "status": "in_progress" if rng.random() < 0.6 else "planned",
                                "planned_start": start,
                                "planned_end": start + timedelta(days=rng.randint(60, 180)),
                            },
                            [bucket, contractor_bucket(pid, orgs[contractor_key])],
                        )
            site_index += 1
            done += 1
            _progress(done, steps, f"site {site_index}", quiet)
    await _domain_demos(settings, clock)
    from inspection.demo import checklists as checklists_demo

    await checklists_demo.load_demo(seed, quiet, clock)
    from inspection.demo.samples import load_demo as load_samples_demo

    await load_samples_demo(quiet=quiet, clock=clock)
    from inspection.demo.warranty import load_demo as load_warranty_demo

    await load_warranty_demo(orgs, users, quiet, clock)
    from inspection.demo.programme import load_demo as load_programme_demo

    await load_programme_demo(settings, quiet, clock)
    return True


async def _domain_demos(settings: Any, clock: Clock) -> None:
    """Each domain's own demo records, on the programme made above."""
    from inspection.demo import complaints as complaints_demo
    from inspection.demo import rectification as rectification_demo

    await rectification_demo.load_demo(settings, clock.now(), f"{DEMO_CODE_PREFIX}01")
    await complaints_demo.load_demo(settings, clock, f"{DEMO_CODE_PREFIX}01")


def print_logins() -> None:
    print(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    width = max(len(role) for _, role, _ in DEMO_LOGINS)
    for username, role, scope in DEMO_LOGINS:
        # the roles are Chinese, two columns wide on a terminal: pad with full-width spaces
        print(f"  {username:<12} {role}{'　' * (width - len(role))}  {scope}")
