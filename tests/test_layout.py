"""The package's layout: no import cycle, each module imports only the steps below it, no module
over 700 lines. Read from the source (every import, those inside functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hazards"
MAX_LINES = 700

# Bottom to top: a module may import modules of its own layer or below. A name stands for the
# module and everything under it (``hazards.db.store`` covers ``hazards.db.store.plans``).
LAYERS = (
    "hazards.errors",
    "hazards.dates",
    "hazards.vocabulary",
    "hazards.reason_words",
    "hazards.settings",
    "hazards.collector",
    "hazards.offload",
    "hazards.crs",
    "hazards.db.server",
    "hazards.db.models",
    "hazards.db.session",
    "hazards.db.sql",
    "hazards.db.store",
    "hazards.db.users",
    "hazards.db.migrations",
    "hazards.db.admin",
    "hazards.versions",
    "hazards",
    "hazards.chainage",
    "hazards.fingerprints",
    "hazards.assembly",
    "hazards.network",
    "hazards.osm",
    "hazards.road_files",
    "hazards.unassigned",
    "hazards.roads",
    "hazards.csv_records",
    "hazards.sheets",
    "hazards.cells",
    "hazards.photos",
    "hazards.survey",
    "hazards.route_names",
    "hazards.survey_report",
    "hazards.duplicates",
    "hazards.reconcile",
    "hazards.matched_chunks",
    "hazards.review",
    "hazards.junctions",
    "hazards.known",
    "hazards.intake",
    "hazards.crash_columns",
    "hazards.crashes",
    "hazards.screening",
    "hazards.crash_risk",
    "hazards.scoring",
    "hazards.batching",
    "hazards.planning",
    "hazards.remediation",
    "hazards.rechecks",
    "hazards.evaluation",
    "hazards.worklist",
    "hazards.contractors",
    "hazards.completions",
    "hazards.users",
    "hazards.inventory",
    "hazards.map_style",
    "hazards.map_columns",
    "hazards.map_html",
    "hazards.report_charts",
    "hazards.report",
    "hazards.basemaps",
    "hazards.gpkg",
    "hazards.qgis_project",
    "hazards.mapping",
    "hazards.crash_maps",
    "hazards.demo",
    "hazards.cli",
)


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations/versions" in path.as_posix():
            continue
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its source."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [
                f"{module}.{a.name}" if f"{module}.{a.name}" in known else module
                for a in node.names
            ]
        else:
            continue
        for t in targets:
            # ``import hazards.db.store`` names the module; keep the longest known prefix
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _layer(name: str) -> int:
    best = max((p for p in LAYERS if name == p or name.startswith(p + ".")), key=len, default=None)
    if best is None:
        raise AssertionError(f"{name} is in no layer of tests/test_layout.py: add it to LAYERS")
    return LAYERS.index(best)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_walker_sees_imports_inside_functions(tmp_path: Path) -> None:
    src = tmp_path / "hazards" / "a.py"
    src.parent.mkdir()
    src.write_text(
        "def f():\n    from hazards.b import x\n    import hazards.c\n", encoding="utf-8"
    )
    assert _imports("hazards.a", src, {"hazards.a", "hazards.b", "hazards.c"}) == {
        "hazards.b",
        "hazards.c",
    }


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle() -> None:
    cycles = _cycles(_graph())
    assert not cycles, f"import cycles between hazards modules: {cycles}"


def test_no_module_imports_a_step_above_it() -> None:
    graph = _graph()
    upward = sorted(
        f"{m} imports {n}" for m, targets in graph.items() for n in targets if _layer(n) > _layer(m)
    )
    assert not upward, "imports going up the layers:\n" + "\n".join(upward)


@pytest.mark.parametrize("name", sorted(_modules()))
def test_module_size(name: str) -> None:
    lines = len(_modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, (
        f"{name} has {lines} lines (at most {MAX_LINES}): split it by subject"
    )


def test_each_module_opens_with_a_docstring() -> None:
    missing = [
        n
        for n, p in _modules().items()
        if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None
    ]
    assert not missing, f"modules without a docstring: {missing}"
