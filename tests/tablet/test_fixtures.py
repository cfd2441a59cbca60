"""The tablet's unit tests parse a shipped checklist template as the server stores it
(tablet/test/fixtures/roof-template.json): that copy must be the template as it is now."""

from __future__ import annotations

from pathlib import Path

from inspection.checklists.templates import TEMPLATE_DIR, load_file

FIXTURE = Path(__file__).resolve().parents[2] / "tablet" / "test" / "fixtures" / "roof-template.json"


def current() -> str:
    return load_file(TEMPLATE_DIR / "gb50300-roof-waterproofing.toml").content_json()


def test_the_tablets_template_fixture_is_current() -> None:
    # to refresh it: .venv/bin/python -m tests.tablet.test_fixtures
    assert FIXTURE.read_text(encoding="utf-8") == current()


if __name__ == "__main__":
    FIXTURE.write_text(current(), encoding="utf-8")
