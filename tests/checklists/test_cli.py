"""`siteinspect templates import | list` as a person runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from inspection.checklists.tables import ChecklistTemplate
from inspection.checklists.templates import shipped_files

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspection.cli", "templates", *args],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_import_list_and_a_refused_file(tmp_path: Path) -> None:
    before = await ChecklistTemplate.count()
    bad = tmp_path / "scaffold-typo.toml"
    source = next(f for f in shipped_files() if f.name == "jgj59-fastener-scaffold.toml").read_text(encoding="utf-8")
    bad.write_text(source.replace('code = "G3"\nsection = "guarantee"', 'code = "G3"\nsection = "guarantees"'), "utf-8")
    refused = run("import", str(bad))
    assert refused.returncode == 1
    assert f"{bad}：G3：分部 'guarantees' 未在 [[sections]] 中声明" in refused.stderr
    assert "共 1 个问题，未导入任何模板" in refused.stderr
    assert await ChecklistTemplate.count() == before, "a refused file stores nothing"

    done = run("import")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("已导入") == len(shipped_files())
    listed = run("list", "--kind", "passfail")
    assert listed.returncode == 0 and "passfail-confined-space" in listed.stdout and "jgj59" not in listed.stdout
