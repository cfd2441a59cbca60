"""Checklist templates as data: the TOML format, its checks and the parsed form.

A template file describes one checklist (one JGJ 59 sub-table, one pass/fail list or one GB 50300
inspection lot). `parse_template` turns the TOML into a `Template` or raises `TemplateError`
listing every problem as (file, item, reason). The canonical JSON of the parsed template and its
SHA-256 name a version: importing the same content twice adds nothing, changed content adds a
new version. The format:

    code = "jgj59-fastener-scaffold"        # stable name across versions
    kind = "safety"                         # safety (JGJ 59 sub-table) | quality (GB 50300 lot) | passfail
    title = "扣件式钢管脚手架检查评分表"
    standard = "JGJ 59-2011"
    source = "…"                            # where the content comes from, and its confidence
    [scoring]                               # safety: group = summary line; quality: general_pass_rate,
                                            # tolerance_cap, sample = {rate, minimum, max_capacity, source}
    [[sections]]                            # code, title, optional when = {item = "…", equals = "…"}
    [[items]]                               # code, section, text, class, points, answer, …

Item keys: `class` (safety: guarantee | general; quality: main | general; passfail: check; any
kind: info, not scored), `answer` (deduction | pass_fail | measured | count | text | yes_no),
`points`, `deductions` [{text, points, per}], `unit`, `tolerance` {min, max}, `measure`
(deviation | value), `photo_on_failure`, `requires_order`, `hazard_tags`, `major_hazard` (the
criterion it matches), `when` {item, equals}, `source`, `unverified`.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inspection.messages import Message, t

KINDS = ("safety", "quality", "passfail")
ANSWERS = ("deduction", "pass_fail", "measured", "count", "text", "yes_no")
CLASSES = {
    "safety": ("guarantee", "general", "info"),
    "quality": ("main", "general", "info"),
    "passfail": ("check", "info"),
}
# Which answer types each kind scores with; `info` items may use text or yes_no anywhere.
SCORED_ANSWERS = {
    "safety": ("deduction",),
    "quality": ("pass_fail", "measured", "count"),
    "passfail": ("pass_fail",),
}
INFO_ANSWERS = ("text", "yes_no")
SAFETY_GROUPS = (
    "management",
    "civilised",
    "scaffold",
    "pit",
    "formwork",
    "height",
    "electricity",
    "hoist",
    "crane",
    "machinery",
)
# Units a measured value may be given in, and the spellings accepted for each.
UNIT_ALIASES = {
    "mm": {"mm", "毫米"},
    "cm": {"cm", "厘米"},
    "m": {"m", "米"},
    "μm": {"μm", "µm", "um", "微米"},
    "%": {"%", "percent", "百分比"},
    "MPa": {"MPa", "mpa", "兆帕"},
    "kPa": {"kPa", "kpa", "千帕"},
    "Pa": {"Pa", "帕"},
    "kN": {"kN", "kn", "千牛"},
    "N·m": {"N·m", "N.m", "Nm", "牛·米"},
    "m²": {"m²", "m2", "平方米"},
    "Ω": {"Ω", "ohm", "欧"},
    "MΩ": {"MΩ", "Mohm", "兆欧"},
    "°": {"°", "deg", "度"},
    "℃": {"℃", "°C", "degC", "摄氏度"},
    "kN·m": {"kN·m", "kN.m"},
    "min": {"min", "分钟"},
    "h": {"h", "小时"},
    "个": {"个"},
}


class TemplateError(ValueError):
    """A template file that cannot be imported; `problems` holds (file, item, reason) triples."""

    def __init__(self, problems: list[tuple[str, str, Message]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{f}: {i or '-'}: {r}" for f, i, r in problems))


@dataclass(frozen=True)
class Condition:
    """Shown only when another item's answer has this value."""

    item: str
    equals: str


@dataclass(frozen=True)
class Deduction:
    text: str
    points: float
    per: str = ""


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    when: Condition | None = None


@dataclass(frozen=True)
class Item:
    code: str
    section: str
    text: str
    cls: str
    answer: str
    points: float = 0.0
    deductions: tuple[Deduction, ...] = ()
    unit: str = ""
    tolerance_min: float | None = None
    tolerance_max: float | None = None
    measure: str = "deviation"
    photo_on_failure: bool = False
    requires_order: bool = True
    hazard_tags: tuple[str, ...] = ()
    major_hazard: str = ""
    when: Condition | None = None
    source: str = ""
    unverified: bool = False

    @property
    def scored(self) -> bool:
        return self.cls != "info"


