"""Reproductions: a short standalone Python snippet that reruns one clause case outside pytest.

The report attaches one to every failed clause (:func:`snippet`). The snippet
names the versions, the seed and the profile, defines the clause exactly as the
spec does (its source shows how the inputs and weights are built, the calls, and
what is expected), and calls it with the case's parameters and fixtures, which
:func:`arguments` rebuilds the way ``spec_tests/conftest.py`` does: a clean,
seeded Keras session and ``make_layer`` for the class under test. It runs with
plain ``python`` (or under a debugger) wherever the spec is installed::

    python repro.py    # raises the clause's failure: "<what>: expected ..., seen ..."
"""

from __future__ import annotations

import contextlib
import io
import importlib
import inspect
import tempfile
import textwrap
from pathlib import Path

from spec_tests import environment as names
from spec_tests.harness.catalogue import SPEC_PACKAGE, area_module, area_of

#: Fixtures of pytest itself that clauses use, rebuilt outside pytest.
_BUILTINS = ("tmp_path", "tmp_path_factory", "monkeypatch")


def split_id(clause_id: str) -> tuple[str, str, str]:
    """``spec_tests/test_bias.py::test_x[relu]`` -> (``spec_tests.test_bias``, ``test_x``, ``relu``)."""
    path, _, rest = clause_id.partition("::")
    function, _, case = rest.partition("[")
    return area_module(area_of(path)), function.split("::")[-1], case.removesuffix("]")


def _case_parameters(clause_id: str) -> dict:
    """The parametrized arguments of one case, taken from pytest's own collection of the clause's module."""
    module_name, function, case = split_id(clause_id)
    if not case:
        return {}

    class Grab:
        params = None

        def pytest_collection_modifyitems(self, items):
            for item in items:
                if item.name == f"{function}[{case}]":
                    Grab.params = dict(item.callspec.params)

    from spec_tests.harness.launcher import run_pytest_here

    path = Path(importlib.import_module(module_name).__file__)
    with contextlib.redirect_stdout(io.StringIO()):
        run_pytest_here([str(path), "--collect-only", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                     "--rootdir", str(path.parents[1]), "-k", function], plugins=[Grab()])
    if Grab.params is None:
        raise LookupError(f"{clause_id}: no such case in {module_name}")
    return Grab.params


def _fixture_function(holder, name: str):
    value = getattr(holder, name, None)
    unwrap = getattr(value, "_get_wrapped_function", None)  # pytest >= 8.4
    if unwrap is not None:
        return unwrap()
    return getattr(value, "__pytest_wrapped__", None) and value.__pytest_wrapped__.obj


class _Fixtures:
    """Resolves a clause's fixtures by name: its module's and the spec conftest's, then pytest's own few."""

    def __init__(self, module, stack: contextlib.ExitStack, tmp: Path, preset: dict):
        self.holders = [module, importlib.import_module(f"{SPEC_PACKAGE}.conftest")]
        self.stack, self.tmp, self.values = stack, tmp, dict(preset)

    def get(self, name: str):
        if name not in self.values:
            self.values[name] = self._make(name)
        return self.values[name]

    def _make(self, name: str):
        import pytest

        if name == "tmp_path":
            return Path(tempfile.mkdtemp(dir=self.tmp))
        if name == "tmp_path_factory":
            return type("TmpPathFactory", (), {"mktemp": lambda _, base, numbered=True: Path(
                tempfile.mkdtemp(prefix=base, dir=self.tmp))})()
        if name == "monkeypatch":
            patch = pytest.MonkeyPatch()
            self.stack.callback(patch.undo)
            return patch
        for holder in self.holders:
            function = _fixture_function(holder, name)
            if function is not None:
                value = function(**{arg: self.get(arg) for arg in inspect.signature(function).parameters})
                if inspect.isgenerator(value):
                    generator, value = value, next(value)
                    self.stack.callback(lambda g=generator: next(g, None))
                return value
        raise LookupError(f"fixture {name!r} is not known outside pytest")


