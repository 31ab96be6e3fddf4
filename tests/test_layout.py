"""The layout: clauses in front, the harness behind them, and the catalogue as the one list of areas."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from spec_tests.harness import catalogue
from spec_tests.harness.results import ClauseResult, RunResult
from tests.support import REPO

SPEC = Path(catalogue.SPEC_DIR)
HARNESS = sorted((SPEC / "harness").rglob("*.py"))
#: What may sit at the top of spec_tests/ besides the clause modules: what the clauses use.
CLAUSE_SUPPORT = {"__init__.py", "conftest.py", "helpers.py", "generation.py", "backend.py", "devices.py",
                  "platform_probe.py", "environment.py"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_top_of_spec_tests_holds_only_clauses_and_what_they_use():
    """``spec_tests/`` holds clause modules and their support only; the harness lives in ``spec_tests/harness/``."""
    others = sorted(p.name for p in SPEC.glob("*.py") if not p.name.startswith("test_") and p.name not in CLAUSE_SUPPORT)
    assert not others, f"modules at the top of spec_tests/ that are neither clauses nor clause support: {others}"


@pytest.mark.parametrize("path", HARNESS, ids=lambda p: str(p.relative_to(SPEC)))
def test_harness_module_says_its_job(path):
    """Every harness module opens with a docstring that says its one job (modules are cut by job, not by size)."""
    text = path.read_text(encoding="utf-8")
    doc = ast.get_docstring(ast.parse(text))
    assert doc and len(doc.split()) >= 3, f"{path.relative_to(SPEC)}: expected a docstring saying its job, seen {doc!r}"


@pytest.mark.parametrize("path", HARNESS, ids=lambda p: str(p.relative_to(SPEC)))
def test_harness_never_imports_a_test_module(path):
    """The harness depends on no clause module (the benchmarks' module included): the dependency runs one way."""
    bad = sorted(name for name in _imports(path) if ".test_" in name or name.split(".")[-1].startswith("test_"))
    assert not bad, f"{path.relative_to(SPEC)} imports test modules {bad}"


def test_every_area_module_is_in_the_catalogue():
    """Each ``spec_tests/test_<area>.py`` is listed in the catalogue's reading order (no area is sorted in by name)."""
    unlisted = [area for area in catalogue.spec_areas() if area not in catalogue.AREAS]
    missing = [area for area in catalogue.AREAS if area not in catalogue.spec_areas()]
    assert not unlisted and not missing, f"areas not in catalogue.AREAS: {unlisted}; listed without a module: {missing}"


def test_clauses_are_listed_in_reading_order():
    """``iter_areas`` walks the areas in the catalogue's order, and every clause has a rule."""
    areas = list(catalogue.iter_areas())
    assert [area.name for area in areas] == list(catalogue.AREAS)
    nameless = [clause.id for area in areas for clause in area.clauses if not clause.rule]
    assert not nameless, f"clauses without a docstring rule: {nameless}"


@pytest.mark.parametrize("item, area", [
    ("spec_tests/test_bias.py::test_x[1]", "bias"),
    ("/abs/path/spec_tests/test_bad_input.py::test_y", "bad_input"),
    ("test_build.py::TestX::test_z", "build"),
])
def test_area_of_a_node_id(item, area):
    """``area_of`` reads a node id however it is rooted."""
    assert catalogue.area_of(item) == area


def test_run_result_table_is_in_reading_order_and_round_trips_through_json():
    """A result's area table follows the reading order, and ``to_dict``/``from_dict`` keep every clause and the verdict."""
    clauses = [ClauseResult("spec_tests/test_bad_input.py::test_a", "bad_input", "rule a", "failed", message="E: x"),
               ClauseResult("spec_tests/test_build.py::test_b", "build", "rule b", "passed"),
               ClauseResult("spec_tests/test_construction.py::test_c", "construction", "rule c", "skipped")]
    result = RunResult({"spec": "m:C", "class": "m.C", "file": "m.py"}, {"name": "dense"}, {}, clauses=clauses)
    assert list(result.areas()) == ["construction", "build", "bad_input"]
    assert result.verdict()[0] == "DOES NOT CONFORM" and result.killed_by("bad_input") and not result.killed_by("build")
    again = RunResult.from_dict(result.to_dict())
    assert again.clauses == result.clauses and again.verdict() == result.verdict()


def _module_name(path: Path) -> str:
    parts = path.relative_to(SPEC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """spec_tests module -> the spec_tests modules it imports, at the top or inside a function alike."""
    modules = {_module_name(path): path for path in SPEC.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path):
            while imported and imported not in modules:  # `from pkg.mod import name`: the module is pkg.mod
                imported = imported.rpartition(".")[0]
            if imported and imported != name and imported != "spec_tests":
                targets.add(imported)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_no_import_cycle_inside_spec_tests():
    """No two modules of spec_tests/ import each other, directly or through others, even inside a function."""
    cycles = _cycles(_import_graph())
    assert not cycles, "import cycles (break each with a leaf module both can import): " + "; ".join(
        " <-> ".join(cycle) for cycle in cycles)


def test_cycle_finder_finds_a_cycle():
    """The cycle finder is not blind: a two-module and a three-module circle are both found, a chain is not."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": set()}) == [["a", "b"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]


def test_readme_is_lean():
    """The README stays at most 200 lines: reference material lives in docs/ (issue 20)."""
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md: expected at most 200 lines, seen {len(lines)}; move reference material to docs/"


#: An unfilled figure: ``<CIDATE>``-style or ``CITOTAL``-style placeholders left by a half-done measurement edit.
PLACEHOLDER = re.compile(r"<[A-Z][A-Z_]{2,}>|\bCI[A-Z]{3,}\b")


def test_no_unfilled_figure_in_the_readme_or_docs():
    """Every figure the README and docs/ show is a number: no placeholder waits for a measurement."""
    found = [f"{path.relative_to(REPO)}:{number}: {line.strip()}"
             for path in [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if PLACEHOLDER.search(line)]
    assert not found, "placeholders where a measured figure belongs:\n" + "\n".join(found)
