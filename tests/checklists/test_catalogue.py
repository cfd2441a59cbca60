"""Importing templates into the database: immutable versions named by content hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspection.changefeed.tables import SyncChange
from inspection.checklists.catalogue import import_shipped, import_templates, latest_version, list_versions
from inspection.checklists.tables import ChecklistTemplate
from inspection.checklists.templates import TemplateError, shipped_files
from inspection.clock import FixedClock


async def test_shipped_templates_import_once(clock: FixedClock) -> None:
    before = await ChecklistTemplate.count(), await SyncChange.count().where(SyncChange.bucket == "ref")
    first = await import_shipped(clock)
    assert len(first) == len(shipped_files()) and all(d.created and d.version == 1 for d in first)
    again = await import_shipped(clock)
    assert not any(d.created for d in again)
    assert await ChecklistTemplate.count() == before[0] + len(first)
    # templates are reference data: every tablet receives them
    assert await SyncChange.count().where(SyncChange.bucket == "ref") == before[1] + len(first)


async def test_changed_content_is_a_new_version_and_the_old_one_stays(clock: FixedClock, tmp_path: Path) -> None:
    source = next(f for f in shipped_files() if f.name == "passfail-site-fire.toml")
    copy = tmp_path / source.name
    copy.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (v1,) = await import_templates([copy], clock)
    copy.write_text(source.read_text(encoding="utf-8").replace("并组织过演练", "并每半年组织演练"), encoding="utf-8")
    (v2,) = await import_templates([copy], clock)
    assert (v1.version, v2.version) == (1, 2) and v1.sha256 != v2.sha256
    latest = await latest_version("passfail-site-fire")
    assert latest["version_number"] == 2 and "每半年" in latest["content"]
    assert len(await list_versions(latest_only=False)) == 2


async def test_a_bad_file_stops_the_whole_import(clock: FixedClock, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('code = "x"\nkind = "quality"\ntitle = "x"\n', encoding="utf-8")
    before = await ChecklistTemplate.count()
    with pytest.raises(TemplateError) as caught:
        await import_templates([*shipped_files(), bad], clock)
    assert caught.value.problems[0][0].endswith("bad.toml")
    assert await ChecklistTemplate.count() == before
