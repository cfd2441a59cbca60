"""Template files: every shipped one loads; a bad one is refused with the file, item and reason."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inspection.checklists.templates import TemplateError, load_file, parse_template, shipped_files, visible_items

BASE: dict[str, Any] = {
    "code": "t",
    "kind": "safety",
    "title": "测试表",
    "scoring": {"group": "scaffold"},
    "sections": [{"code": "g", "title": "保证项目"}, {"code": "n", "title": "一般项目"}],
    "items": [
        {"code": "A", "section": "g", "text": "有无悬挑架", "class": "info", "answer": "yes_no"},
        {"code": "G1", "section": "g", "text": "方案", "class": "guarantee", "points": 60, "answer": "deduction"},
        {"code": "N1", "section": "n", "text": "通道", "class": "general", "points": 40, "answer": "deduction"},
    ],
}


def with_change(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    target: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if value is KeyError:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return data


def test_every_shipped_template_loads() -> None:
    files = shipped_files()
    codes = {load_file(f).code for f in files}
    assert len(codes) == len(files) >= 16
    kinds = {load_file(f).kind for f in files}
    assert kinds == {"safety", "quality", "passfail"}


def test_shipped_jgj59_subtables_add_up_and_carry_classes() -> None:
    for f in shipped_files():
        t = load_file(f)
        if t.kind != "safety":
            continue
        assert sum(i.points for i in t.items if i.scored) == 100
        guarantee = sum(i.points for i in t.items if i.cls == "guarantee")
        assert guarantee in (0, 60), t.code


def test_major_hazards_cite_the_2024_criteria() -> None:
    majors = [i for f in shipped_files() for i in load_file(f).items if i.major_hazard]
    assert len(majors) >= 8
    assert all("建质规〔2024〕5号" in i.major_hazard for i in majors)


def test_the_base_template_parses() -> None:
    t = parse_template(BASE, "base.toml")
    assert t.item("G1") is not None and t.item("G1").cls == "guarantee"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "value", "item", "reason"),
    [
        ("items.1.points", 70, "scoring", "满分为 100 分，而各检查项合计 110 分"),
        ("items.1.class", "main", "G1", "safety 模板的 class 须为 guarantee、general、info 之一"),
        ("items.1.answer", "measured", "G1", "类检查项的 answer 须为 deduction"),
        ("items.1.section", "x", "G1", "分部 'x' 未在 [[sections]] 中声明"),
        ("items.2.code", "G1", "G1", "检查项编码用了两次"),
        ("items.1.deductions", [{"text": "无方案", "points": 80}], "G1", "超出 0 < 扣分 ≤ 60 的范围"),
        ("items.1.when", {"item": "Z", "equals": "yes"}, "G1", "不存在的检查项 'Z'"),
        ("items.1.when", {"item": "A", "equals": "maybe"}, "G1", "不会取值 'maybe'"),
        (
            "items.1.when",
            {"item": "N1", "equals": "yes"},
            "G1",
            "只能以是否类（yes_no）或合格类（pass_fail）检查项为条件",
        ),
        ("items.1.major_hazard", "严重", "G1", "须引用判定标准的条文"),
        ("items.1.colour", "red", "G1", "含有未知的键：colour"),
        ("scoring.group", "tower", "scoring", "group 须为"),
        ("title", KeyError, "", "title 须为非空文字"),
    ],
)
def test_bad_template_names_file_item_and_reason(path: str, value: Any, item: str, reason: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(with_change(path, value), "bad.toml")
    problems = caught.value.problems
    assert any(f == "bad.toml" and i == item and reason in str(r) for f, i, r in problems), problems


def test_measured_items_need_a_known_unit_and_tolerance() -> None:
    data = {
        "code": "q",
        "kind": "quality",
        "title": "检验批",
        "sections": [{"code": "n", "title": "一般项目"}],
        "items": [
            {"code": "N1", "section": "n", "text": "厚度", "class": "general", "answer": "measured", "unit": "furlong"},
        ],
    }
    with pytest.raises(TemplateError) as caught:
        parse_template(data, "q.toml")
    reasons = [r for _, i, r in caught.value.problems if i == "N1"]
    assert any("已知的单位" in str(r) for r in reasons) and any("允许偏差" in str(r) for r in reasons)


def test_invalid_toml_names_the_file(tmp_path: Any) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("code = [", encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_file(bad)
    assert caught.value.problems[0][0].endswith("broken.toml")
    assert "不是有效的 TOML" in str(caught.value.problems[0][2])


def test_conditions_hide_items_and_sections() -> None:
    height = next(load_file(f) for f in shipped_files() if load_file(f).code == "jgj59-work-at-height")
    assert {"H9", "H10"}.isdisjoint(visible_items(height, {}))
    assert "H9" in visible_items(height, {"A1": "yes"})
    # H10 sits in the platform section, shown only when a cantilever platform is present
    assert "H10" in visible_items(height, {"A2": "yes"}) and "H9" not in visible_items(height, {"A2": "yes"})


def test_content_hash_changes_with_content_only() -> None:
    a = parse_template(BASE, "a.toml")
    b = parse_template(copy.deepcopy(BASE), "elsewhere.toml")
    c = parse_template(with_change("items.2.text", "通道设置"), "a.toml")
    assert a.content_sha256() == b.content_sha256() != c.content_sha256()
