"""Loads the rectification rules (rules.toml beside this module: deadlines, escalation, the
calendar) once per process."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from inspection.rectification.rules import RuleBook, parse_rulebook

RULES_FILE = Path(__file__).with_name("rules.toml")


def load_rulebook(path: Path = RULES_FILE) -> RuleBook:
    return parse_rulebook(tomllib.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def default_rulebook() -> RuleBook:
    return load_rulebook()
