"""The import rules of docs/architecture.md, read from the code (ast): no cycle between the packages
of inspection/, no domain importing the HTTP layer (`api`) or the tablet protocol (`inspection.sync`).

Every module counts, migrations and imports inside functions included: a lazy import is a
dependency all the same, only a later one. A node of the graph is a first-level name under
inspection/ (a domain package such as `samples`, or a core module such as `records`)."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "inspection"

# The entry points: they assemble the application (`api`) and the tablet protocol around the domains.
ENTRY_POINTS = frozenset({"cli", "tools"})
# Besides the entry points, only the tablet protocol itself knows how records travel to tablets.
MAY_IMPORT_SYNC = ENTRY_POINTS | {"sync"}

# Cycles being broken on other branches at the time of writing; the lead removes each entry when
# the branch that breaks it is merged (test_allowed_cycles_still_exist says when):
ALLOWED_CYCLES: list[frozenset[str]] = []  # none left; a cycle added later is broken, not listed

Edges = dict[str, dict[str, list[str]]]


def _node(module: str) -> str | None:
    """The graph node of an imported module name: `api`, a first-level name under inspection/, or
    None for anything else (the standard library, third-party packages)."""
    parts = module.split(".")
    if parts[0] == "api":
        return "api"
    if parts[0] == "inspection" and len(parts) > 1:
        return parts[1]
    return None


def _module_name(path: Path) -> tuple[str, str]:
    """(the module's dotted name, the package a relative import in it starts from)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        name = ".".join(parts[:-1])
        return name, name
    name = ".".join(parts)
    return name, name.rsplit(".", 1)[0]


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every module `path` imports, anywhere in it, with the line."""
    _, package = _module_name(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*up, base] if base else up)
            if base == "inspection":  # `from inspection import records`: the name is the module
                for alias in node.names:
                    yield f"inspection.{alias.name}", node.lineno
            else:
                yield base, node.lineno


def package_graph() -> Edges:
    """node -> the nodes it imports -> where (file:line)."""
    edges: Edges = defaultdict(lambda: defaultdict(list))
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _node(_module_name(path)[0])
        if source is None:  # inspection/__init__.py
            continue
        for module, line in _imports(path):
            target = _node(module)
            if target is not None and target != source:
                edges[source][target].append(f"{path.relative_to(ROOT)}:{line}")
    return edges


def strongly_connected(edges: Edges) -> list[set[str]]:
    """Tarjan's components of the graph: a component of more than one node holds a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            found.append(component)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return [c for c in found if len(c) > 1]


def describe_cycle(edges: Edges, component: set[str]) -> str:
    """One cycle through the component, each step with the first import that makes it."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:  # breadth first inside the component, back to `start`
        v = queue.pop(0)
        for w in sorted(edges.get(v, {})):
            if w not in component:
                continue
            if w == start:
                cycle = [*paths[v], start]
                steps = [f"  {a} -> {b}  ({edges[a][b][0]})" for a, b in pairwise(cycle)]
                return "\n".join(steps)
            if w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    raise AssertionError(f"no cycle in {component}")


@pytest.fixture(scope="module")
def graph() -> Edges:
    return package_graph()


def test_the_graph_is_read_from_the_code(graph: Edges) -> None:
    # a reader that found nothing would pass every rule below: it must see the known arrows
    assert "projects" in graph["samples"] and "records" in graph["samples"]
    assert "checklists" in graph["sync"]  # sync/commands call the checklists service
    assert all(":" in where for where in graph["samples"]["projects"])
    # an import inside a function counts: cli imports the app only when it serves
    assert "api" in graph["cli"]


def test_no_cycle_between_packages(graph: Edges) -> None:
    cycles = [c for c in strongly_connected(graph) if not any(c <= allowed for allowed in ALLOWED_CYCLES)]
    report = "\n\n".join(f"cycle between {', '.join(sorted(c))}:\n{describe_cycle(graph, c)}" for c in cycles)
    assert not cycles, "import cycles (docs/architecture.md: imports point down, never back up):\n" + report


def test_allowed_cycles_still_exist(graph: Edges) -> None:
    """An entry of ALLOWED_CYCLES whose cycle is gone is only a hole left open: remove it."""
    components = strongly_connected(graph)
    gone = [sorted(allowed) for allowed in ALLOWED_CYCLES if not any(len(c & allowed) > 1 for c in components)]
    assert not gone, f"these cycles are broken now; remove them from ALLOWED_CYCLES: {gone}"


def test_only_entry_points_import_the_api(graph: Edges) -> None:
    offenders = {n: targets["api"] for n, targets in graph.items() if "api" in targets and n not in ENTRY_POINTS}
    assert not offenders, f"the domain must not know HTTP; imports of api: {offenders}"


def test_domains_do_not_import_sync(graph: Edges) -> None:
    offenders = {n: targets["sync"] for n, targets in graph.items() if "sync" in targets and n not in MAY_IMPORT_SYNC}
    assert not offenders, (
        "a domain never knows how its records travel to tablets (tablet commands live in "
        f"inspection/sync/commands/ and call the domain's service); imports of inspection.sync: {offenders}"
    )


def test_a_cycle_is_found_and_spelled_out() -> None:
    """The cycle check on a made-up graph: the component is found, and one cycle through it is
    spelled out step by step with the import behind each step."""
    made_up: Edges = {
        "a": {"b": ["inspection/a/x.py:3"]},
        "b": {"c": ["inspection/b/y.py:7"]},
        "c": {"a": ["inspection/c/z.py:9"], "d": ["inspection/c/z.py:10"]},
        "d": {},
    }
    (component,) = strongly_connected(made_up)
    assert component == {"a", "b", "c"}
    assert describe_cycle(made_up, component) == (
        "  a -> b  (inspection/a/x.py:3)\n  b -> c  (inspection/b/y.py:7)\n  c -> a  (inspection/c/z.py:9)"
    )
    assert strongly_connected({"a": {"b": ["x"]}, "b": {}}) == []
