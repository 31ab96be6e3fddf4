"""The layout: clauses in front, the harness behind them, the catalogue as the one list of areas, and CI as what
a user types (the README's quick start, ``noxfile.py``, ``.ci/run`` and the GitHub workflow agree)."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import re
import shlex
import subprocess
import sys
import types
from pathlib import Path

import pytest

from spec_tests.harness import catalogue
from spec_tests.harness.records import ClauseResult, RunResult
from tests.support import REPO

SPEC = Path(catalogue.SPEC_DIR)
HARNESS = sorted((SPEC / "harness").rglob("*.py"))
#: What may sit at the top of spec_tests/ besides the clause modules: what the clauses use.
CLAUSE_SUPPORT = {"__init__.py", "conftest.py", "helpers.py", "generation.py", "backend.py", "devices.py",
                  "platform_probe.py", "environment.py", "forward.py"}


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
    """``iter_areas`` walks the areas in the catalogue's order, and every clause has a rule; its clauses are what
    pytest collects (no benchmark), with each case counted once and a level and seed cases that fit its cases."""
    errors = []
    areas = list(catalogue.iter_areas(errors))
    assert not errors, f"spec modules that failed to collect: {errors}"
    assert [area.name for area in areas] == list(catalogue.AREAS)
    clauses = [clause for area in areas for clause in area.clauses]
    nameless = [clause.id for clause in clauses if not clause.rule]
    assert not nameless, f"clauses without a docstring rule: {nameless}"
    assert len({clause.id for clause in clauses}) == len(clauses), "a clause listed twice"
    odd = [clause for clause in clauses if clause.level not in ("MUST", "SHOULD", "MUST/SHOULD") or clause.cases < 1
           or not 0 <= clause.seed_cases <= clause.cases or clause.seed != (clause.seed_cases > 0)]
    assert not odd, f"clauses whose level, cases or seed cases do not fit: {odd}"
    assert not [clause for clause in clauses if "benchmark" in clause.area], "a benchmark listed as a clause"


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


# --------------------------------------------------------------------------- CI is what a user types


def _quick_start() -> list[list[str]]:
    """The README's quick-start code block: one list of words per command, each ``&&``-joined part apart."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            commands += [shlex.split(part) for part in line.split("&&")]
    return commands


class _Session:
    """A stand-in for ``nox.Session`` that records what a session would install and run."""

    def __init__(self):
        self.calls = []

    def install(self, *args, **kwargs):
        self.calls.append(("install", args, kwargs.get("env")))

    def run(self, *args, env=None, **kwargs):
        self.calls.append(("run", args, env))