@dataclass(frozen=True)
class Template:
    code: str
    kind: str
    title: str
    standard: str
    source: str
    scoring: Mapping[str, Any]
    sections: tuple[Section, ...]
    items: tuple[Item, ...]
    unverified: bool = False
    by_code: Mapping[str, Item] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_code", {i.code: i for i in self.items})

    def item(self, code: str) -> Item | None:
        return self.by_code.get(code)

    def section(self, code: str) -> Section | None:
        return next((s for s in self.sections if s.code == code), None)

    def to_content(self) -> dict[str, Any]:
        """The canonical form stored in the database (and hashed)."""
        data = asdict(self)
        data.pop("by_code", None)
        return data

    def content_json(self) -> str:
        return json.dumps(self.to_content(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def content_sha256(self) -> str:
        return hashlib.sha256(self.content_json().encode()).hexdigest()


def canonical_unit(unit: str) -> str | None:
    for name, spellings in UNIT_ALIASES.items():
        if unit in spellings:
            return name
    return None


def _condition(raw: Any, where: str, problems: list[tuple[str, Message]]) -> Condition | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("item"), str) or not isinstance(raw.get("equals"), str):
        problems.append((where, t("template.when_shape")))
        return None
    return Condition(raw["item"], raw["equals"])


def _str(
    raw: dict[str, Any], key: str, where: str, problems: list[tuple[str, Message]], default: str | None = None
) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        problems.append((where, t("template.non_empty", key=key)))
        return ""
    return value


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


KNOWN_ITEM_KEYS = {
    "code",
    "section",
    "text",
    "class",
    "answer",
    "points",
    "deductions",
    "unit",
    "tolerance",
    "measure",
    "photo_on_failure",
    "requires_order",
    "hazard_tags",
    "major_hazard",
    "when",
    "source",
    "unverified",
}


def _item(raw: Any, index: int, kind: str, problems: list[tuple[str, Message]]) -> Item | None:
    if not isinstance(raw, dict):
        problems.append((f"items[{index}]", t("template.must_be_table")))
        return None
    code = raw.get("code") if isinstance(raw.get("code"), str) and raw.get("code") else f"items[{index}]"
    where = str(code)
    before = len(problems)
    unknown = sorted(set(raw) - KNOWN_ITEM_KEYS)
    if unknown:
        problems.append((where, t("template.unknown_keys", keys=unknown)))
    if "code" not in raw:
        problems.append((where, t("template.code_missing")))
    section = _str(raw, "section", where, problems)
    text = _str(raw, "text", where, problems)
    cls = raw.get("class")
    if cls not in CLASSES[kind]:
        problems.append((where, t("template.bad_class", allowed=list(CLASSES[kind]), kind=kind, value=repr(cls))))
    answer = raw.get("answer")
    allowed = INFO_ANSWERS if cls == "info" else SCORED_ANSWERS[kind]
    if answer not in allowed:
        problems.append((where, t("template.bad_answer", allowed=list(allowed), cls=str(cls), value=repr(answer))))
    points = raw.get("points", 0)
    if not _number(points) or points < 0:
        problems.append((where, t("template.points_not_negative")))
        points = 0
    if kind == "safety" and cls in ("guarantee", "general") and points <= 0:
        problems.append((where, t("template.jgj59_points")))
    deductions: list[Deduction] = []
    for d_index, d in enumerate(raw.get("deductions", [])):
        if not isinstance(d, dict) or not isinstance(d.get("text"), str) or not _number(d.get("points")):
            problems.append((where, t("template.deduction_shape", index=d_index)))
            continue
        if d["points"] <= 0 or d["points"] > points:
            problems.append((where, t("template.deduction_range", index=d_index, points=d["points"], full=points)))
        deductions.append(Deduction(d["text"], float(d["points"]), str(d.get("per", ""))))
    unit = raw.get("unit", "")
    tol_min = tol_max = None
    if answer == "measured":
        if not isinstance(unit, str) or canonical_unit(unit) is None:
            problems.append((where, t("template.measured_unit", units=list(UNIT_ALIASES), value=repr(unit))))
        else:
            unit = canonical_unit(unit) or unit
        tol = raw.get("tolerance")
        if not isinstance(tol, dict) or not ({"min", "max"} & set(tol)):
            problems.append((where, t("template.measured_tolerance")))
        else:
            tol_min, tol_max = tol.get("min"), tol.get("max")
            if any(v is not None and not _number(v) for v in (tol_min, tol_max)):
                problems.append((where, t("template.tolerance_numbers")))
                tol_min = tol_max = None
            elif tol_min is not None and tol_max is not None and tol_min > tol_max:
                problems.append((where, t("template.tolerance_order", min=tol_min, max=tol_max)))
    elif unit:
        problems.append((where, t("template.unit_not_measured")))
    measure = raw.get("measure", "deviation")
    if measure not in ("deviation", "value"):
        problems.append((where, t("template.bad_measure")))
    tags = raw.get("hazard_tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        problems.append((where, t("template.hazard_tags")))
        tags = []
    major = raw.get("major_hazard", "")
    if not isinstance(major, str):
        problems.append((where, t("template.major_hazard_text")))
        major = ""
    if major and "〔" not in major and "[" not in major:
        problems.append((where, t("template.major_hazard_cite")))
    for flag in ("photo_on_failure", "requires_order", "unverified"):
        if flag in raw and not isinstance(raw[flag], bool):
            problems.append((where, t("template.flag_bool", flag=flag)))
    when = _condition(raw.get("when"), where, problems)
    if len(problems) > before:
        return None
    return Item(
        code=str(code),
        section=section,
        text=text,
        cls=str(cls),
        answer=str(answer),
        points=float(points),
        deductions=tuple(deductions),
        unit=str(unit),
        tolerance_min=None if tol_min is None else float(tol_min),
        tolerance_max=None if tol_max is None else float(tol_max),
        measure=str(measure),
        photo_on_failure=bool(raw.get("photo_on_failure", False)),
        requires_order=bool(raw.get("requires_order", cls != "info")),
        hazard_tags=tuple(tags),
        major_hazard=major,
        when=when,
        source=str(raw.get("source", "")),
        unverified=bool(raw.get("unverified", False)),
    )


def _check_scoring(kind: str, scoring: Any, items: list[Item], problems: list[tuple[str, Message]]) -> dict[str, Any]:
    if not isinstance(scoring, dict):
        problems.append(("scoring", t("template.must_be_table")))
        return {}
    out = dict(scoring)
    if kind == "safety":
        if scoring.get("group") not in SAFETY_GROUPS:
            problems.append(("scoring", t("template.bad_group", allowed=list(SAFETY_GROUPS))))
        total = sum(i.points for i in items if i.scored)
        if abs(total - 100) > 1e-9:
            problems.append(("scoring", t("template.jgj59_total", total=f"{total:g}")))
        guarantee = sum(i.points for i in items if i.cls == "guarantee")
        out.setdefault("guarantee_full", guarantee)
        out.setdefault("guarantee_min", 40 if guarantee else 0)
        if guarantee and out["guarantee_full"] != guarantee:
            problems.append(
                ("scoring", t("template.guarantee_full", full=out["guarantee_full"], total=f"{guarantee:g}"))
            )
    elif kind == "quality":
        rate = out.setdefault("general_pass_rate", 0.8)
        if not _number(rate) or not 0 < rate <= 1:
            problems.append(("scoring", t("template.general_pass_rate")))
        cap = out.get("tolerance_cap")
        if cap is not None and (not _number(cap) or cap < 1):
            problems.append(("scoring", t("template.tolerance_cap")))
        sample = out.get("sample")
        if sample is not None:
            # a trade code's own sampling instead of GB 50300 table 3.0.9 (GB 50210 windows: 5 %, ≥ 3)
            if not isinstance(sample, dict) or not {"rate", "minimum", "source"} <= set(sample):
                problems.append(("scoring", t("template.sample_shape")))
            else:
                rate_ok = _number(sample["rate"]) and 0 < sample["rate"] <= 1
                minimum_ok = isinstance(sample["minimum"], int) and sample["minimum"] >= 1
                limit = sample.get("max_capacity")
                if not rate_ok or not minimum_ok or (limit is not None and (not isinstance(limit, int) or limit < 1)):
                    problems.append(("scoring", t("template.sample_values")))
                alt = sample.get("alternative")
                if alt is not None:
                    when = alt.get("when") if isinstance(alt, dict) else None
                    target = next((i for i in items if isinstance(when, dict) and i.code == when.get("item")), None)
                    if (
                        target is None
                        or target.answer != "yes_no"
                        or when.get("equals") not in ("yes", "no")  # type: ignore[union-attr]
                        or not (_number(alt.get("rate")) and 0 < alt["rate"] <= 1)
                        or not (isinstance(alt.get("minimum"), int) and alt["minimum"] >= 1)
                    ):
                        problems.append(("scoring", t("template.sample_alternative")))
    return out


def parse_template(raw: Mapping[str, Any], file: str = "<template>") -> Template:
    """Check a template's TOML data and build it; TemplateError lists every problem found."""
    problems: list[tuple[str, Message]] = []
    kind = raw.get("kind")
    if kind not in KINDS:
        raise TemplateError([(file, "", t("template.bad_kind", allowed=list(KINDS), value=repr(kind)))])
    top = dict(raw)
    code = _str(top, "code", "", problems)
    title = _str(top, "title", "", problems)
    sections: list[Section] = []
    for index, s in enumerate(raw.get("sections", [])):
        if not isinstance(s, dict) or not isinstance(s.get("code"), str) or not isinstance(s.get("title"), str):
            problems.append((f"sections[{index}]", t("template.section_shape")))
            continue
        sections.append(Section(s["code"], s["title"], _condition(s.get("when"), s["code"], problems)))
    section_codes = [s.code for s in sections]
    if len(set(section_codes)) != len(section_codes):
        problems.append(("sections", t("template.sections_repeat")))
    items: list[Item] = []
    for index, r in enumerate(raw.get("items", [])):
        made = _item(r, index, kind, problems)
        if made is not None:
            items.append(made)
    if not raw.get("items"):
        problems.append(("items", t("template.no_items")))
    seen: set[str] = set()
    by_code = {i.code: i for i in items}
    for item in items:
        if item.code in seen:
            problems.append((item.code, t("template.item_twice")))
        seen.add(item.code)
        if item.section not in section_codes:
            problems.append((item.code, t("template.undeclared_section", section=repr(item.section))))
    for owner, cond in [(i.code, i.when) for i in items] + [(s.code, s.when) for s in sections]:
        if cond is None:
            continue
        target = by_code.get(cond.item)
        if target is None:
            problems.append((owner, t("template.when_unknown", item=repr(cond.item))))
        elif target.code == owner:
            problems.append((owner, t("template.when_self")))
        elif target.answer not in ("yes_no", "pass_fail"):
            problems.append((owner, t("template.when_answer", item=cond.item, answer=target.answer)))
        elif cond.equals not in _values(target.answer):
            problems.append((owner, t("template.when_value", item=cond.item, value=repr(cond.equals))))
        elif target.when is not None or _section_when(sections, target.section) is not None:
            problems.append((owner, t("template.when_nested", item=cond.item)))
    scoring = _check_scoring(kind, raw.get("scoring", {}), items, problems)
    if problems:
        raise TemplateError([(file, where, reason) for where, reason in problems])
    return Template(
        code=code,
        kind=kind,
        title=title,
        standard=str(raw.get("standard", "")),
        source=str(raw.get("source", "")),
        scoring=scoring,
        sections=tuple(sections),
        items=tuple(items),
        unverified=bool(raw.get("unverified", False)) or any(i.unverified for i in items),
    )


def _values(answer: str) -> tuple[str, ...]:
    return ("yes", "no") if answer == "yes_no" else ("pass", "fail", "na")


def _section_when(sections: list[Section], code: str) -> Condition | None:
    return next((s.when for s in sections if s.code == code), None)


def template_from_content(content: str) -> Template:
    """Rebuild a stored version from its canonical JSON."""
    data = json.loads(content)
    sections = tuple(
        Section(s["code"], s["title"], Condition(**s["when"]) if s.get("when") else None) for s in data["sections"]
    )
    items = []
    for i in data["items"]:
        i = dict(i)
        i["deductions"] = tuple(Deduction(**d) for d in i["deductions"])
        i["hazard_tags"] = tuple(i["hazard_tags"])
        i["when"] = Condition(**i["when"]) if i.get("when") else None
        items.append(Item(**i))
    return Template(
        code=data["code"],
        kind=data["kind"],
        title=data["title"],
        standard=data["standard"],
        source=data["source"],
        scoring=data["scoring"],
        sections=sections,
        items=tuple(items),
        unverified=data["unverified"],
    )


def load_file(path: Path) -> Template:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError([(str(path), "", t("template.bad_toml", error=str(exc)))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError([(str(path), "", t("template.unreadable", error=str(exc)))]) from None
    return parse_template(raw, str(path))


TEMPLATE_DIR = Path(__file__).with_name("templates")


def shipped_files() -> list[Path]:
    return sorted(TEMPLATE_DIR.glob("*.toml"))


def visible_items(template: Template, values: Mapping[str, str]) -> set[str]:
    """Codes of the items shown given the answers so far (`values`: item code → pass/fail/na/yes/no)."""
    shown_sections = {s.code for s in template.sections if s.when is None or values.get(s.when.item) == s.when.equals}
    return {
        i.code
        for i in template.items
        if i.section in shown_sections and (i.when is None or values.get(i.when.item) == i.when.equals)
    }
