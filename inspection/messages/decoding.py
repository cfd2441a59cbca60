"""msgspec's decoding errors ("Expected `int`, got `str`") turned into catalogue messages."""

from __future__ import annotations

import re
from collections.abc import Callable

from inspection.messages import Message, t

# The format a deadline is given in (the `Deadline` type of inspection/deadlines.py): a date, or a
# date with a time after it, the time checked by datetime.fromisoformat there. It is kept here, in
# the bottom layer, so that msgspec's refusal of it is explained without importing deadlines.
DEADLINE_PATTERN = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}.*)?$"

_TYPES = {
    "str": "type.str",
    "int": "type.int",
    "float": "type.float",
    "bool": "type.bool",
    "null": "type.null",
    "array": "type.array",
    "object": "type.object",
    "datetime": "type.datetime",
    "date": "type.date",
    "time": "type.time",
    "uuid": "type.uuid",
    "decimal": "type.decimal",
}


def _type(name: str) -> Message:
    names = [n.strip() for n in name.split("|")]
    parts = [t(_TYPES[n]) if n in _TYPES else t("type.other", name=n) for n in names]
    return parts[0] if len(parts) == 1 else Message("type.other", {"name": parts})


def _bound(op: str, n: str) -> Message:
    return t("field.number-bound", op=t(f"op.{op}"), n=n)


def _deadline() -> Message:
    return t("field.invalid-deadline")


# Each pattern is one of msgspec's own messages (its _core.c); the first that matches wins.
_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Message]]] = [
    (
        re.compile(r"^Expected `(?P<e>[^`]+)`, got `(?P<g>[^`]+)`"),
        lambda m: t("field.expected-type", expected=_type(m["e"]), got=_type(m["g"])),
    ),
    (re.compile(r"^Expected `(?P<e>[^`]+)` with a timezone component"), lambda m: t("field.needs-timezone")),
    (re.compile(r"^Expected `(?P<e>[^`]+)` with no timezone component"), lambda m: t("field.no-timezone")),
    (re.compile(r"^Expected `str` of length <= (?P<n>\d+)"), lambda m: t("field.str-max", n=m["n"])),
    (re.compile(r"^Expected `str` of length >= (?P<n>\d+)"), lambda m: t("field.str-min", n=m["n"])),
    # the pattern of a deadline (inspection/deadlines.py) says more than "not in the format"
    (
        re.compile("^Expected `str` matching regex " + re.escape(repr(DEADLINE_PATTERN))),
        lambda m: t("field.invalid-deadline"),
    ),
    (re.compile(r"^Expected `str` matching regex"), lambda m: t("field.str-pattern")),
    (re.compile(r"^Expected `int` <= (?P<n>-?\d+)"), lambda m: t("field.int-max", n=m["n"])),
    (re.compile(r"^Expected `int` >= (?P<n>-?\d+)"), lambda m: t("field.int-min", n=m["n"])),
    (re.compile(r"^Expected `(?:float|int|decimal)` (?P<op>[<>]=?) (?P<n>\S+)"), lambda m: _bound(m["op"], m["n"])),
    (
        re.compile(r"^Expected `(?:array|object|bytes)` of (?:at most )?length <= (?P<n>\d+)"),
        lambda m: t("field.array-max", n=m["n"]),
    ),
    (
        re.compile(r"^Expected `(?:array|object|bytes)` of (?:at least )?length >= (?P<n>\d+)"),
        lambda m: t("field.array-min", n=m["n"]),
    ),
    (re.compile(r"^Expected `array` of at most length (?P<n>\d+)"), lambda m: t("field.array-max", n=m["n"])),
    (re.compile(r"^Expected `array` of at least length (?P<n>\d+)"), lambda m: t("field.array-min", n=m["n"])),
    (re.compile(r"^Expected `(?P<e>[^`]+)`"), lambda m: t("field.expected", expected=_type(m["e"]))),
    (re.compile(r"^Invalid RFC3339 encoded datetime"), lambda m: t("field.invalid-datetime")),
    (re.compile(r"^Invalid RFC3339 encoded date"), lambda m: t("field.invalid-date")),
    (re.compile(r"^Invalid RFC3339 encoded time"), lambda m: t("field.invalid-time")),
    (re.compile(r"^Invalid deadline"), lambda m: t("field.invalid-deadline")),
    (re.compile(r"^Invalid UUID"), lambda m: t("field.invalid-uuid")),
    (re.compile(r"^Invalid enum value (?P<v>.*)$"), lambda m: t("field.invalid-enum", value=m["v"])),
    (re.compile(r"^Invalid value (?P<v>.*)$"), lambda m: t("field.invalid-value", value=m["v"])),
    (re.compile(r"^Invalid base64"), lambda m: t("field.invalid-base64")),
    (re.compile(r"^Invalid decimal"), lambda m: t("field.invalid-decimal")),
    (re.compile(r"^Invalid ISO8601 duration|^Duration is out of range"), lambda m: t("field.invalid-duration")),
    (re.compile(r"^Invalid UTF-8"), lambda m: t("field.invalid-utf8")),
    (re.compile(r"unknown field `(?P<n>[^`]+)`"), lambda m: t("field.unknown-field", name=m["n"])),
    (re.compile(r"missing required field `(?P<n>[^`]+)`"), lambda m: t("field.missing-field", name=m["n"])),
    (re.compile(r"^(?:Number|Integer value) out of range"), lambda m: t("field.out-of-range")),
    (re.compile(r"^JSON is malformed|^Input data was truncated"), lambda m: t("field.malformed-json")),
]


def explain(message: str) -> Message:
    """The catalogue message for one of msgspec's error texts (without its " - at `$.x`" tail)."""
    for pattern, build in _PATTERNS:
        found = pattern.search(message)
        if found:
            return build(found)
    return t("field.other")