@contextlib.contextmanager
def arguments(clause_id: str, impl: str, profile: str = "dense", parameters: dict | None = None):
    """The keyword arguments to call the clause with, inside a clean seeded Keras session (as the spec's
    conftest makes one), for the class ``impl`` names; the session's fixtures are torn down on exit."""
    from spec_tests.harness import selection

    module_name, function_name, _ = split_id(clause_id)
    maker, source = selection.load_impl(impl)
    cls = selection.made_class(maker, impl)
    state = selection.SpecState(spec=impl, cls=cls, profile=profile, source=source,
                                factory=maker if selection.is_factory(maker) else None)
    module = importlib.import_module(module_name)
    function = inspect.unwrap(getattr(module, function_name))
    params = _case_parameters(clause_id) if parameters is None else parameters
    with tempfile.TemporaryDirectory(prefix="layer-spec-repro-") as tmp, contextlib.ExitStack() as stack:
        fixtures = _Fixtures(module, stack, Path(tmp), {"layer_impl": state, "layer_cls": cls, "profile": profile})
        for autouse in ("_clean_keras_session",):
            fixtures.get(autouse)
        names = [name for name in inspect.signature(function).parameters if name not in params]
        yield {**params, **{name: fixtures.get(name) for name in names}}


def run(clause_id: str, impl: str, profile: str = "dense") -> None:
    """Run one clause case on ``impl`` outside pytest; raises what the clause raises."""
    module_name, function_name, _ = split_id(clause_id)
    function = getattr(importlib.import_module(module_name), function_name)
    with arguments(clause_id, impl, profile) as kwargs:
        function(**kwargs)


def snippet(clause_id: str, impl: str, profile: str, versions: dict, seed: int, message: str = "",
            legacy: bool = False, backend: str | None = None) -> str:
    """The standalone reproduction of one clause case, as Python source."""
    module_name, function_name, _ = split_id(clause_id)
    try:
        source = textwrap.dedent(inspect.getsource(getattr(importlib.import_module(module_name), function_name)))
    except (ImportError, AttributeError, OSError, TypeError):
        source = f"from {module_name} import {function_name}\n"
    environment = []
    if legacy:
        environment.append(f'os.environ["{names.LEGACY_KERAS}"] = "1"  # legacy Keras 2, before TensorFlow is imported')
    if backend and backend != "tensorflow":
        environment.append(f'os.environ["{names.KERAS_BACKEND}"] = "{backend}"  # before Keras is imported')
    expected = "\n".join(f"#   {line}" for line in (message or "(see the report)").splitlines()[:6])
    return "\n".join([
        f'"""Reproduce {clause_id} outside pytest: python this_file.py (or run it under a debugger).',
        "",
        f"Seen with {versions.get('runtime', '?')}, Python {versions.get('python', '?')}, "
        f"keras-dense-layer-spec {versions.get('layer_spec', '?')}; profile {profile}; every generator seeded "
        f"with {seed} (spec_tests/conftest.py).",
        '"""',
        "import os",
        *environment,
        "",
        "from spec_tests.harness import repro",
        f"globals().update(vars(__import__({module_name!r}, fromlist=['*'])))  # the area's constants and helpers",
        "",
        "",
        "# The clause, as the spec states it: how the inputs and weights are built, the calls, what is expected.",
        source.rstrip(),
        "",
        "",
        f"with repro.arguments({clause_id!r}, impl={impl!r}, profile={profile!r}) as kwargs:",
        f"    {function_name}(**kwargs)  # the case's parameters, and a fresh seeded Keras session",
        "# Expected to fail as it did in the run:",
        expected,
        "",
    ])


def attach(result, state, legacy: bool) -> None:
    """Give every failed clause and every advisory of ``result`` (a RunResult of ``state``) its reproduction."""
    import sys

    from spec_tests.backend import BACKEND

    seed = getattr(sys.modules.get(f"{SPEC_PACKAGE}.conftest"), "SEED", 1234)
    impl = state.spec
    if impl.startswith("layer-spec-object:"):  # a class handed over as an object: name it as best we can
        impl = f"{state.cls.__module__}:{state.cls.__qualname__}"
    for clause in result.clauses:
        if clause.outcome in ("failed", "advisory") and not clause.repro:
            clause.repro = snippet(clause.id, impl, state.profile, result.versions, seed, clause.message, legacy,
                                   BACKEND)


__all__ = ["arguments", "attach", "run", "snippet", "split_id"]
