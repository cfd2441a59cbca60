"""User-facing texts by key: one catalogue per language (zh.py, en.py), chosen where the text is shown."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

from inspection.messages import en, zh

Lang = Literal["zh", "en"]
DEFAULT_LANG: Lang = "zh"
# Times in texts are read where the programmes are: the zone of rectification/rules.toml's calendar
# and warranty.timezone (Asia/Shanghai for every city in China)
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
CATALOGUES: dict[str, Mapping[str, str]] = {"zh": zh.MESSAGES, "en": en.MESSAGES}


@dataclass(frozen=True)
class Message:
    """A text not yet put into words: its catalogue key and the values it names. Services raise and
    store these; the edge that knows the reader (the API's Accept-Language, the CLI) renders them."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return render(self.key, lang, self.params)

    def __str__(self) -> str:
        return self.render()


def t(key: str, /, **params: Any) -> Message:
    if key not in zh.MESSAGES:
        # a typo in a key must fail where it is written, not when a user first meets the error
        raise KeyError(f"no message {key!r} in inspection/messages/zh.py")
    return Message(key, params)


def _value(value: Any, lang: str) -> Any:
    if isinstance(value, Message):
        return value.render(lang)
    if isinstance(value, datetime):
        return local_minute(value, LOCAL_ZONE)
    if isinstance(value, list | tuple):
        joined = "、" if lang == "zh" else ", "
        return joined.join(str(_value(v, lang)) for v in value)
    return value


def render(key: str, lang: str, params: Mapping[str, Any] | None = None) -> str:
    catalogue = CATALOGUES.get(lang, CATALOGUES[DEFAULT_LANG])
    template = catalogue.get(key) or CATALOGUES[DEFAULT_LANG][key]
    values = {k: _value(v, lang) for k, v in (params or {}).items()}
    return template.format_map(values)


def localise(value: Any, lang: str = DEFAULT_LANG) -> Any:
    """A Message rendered; anything else (a plain string from outside, a number) unchanged."""
    return value.render(lang) if isinstance(value, Message) else value


def local_minute(moment: datetime, tz: tzinfo | None = None) -> str:
    """A time as users read it: local, to the minute, `2026-12-08 23:59` (never an offset or seconds)."""
    return (moment.astimezone(tz) if tz is not None else moment).strftime("%Y-%m-%d %H:%M")


def localise_all(value: Any, lang: str = DEFAULT_LANG) -> Any:
    """Every Message inside lists and dicts rendered (a problem's extension members)."""
    if isinstance(value, Message):
        return value.render(lang)
    if isinstance(value, dict):
        return {k: localise_all(v, lang) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [localise_all(v, lang) for v in value]
    return value


def placeholders(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


_LANG_RANGE = re.compile(r"^\s*(?P<tag>[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*(?P<q>[0-9.]+))?\s*$")


def negotiate(accept_language: str | None) -> Lang:
    """The catalogue a request's Accept-Language prefers (RFC 9110 §12.5.4): the highest q among
    zh and en, the earlier one on a tie; Chinese when it names neither or is absent."""
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        m = _LANG_RANGE.match(part)
        if not m:
            continue
        try:
            q = float(m.group("q")) if m.group("q") is not None else 1.0
        except ValueError:
            continue
        primary = m.group("tag").split("-")[0].lower()
        if primary not in ("zh", "en") or q <= 0:
            continue
        lang: Lang = "zh" if primary == "zh" else "en"
        if best is None or q > best[0]:
            best = (q, position, lang)
    return best[2] if best else DEFAULT_LANG


__all__ = [
    "DEFAULT_LANG",
    "Lang",
    "Message",
    "local_minute",
    "localise",
    "localise_all",
    "negotiate",
    "placeholders",
    "render",
    "t",
]