def _noxfile(monkeypatch, tmp_path) -> types.ModuleType:
    """``noxfile.py``, imported with a stand-in ``nox`` module (nox is CI's tool, not a test dependency)."""
    nox = types.ModuleType("nox")
    nox.options = types.SimpleNamespace()
    nox.Session = _Session
    nox.session = lambda *args, **kwargs: (lambda function: function)
    monkeypatch.setitem(sys.modules, "nox", nox)
    spec = importlib.util.spec_from_file_location("noxfile", REPO / "noxfile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "_BUILD_LOCK", tmp_path / "install.lock")
    return module


def _calls(noxfile, name: str) -> list:
    session = _Session()
    getattr(noxfile, name)(session)
    return session.calls


def test_readme_quick_start_is_what_ci_runs_first(monkeypatch, tmp_path):
    """keras3_tensorflow installs with the README's install command, then runs the README's commands as written:
    ``pytest`` and ``pytest tests`` (the words a user types, not ``python -m pytest``), before anything else."""
    commands = _quick_start()
    install = [words for words in commands if words[:2] == ["pip", "install"]]
    tests = [words for words in commands if words[:1] == ["pytest"]]
    assert len(install) == 1 and tests == [["pytest"], ["pytest", "tests"]], f"README's quick start: {commands}"
    calls = _calls(_noxfile(monkeypatch, tmp_path), "keras3_tensorflow")
    assert calls[0][:2] == ("install", tuple(install[0][2:])), f"expected {install[0]} first, seen {calls[0]}"
    runs = [args for kind, args, _ in calls if kind == "run"]
    assert [list(args) for args in runs[:2]] == tests, f"expected the README's {tests} first, seen {runs[:2]}"


def test_every_session_installs_the_package_and_runs_pytest_under_its_generation(monkeypatch, tmp_path):
    """Each nox session installs the package with the README's extras into its own venv, runs pytest in it (every
    pytest command under the session's generation and backend), and no session is left out of CI or the workflow."""
    noxfile = _noxfile(monkeypatch, tmp_path)
    sessions = noxfile.nox.options.sessions
    assert sessions == ["keras3_tensorflow", "keras3_jax", "keras3_torch", "keras2"]
    for name in sessions:
        calls = _calls(noxfile, name)
        assert calls[0][:2] == ("install", noxfile.INSTALL), f"{name}: expected the README's install first: {calls}"
        runs = [(args, env) for kind, args, env in calls if kind == "run" and args[0] == "pytest"]
        assert runs, f"{name} runs no pytest command"
        generation = {"keras2": "1"}.get(name)
        for args, env in runs:
            assert env.get("TF_USE_LEGACY_KERAS") == generation, f"{name}: {args} runs under {env}"
            assert env.get("KERAS_BACKEND") == (None if generation else name.split("_")[1]), f"{name}: {env}"
    ci_run = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    workflow = (REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    matrix = re.search(r"session: \[([^\]]*)\]", workflow)
    assert matrix and [s.strip() for s in matrix.group(1).split(",")] == sessions, "the workflow's matrix differs"
    assert "nox -s ${{ matrix.session }}" in workflow
    assert not [name for name in sessions if name not in ci_run], ".ci/run leaves a session out"
    assert "python -m pytest" not in ci_run, ".ci/run runs a command the README does not give"


def test_the_benchmarks_and_both_tiers_run_somewhere(monkeypatch, tmp_path):
    """The matrix loses no step: the benchmarks run once untimed, the full tier on each generation, the JAX and
    torch backends each on the keras.ops layer."""
    noxfile = _noxfile(monkeypatch, tmp_path)
    runs = {name: [" ".join(args) for kind, args, _ in _calls(noxfile, name) if kind == "run"]
            for name in noxfile.nox.options.sessions}
    assert "pytest -p no:cacheprovider --benchmark-disable -m spec_benchmark -q" in runs["keras3_tensorflow"]
    assert "pytest tests --full -m full -n 2" in runs["keras3_tensorflow"]
    assert [run for run in runs["keras2"] if run.startswith("pytest tests --full")]
    assert [run for run in runs["keras3_torch"]
            if run.startswith("python -m pip install --quiet") and run.endswith(" torch==2.13.0")], runs["keras3_torch"]
    installs = {name: [args for kind, args, _ in _calls(noxfile, name) if kind == "install"]
                for name in ("keras3_tensorflow", "keras2")}
    assert noxfile.KERAS3_ADAPTED in installs["keras3_tensorflow"] and noxfile.KERAS2_ADAPTED in installs["keras2"], (
        "the adapters' third-party layers (tests/adapters/) are installed where their full-tier tests run")
    for name in ("keras3_jax", "keras3_torch"):
        assert "pytest -p no:cacheprovider --impl layers:OpsDense" in runs[name], runs[name]


def test_an_editable_install_puts_the_checkout_on_sys_path(tmp_path):
    """``pip install -e .`` makes the checkout importable through ``sys.path`` (a ``.pth`` line), where pytest looks
    for a plugin's package to rewrite its asserts. An import hook instead made ``pytest`` (the README's command)
    import ``spec_tests`` and ``layers`` unrewritten, unlike ``python -m pytest``, and a nested run then warned
    "Module already imported so cannot be rewritten" (a failure of ``pytest tests`` in a fresh clone)."""
    # the installed distribution's record (an egg-info at the checkout's root may be found first, without one)
    records = [dist.read_text("direct_url.json") or "{}"
               for dist in importlib.metadata.distributions(name="keras-dense-layer-spec")]
    if not any(json.loads(record).get("dir_info", {}).get("editable") for record in records):
        pytest.skip("the package is not installed in editable mode (a plain checkout, or a wheel)")
    probe = "import importlib.machinery as m; spec = m.PathFinder.find_spec('spec_tests'); print(spec and spec.origin)"
    seen = subprocess.run([sys.executable, "-I", "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                          check=True).stdout.strip()
    expected = str(REPO / "spec_tests" / "__init__.py")
    assert seen != "None" and Path(seen) == Path(expected), (
        f"sys.path search for spec_tests from a fresh interpreter: expected {expected}, seen {seen}; reinstall with "
        "the README's command (pip install -e \".[test,legacy,jax]\") after pulling pyproject.toml's package-dir")
