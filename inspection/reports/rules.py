"""Pure rules of the reports: document kinds and numbers, the content hash, Beijing time, weeks,
days left, file names. No database, clock or settings in here."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import msgspec

# shared with the programme's records (inspection/documents.py); the reports read them from here too
from inspection.documents import BEIJING as BEIJING
from inspection.documents import LABELS_FILE as LABELS_FILE
from inspection.documents import beijing as beijing
from inspection.documents import canonical_json as canonical_json
from inspection.documents import day_start as day_start
from inspection.documents import label as label
from inspection.documents import labels as labels
from inspection.documents import local_day as local_day
from inspection.documents import week_of as week_of

# Longest texts a report prints, the longest the API accepts (projects/schemas.py Name and
# LongText). A record that holds more (written before the limits, or straight into the database)
# prints cut, with a note of what was left out: a page layout slows down with the length of a text,
# and a letterhead of 5,000 characters repeated on every page took WeasyPrint minutes.
NAME_CHARS = 200
TEXT_CHARS = 5000


@dataclasses.dataclass(frozen=True)
class KindInfo:
    """One kind of document: the prefix of its numbers, its title and its template."""

    kind: str
    code: str
    title: str
    template: str


@lru_cache(maxsize=1)
def kinds() -> dict[str, KindInfo]:
    return {name: KindInfo(kind=name, **entry) for name, entry in labels()["kinds"].items()}


def kind_info(kind: str) -> KindInfo:
    try:
        return kinds()[kind]
    except KeyError:
        raise ValueError(f"no report kind {kind!r}; known: {', '.join(sorted(kinds()))}") from None


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, the last of them a visible note of how many were
    left out. A shortened text is not shortened again."""
    if len(text) <= limit:
        return text
    keep = limit
    while True:
        note = f"…（以下省略 {len(text) - keep:,} 字）"
        if keep + len(note) <= limit:
            return text[:keep] + note
        keep = limit - len(note)


def shorten_all(value: Any, limit: int) -> Any:
    """Report data with every string in it shortened to `limit` (see `shorten`): inside dicts,
    lists, tuples, msgspec Structs and dataclasses; other values as they are."""
    if isinstance(value, str):
        return shorten(value, limit)
    if isinstance(value, dict):
        return {k: shorten_all(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [shorten_all(v, limit) for v in value]
    if type(value) is tuple:
        return tuple(shorten_all(v, limit) for v in value)
    if isinstance(value, msgspec.Struct):
        changes = {f: shorten_all(getattr(value, f), limit) for f in value.__struct_fields__}
        return msgspec.structs.replace(value, **changes)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: shorten_all(getattr(value, f.name), limit) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    return value


def document_number(code: str, year: int, serial: int) -> str:
    """ZGTZ-2026-00017: the kind's code, the year of issue (Beijing time), the serial in that year."""
    return f"{code}-{year}-{serial:05d}"


def content_sha256(kind: str, data: Any) -> str:
    """The hash the register keeps and the QR code carries: the report's kind and the data it
    shows, not the PDF bytes (which carry the hash themselves, and differ with the layout)."""
    return hashlib.sha256(kind.encode() + b"\n" + canonical_json(data)).hexdigest()


def verification_url(base_url: str, number: str, sha256: str) -> str:
    return f"{base_url.rstrip('/')}/verify/{quote(number, safe='')}?h={sha256}"


def days_left(until: date, today: date) -> int:
    """Whole days from today to `until`: 0 on the last day, negative once it has passed."""
    return (until - today).days


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def content_disposition(filename: str, fallback: str, inline: bool = False) -> str:
    """RFC 6266: an ASCII `filename` for old clients and the UTF-8 `filename*` (RFC 8187) that
    browsers prefer. `fallback` must be plain ASCII (a document number is)."""
    if not fallback.isascii() or any(c in fallback for c in '"\\\r\n'):
        raise ValueError("the fallback file name must be plain ASCII")
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"


# Half-width punctuation next to Chinese text, as item texts are often typed, and the full-width
# form GB/T 15834-2011 (标点符号用法) sets in Chinese text.
_FULL_WIDTH = {",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "?": "？", "!": "！"}


def _is_cjk(ch: str) -> bool:
    """A Chinese character, or CJK / full-width punctuation."""
    return any(
        low <= ch <= high
        for low, high in (("\u3400", "\u9fff"), ("\uf900", "\ufaff"), ("\u3000", "\u303f"), ("\uff00", "\uffef"))
    )


def zh_punct(text: str | None) -> str:
    """Half-width , : ; ( ) ? ! as full-width where they touch Chinese text, and a bracket pair
    whole when either half does. Among Latin letters and digits they stay ("(a) ok", "1:2"), and
    so does punctuation between two digits even next to Chinese ("配合比1:2")."""
    if not text:
        return ""
    chars = list(text)
    opened: list[int] = []
    for i, ch in enumerate(chars):
        if ch not in _FULL_WIDTH:
            continue
        before = chars[i - 1] if i > 0 else ""
        after = chars[i + 1] if i + 1 < len(chars) else ""
        if ch == "(":
            opened.append(i)
            if _is_cjk(after) or _is_cjk(before):
                chars[i] = _FULL_WIDTH[ch]
            continue
        if ch == ")":
            start = opened.pop() if opened else None
            if _is_cjk(before) or _is_cjk(after) or (start is not None and chars[start] == "（"):
                chars[i] = _FULL_WIDTH[ch]
                if start is not None:
                    chars[start] = "（"
            continue
        if before.isdigit() and after.isdigit():
            continue
        if _is_cjk(before) or _is_cjk(after):
            chars[i] = _FULL_WIDTH[ch]
    return "".join(chars)


def item_heading(text: str) -> tuple[str, str]:
    """An item text "施工方案：是否编制专项施工方案…" split into the 检查项目 of the JGJ 59 form
    ("施工方案") and the question after it; ("", text) when it has no short heading."""
    text = zh_punct(text)
    head, sep, rest = text.partition("：")
    if sep and 0 < len(head) <= 12 and rest.strip():
        return head.strip(), rest.strip()
    return "", text
