"""What the repository itself may hold: binary files only in the folders meant for them."""

from __future__ import annotations

import subprocess

import pytest

from inspection.settings import PROJECT_ROOT

# Folders whose binary files are there on purpose; anything binary elsewhere is a stray (a
# screenshot saved into the root by a test run, a PDF written by hand, a database file).
BINARY_FOLDERS = (
    "tests/reports/golden/",  # the reports' golden page images (tests/reports/test_golden.py)
    "pdf_templates/logos/",  # organisations' logos printed on reports
    "api/portal/static/",  # the portal's own images, if it gets any
    "tablet/public/icons/",  # the tablet app's icons for the home screen (web app manifest)
)
TEXT_SAMPLE = 8192


def tracked_files() -> list[str]:
    done = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=False, timeout=60)
    if done.returncode != 0:
        pytest.skip("not a git checkout")
    return [name for name in done.stdout.decode().split("\0") if name]


def is_binary(name: str) -> bool:
    path = PROJECT_ROOT / name
    if not path.is_file():  # deleted in the work tree but not yet committed
        return False
    head = path.read_bytes()[:TEXT_SAMPLE]
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the sample's end is still text
        return exc.start < len(head) - 4
    return False


def test_no_binary_files_outside_known_folders() -> None:
    strays = [n for n in tracked_files() if not n.startswith(BINARY_FOLDERS) and is_binary(n)]
    assert not strays, f"binary files committed outside {BINARY_FOLDERS}: {strays}"


def test_the_guard_sees_a_png() -> None:
    """The check itself: a PNG's signature holds bytes that are not UTF-8 and a NUL."""
    sample = PROJECT_ROOT / "var" / "guard-check.png"
    sample.parent.mkdir(exist_ok=True)
    sample.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    try:
        assert is_binary("var/guard-check.png")
        assert not is_binary("README.md")
    finally:
        sample.unlink()
