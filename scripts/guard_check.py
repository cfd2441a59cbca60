"""Proves that the tests behind the README's guarantees guard them: for each guarantee, the line
of code that keeps the promise is removed (or turned) in a scratch copy of the tree, the tests
named for it are run, and they must fail. A guarantee whose tests still pass without its guard is
reported, and the run fails.

    .venv/bin/python scripts/guard_check.py             # every guard (PostgreSQL ones need a server)
    .venv/bin/python scripts/guard_check.py audit       # guards whose name contains "audit"
    .venv/bin/python scripts/guard_check.py --dry       # only whether every guard's text is in place
    make guard-check                                    # the same, with a throw-away PostgreSQL

The guards live in scripts/guards.py, one per README row or more; a guard whose text is no longer
in its file fails the run too, so the list cannot silently rot when code moves."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from guards import GUARDS, Guard

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"


def scratch_copy() -> Path:
    """The committed and working files of the tree (what `git ls-files` lists), copied once."""
    target = Path(tempfile.mkdtemp(prefix="siteinspect-guards-"))
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode())
    built = ROOT / "tablet" / "dist"
    if built.is_dir():
        shutil.copytree(built, target / "tablet" / "dist")
    modules = ROOT / "tablet" / "node_modules"
    if modules.is_dir():
        (target / "tablet" / "node_modules").symlink_to(modules)
    return target


def build_tablet(tree: Path) -> None:
    """The tablet app as the browser tests load it (dist/), from the scratch copy's sources."""
    subprocess.run(["node", "build.mjs"], cwd=tree / "tablet", check=True, capture_output=True)  # noqa: S607


def _node_tests(guard: Guard) -> bool:
    """The tablet app's own unit tests (node --test, named tablet/test/*.mjs) rather than pytest's."""
    kinds = {name.endswith(".mjs") for name in guard.tests}
    if len(kinds) != 1:
        raise ValueError(f"guard {guard.name!r} mixes node and pytest tests; give each its own guard")
    return kinds == {True}


def run_tests(tree: Path, guard: Guard, postgres_url: str | None) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "SITEINSPECT_DATABASE_URL"}
    if guard.database == "postgres":
        assert postgres_url is not None
        env["SITEINSPECT_DATABASE_URL"] = postgres_url
    if _node_tests(guard):
        # node exits 1 when a test fails, as pytest does
        command = ["node", "--test", *(name.removeprefix("tablet/") for name in guard.tests)]
        cwd = tree / "tablet"
    else:
        command = [str(PYTHON), "-m", "pytest", "-q", "-x", "-p", "no:randomly", "-p", "no:cacheprovider", *guard.tests]
        cwd = tree
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=guard.timeout_s)  # noqa: S603
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-6:])
    return done.returncode, tail


_baseline: dict[tuple[tuple[str, ...], str], tuple[int, str]] = {}


def check(tree: Path, guard: Guard, postgres_url: str | None) -> tuple[str, str]:
    """("proven" | "NOT PROVEN" | "BROKEN" | "skipped", what was seen)."""
    if guard.database == "postgres" and not postgres_url:
        return "skipped", "needs PostgreSQL (run under scripts/with-postgres.sh or `make guard-check`)"
    # the unchanged tree first: tests that fail anyway prove nothing about the guard
    key = (guard.tests, guard.database)
    if key not in _baseline:
        _baseline[key] = run_tests(tree, guard, postgres_url)
    if _baseline[key][0] != 0:
        return "BROKEN", "the tests fail with the guard in place:\n" + _baseline[key][1]
    path = tree / guard.path
    original = path.read_text(encoding="utf-8")
    if original.count(guard.old) != guard.occurrences:
        found = original.count(guard.old)
        return "BROKEN", f"the guard's text occurs {found} times in {guard.path}, not {guard.occurrences}"
    # the browser tests load the built app, so a change to its sources is built before they run
    rebuild = guard.path.startswith("tablet/src/")
    path.write_text(original.replace(guard.old, guard.new), encoding="utf-8")
    try:
        if rebuild:
            build_tablet(tree)
        code, tail = run_tests(tree, guard, postgres_url)
    except subprocess.TimeoutExpired:
        # a test that hangs without its guard has noticed its absence, but say so
        return "proven", f"the tests hung past {guard.timeout_s} s without the guard"
    finally:
        path.write_text(original, encoding="utf-8")
        if rebuild:
            build_tablet(tree)
    if code == 1:
        return "proven", tail
    if code == 0:
        return "NOT PROVEN", "the tests pass without the guard:\n" + tail
    return "BROKEN", f"the test runner exited {code} (not a test failure):\n" + tail


def dry(guards: list[Guard]) -> int:
    """Only whether every guard's text is still in its file, once."""
    broken = 0
    for guard in guards:
        found = (ROOT / guard.path).read_text(encoding="utf-8").count(guard.old)
        if found != guard.occurrences:
            broken += 1
            print(f"BROKEN  {guard.name}: its text occurs {found} times in {guard.path}")
    print(f"guard-check --dry: {len(guards) - broken} of {len(guards)} guards in place")
    return 1 if broken else 0


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("--")]
    wanted = [g for g in GUARDS if not names or any(a in g.name for a in names)]
    if "--dry" in argv:
        return dry(wanted)
    postgres_url = os.environ.get("SITEINSPECT_DATABASE_URL", "")
    postgres_url = postgres_url if postgres_url.startswith("postgres") else None
    tree = scratch_copy()
    failed = 0
    try:
        for guard in wanted:
            began = time.monotonic()
            verdict, seen = check(tree, guard, postgres_url)
            failed += verdict in ("NOT PROVEN", "BROKEN")
            took = time.monotonic() - began
            print(f"{verdict:>10}  {guard.name}  ({took:.0f} s)", flush=True)
            if verdict != "proven":
                print("            " + seen.replace("\n", "\n            "), flush=True)
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    print(f"guard-check: {len(wanted) - failed} of {len(wanted)} guards proven or skipped, {failed} not")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
