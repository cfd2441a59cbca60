"""Readiness of the object store, until the evidence store lands with its own check."""

from __future__ import annotations

import os
from pathlib import Path

from inspection.settings import PROJECT_ROOT, Settings


def storage_problem(settings: Settings) -> str | None:
    if settings.storage.backend != "disk":
        return None
    root = Path(settings.storage.disk_root)
    if not root.is_absolute():
        root = PROJECT_ROOT / root
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create {root}: {exc.strerror}"
    if not os.access(root, os.W_OK):
        return f"{root} is not writable"
    return None
