"""The README's guarantees each name the code that keeps them (scripts/guards.py, checked by
`make guard-check`, which removes each guard and sees its tests fail). This keeps that list true as
code moves: every guard's text is still in its file exactly once, and every guard's tests exist."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from guards import GUARDS, Guard  # noqa: E402


@pytest.mark.parametrize("guard", GUARDS, ids=[g.name for g in GUARDS])
def test_every_guard_is_still_where_it_says(guard: Guard) -> None:
    text = (ROOT / guard.path).read_text(encoding="utf-8")
    found = text.count(guard.old)
    assert found == guard.occurrences, f"{guard.path} holds this guard {found} times: update scripts/guards.py"
    assert guard.old != guard.new
    for test in guard.tests:
        path, _, name = test.partition("::")
        assert (ROOT / path).is_file(), test
        if name:
            assert f"def {name}(" in (ROOT / path).read_text(encoding="utf-8"), test
    assert guard.database in ("sqlite", "postgres")


def test_guard_names_are_unique() -> None:
    names = [g.name for g in GUARDS]
    assert len(names) == len(set(names))
