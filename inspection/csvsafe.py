"""Every CSV the product writes goes through here, so no cell opens as a spreadsheet formula.

Excel, LibreOffice and WPS run a cell that starts with `=`, `+`, `-` or `@` as a formula (and a
leading tab or carriage return can hide such a start), so text typed by a contractor such as
`=HYPERLINK(…)` or `+cmd|' /C calc'!A0` would run on the office PC that opens the ledger (OWASP
"CSV injection"). Such a cell is written with a leading apostrophe, which spreadsheets show as
text and never evaluate.

Numbers are data, not formulas: a Python int, float or Decimal, and text that is exactly one
plain decimal number (`-2.1`, `+5`, `1e3`), are written unchanged, so a negative deviation stays a
number a spreadsheet can add up. Anything more (`-2+3`, `-1)*cmd`) is neutralised like any text.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# One number and nothing else: what a spreadsheet reads as a number, never as a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def safe_cell(value: Any) -> Any:
    """`value` as it may go into a CSV cell: formula-like text gets a leading apostrophe."""
    if value is None or isinstance(value, (bool, int, float, Decimal)):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class SafeWriter:
    """`csv.writer` whose rows are neutralised cell by cell (see the module docstring)."""

    def __init__(self, out: _Writable, **fmt: Any) -> None:
        self._writer = csv.writer(out, **fmt)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


__all__ = ["FORMULA_STARTS", "SafeWriter", "safe_cell"]
