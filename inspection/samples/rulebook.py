"""Reads the material sampling rules (rules.toml beside this module) into the rule book the pure
rules take, checking every entry (ValueError names what is wrong), once per process."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from inspection.errors import RulebookError
from inspection.messages import t
from inspection.samples.rules import (
    CONFIDENCES,
    LotRule,
    MaterialRule,
    Plan,
    PlanMethod,
    RuleBook,
    Sourced,
    SpecimenGroup,
    TestItem,
)

RULES_FILE = Path(__file__).with_name("rules.toml")


def _dec(value: Any, where: str) -> Decimal:
    if isinstance(value, bool):
        raise RulebookError(t("rulebook.number", where=where))
    try:
        # through str, so 0.1 in TOML stays 0.1 and not its binary neighbour
        out = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise RulebookError(t("rulebook.number", where=where)) from None
    if not out.is_finite():
        raise RulebookError(t("rulebook.finite", where=where))
    return out


def _sourced(entry: Mapping[str, Any], where: str, prefix: str = "") -> Sourced:
    source = str(entry.get(f"{prefix}source", "")).strip()
    confidence = str(entry.get(f"{prefix}confidence", "")).strip()
    unverified = bool(entry.get(f"{prefix}unverified", False))
    if not source:
        raise RulebookError(t("rulebook.no_source", where=where, key=f"{prefix}source"))
    if confidence not in CONFIDENCES:
        raise RulebookError(
            t("rulebook.confidence", where=where, key=f"{prefix}confidence", allowed=sorted(CONFIDENCES))
        )
    if confidence == "M" and not unverified:
        raise RulebookError(t("rulebook.unverified", where=where, key=f"{prefix}unverified"))
    return Sourced(source, confidence, unverified)


def _positive(entry: Mapping[str, Any], key: str, where: str) -> Decimal:
    if key not in entry:
        raise RulebookError(t("rulebook.needs", where=where, key=key))
    value = _dec(entry[key], f"{where}.{key}")
    if value <= 0:
        raise RulebookError(t("rulebook.positive", where=f"{where}.{key}"))
    return value


def _whole(entry: Mapping[str, Any], key: str, where: str) -> int:
    value = _positive(entry, key, where)
    if value != value.to_integral_value():
        raise RulebookError(t("rulebook.whole", where=f"{where}.{key}"))
    return int(value)


def _plan(entry: Mapping[str, Any], where: str) -> Plan:
    try:
        method = PlanMethod(entry.get("method", ""))
    except ValueError:
        raise RulebookError(
            t("rulebook.one_of", where=f"{where}.method", allowed=[m.value for m in PlanMethod])
        ) from None
    origin = _sourced(entry, where)
    if method is PlanMethod.per_quantity:
        return Plan(method, origin, max_per_set=_positive(entry, "max_per_set", where))
    if method is PlanMethod.first_then_step:
        return Plan(
            method,
            origin,
            first=_positive(entry, "first", where),
            first_sets=_whole(entry, "first_sets", where) if "first_sets" in entry else 1,
            step=_positive(entry, "step", where),
        )
    if method is PlanMethod.concrete:
        return Plan(
            method,
            origin,
            max_per_set=_positive(entry, "max_per_set", where),
            continuous_over=_positive(entry, "continuous_over", where),
            continuous_per_set=_positive(entry, "continuous_per_set", where),
            batches_per_set=_whole(entry, "batches_per_set", where) if "batches_per_set" in entry else None,
        )
    rate = _positive(entry, "rate", where)
    if rate > 1:
        raise RulebookError(t("rulebook.share", where=f"{where}.rate"))
    return Plan(
        method,
        origin,
        lot_size=_whole(entry, "lot_size", where) if "lot_size" in entry else None,
        rate=rate,
        min_per_lot=_whole(entry, "min_per_lot", where),
    )


def _items(entries: Sequence[Mapping[str, Any]], where: str) -> tuple[TestItem, ...]:
    items: list[TestItem] = []
    for i, e in enumerate(entries):
        at = f"{where}.items[{i}]"
        code = str(e.get("code", "")).strip()
        if not code:
            raise RulebookError(t("rulebook.needs", where=at, key="code"))
        if any(x.code == code for x in items):
            raise RulebookError(t("rulebook.item_twice", where=where, code=repr(code)))
        low = _dec(e["min"], f"{at}.min") if "min" in e else None
        high = _dec(e["max"], f"{at}.max") if "max" in e else None
        by_lot = bool(e.get("lot", False))
        if by_lot and (low is not None or high is not None):
            raise RulebookError(t("rulebook.lot_no_bounds", where=f"{at} ({code})"))
        if not by_lot and low is None and high is None:
            raise RulebookError(t("rulebook.needs_bound", where=f"{at} ({code})"))
        if low is not None and high is not None and low > high:
            raise RulebookError(t("rulebook.min_above_max", where=f"{at} ({code})"))
        if "retest" not in e:
            raise RulebookError(t("rulebook.retest_flag", where=f"{at} ({code})"))
        items.append(
            TestItem(
                code=code,
                name=str(e.get("name", code)),
                unit=str(e.get("unit", "")),
                min=low,
                max=high,
                retest=bool(e["retest"]),
                origin=_sourced(e, f"{at} ({code})"),
                by_lot=by_lot,
            )
        )
    if not items:
        raise RulebookError(t("rulebook.no_items", where=where))
    return tuple(items)


def _specimens(entries: Any, items: tuple[TestItem, ...], where: str) -> tuple[SpecimenGroup, ...]:
    if not isinstance(entries, list):
        raise RulebookError(t("rulebook.specimens_list", where=f"{where}.specimens"))
    codes = {i.code for i in items}
    groups: list[SpecimenGroup] = []
    claimed: set[str] = set()
    for i, g in enumerate(entries):
        at = f"{where}.specimens[{i}]"
        members = tuple(str(c) for c in g.get("items", []))
        if not members:
            raise RulebookError(t("rulebook.group_empty", where=at))
        unknown = [c for c in members if c not in codes]
        if unknown:
            raise RulebookError(t("rulebook.group_unknown", where=at, codes=unknown))
        twice = [c for c in members if c in claimed]
        if twice:
            raise RulebookError(t("rulebook.group_twice", where=at, codes=twice))
        claimed.update(members)
        if ("per_set" in g) == ("per_sample" in g):
            raise RulebookError(t("rulebook.per_set_or_sample", where=at))
        groups.append(
            SpecimenGroup(
                code=str(g.get("code", f"g{i}")),
                name=str(g.get("name", "")),
                items=members,
                per_set=_whole(g, "per_set", at) if "per_set" in g else None,
                per_sample=_whole(g, "per_sample", at) if "per_sample" in g else None,
                origin=_sourced(g, at),
            )
        )
    return tuple(groups)


def _lot(entry: Mapping[str, Any], items: tuple[TestItem, ...], where: str) -> LotRule:
    method = str(entry.get("method", ""))
    if method not in ("gb50107", "gb50203"):
        raise RulebookError(t("rulebook.one_of", where=f"{where}.method", allowed=["gb50107", "gb50203"]))
    item = str(entry.get("item", ""))
    found = next((i for i in items if i.code == item), None)
    if found is None or not found.by_lot:
        raise RulebookError(t("rulebook.lot_item", where=f"{where}.item"))
    prefix = str(entry.get("grade_prefix", ""))
    grades = tuple(str(g) for g in entry.get("grades", []))
    if not prefix or not grades:
        raise RulebookError(t("rulebook.grades", where=where))
    for g in grades:
        if not g.startswith(prefix):
            raise RulebookError(t("rulebook.grade_prefix", where=where, grade=repr(g), prefix=repr(prefix)))
        _dec(g[len(prefix) :], f"{where} grade {g}")
    origin = _sourced(entry, where)
    if method == "gb50203":
        return LotRule(
            method,
            item,
            prefix,
            grades,
            origin,
            mean_factor=_positive(entry, "mean_factor", where),
            min_factor=_positive(entry, "min_factor", where),
            few_sets=int(entry.get("few_sets", 0)),
        )

    def rows(key: str) -> tuple[tuple[Decimal, Decimal, Decimal], ...]:
        raw = entry.get(key)
        if not isinstance(raw, list) or not raw:
            raise RulebookError(t("rulebook.rows", where=where, key=key))
        out = []
        for r in raw:
            if not isinstance(r, list) or len(r) != 3:
                raise RulebookError(t("rulebook.row_shape", where=f"{where}.{key}"))
            out.append((_dec(r[0], f"{where}.{key}"), _dec(r[1], f"{where}.{key}"), _dec(r[2], f"{where}.{key}")))
        if [r[0] for r in out] != sorted(r[0] for r in out):
            raise RulebookError(t("rulebook.rows_ascend", where=f"{where}.{key}"))
        return tuple(out)

    statistical = tuple((int(a), b, c) for a, b, c in rows("statistical"))
    start = _whole(entry, "statistical_from", where)
    if statistical[0][0] != start:
        raise RulebookError(t("rulebook.statistical_start", where=f"{where}.statistical", start=start))
    return LotRule(
        method,
        item,
        prefix,
        grades,
        origin,
        statistical_from=start,
        sd_floor=_positive(entry, "sd_floor", where),
        statistical=statistical,
        non_statistical=rows("non_statistical"),
    )


def parse_rulebook(data: Mapping[str, Any]) -> RuleBook:
    """Build the rule book from rules.toml's parsed content; ValueError names what is wrong."""
    witness = data.get("witness")
    if not isinstance(witness, Mapping):
        raise RulebookError(t("rulebook.no_table", table="[witness]"))
    share = _positive(witness, "min_share", "[witness]")
    if share > 1:
        raise RulebookError(t("rulebook.share", where="[witness].min_share"))
    raw = data.get("material")
    if not isinstance(raw, Mapping) or not raw:
        raise RulebookError(t("rulebook.no_table", table="[material.*]"))
    materials: dict[str, MaterialRule] = {}
    # materials that borrow another's test items come after the ones they borrow from
    for code in sorted(raw, key=lambda c: "items_from" in raw[c]):
        m = raw[code]
        where = f"[material.{code}]"
        specimens: tuple[SpecimenGroup, ...] = ()
        if "items_from" in m:
            source = materials.get(str(m["items_from"]))
            if source is None:
                raise RulebookError(t("rulebook.items_from", where=f"{where}.items_from"))
            items, specimens = source.items, source.specimens
        else:
            items = _items(m.get("items", []), where)
            if "specimens" in m:
                specimens = _specimens(m["specimens"], items, where)
        for key in ("unit", "name", "plan", "retest"):
            if key not in m:
                raise RulebookError(t("rulebook.needs", where=where, key=key))
        lot = _lot(m["lot"], items, f"{where}.lot") if "lot" in m else None
        if lot is None and any(i.by_lot for i in items):
            raise RulebookError(t("rulebook.no_lot_rule", where=where))
        in_structure = bool(m.get("in_structure", False))
        if in_structure:
            _sourced(m, where, "in_structure_")
        factor = int(_positive(m["retest"], "factor", f"{where}.retest"))
        materials[code] = MaterialRule(
            code=code,
            name=str(m["name"]),
            grade=str(m.get("grade", "")),
            unit=str(m["unit"]),
            witness_required=bool(m.get("witness_required", False)),
            witness_origin=_sourced(m, where, "witness_"),
            specimens_per_set=int(_positive(m, "specimens_per_set", where)),
            specimens_note=str(m.get("specimens_note", "")),
            plan=_plan(m["plan"], f"{where}.plan"),
            retest_factor=factor,
            retest_origin=_sourced(m["retest"], f"{where}.retest"),
            items=items,
            specimens=specimens,
            lot=lot,
            in_structure=in_structure,
        )
        if lot is not None and materials[code].grade not in lot.grades:
            raise RulebookError(t("rulebook.default_grade", where=f"{where}.grade"))
    try:
        tz = ZoneInfo(str(data.get("timezone", "Asia/Shanghai")))
    except (ZoneInfoNotFoundError, ValueError):
        raise RulebookError(t("rulebook.timezone")) from None
    return RuleBook(
        materials=dict(sorted(materials.items())),
        witness_min_share=share,
        witness_origin=_sourced(witness, "[witness]"),
        timezone=tz,
    )


def load_rulebook(path: Path = RULES_FILE) -> RuleBook:
    return parse_rulebook(tomllib.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def default_rulebook() -> RuleBook:
    return load_rulebook()
