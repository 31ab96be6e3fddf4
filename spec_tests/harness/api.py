"""The in-process API: check a class from Python, or run the clauses inside your own project's tests.

* :func:`check` runs the spec on one class in this process and returns a
  :class:`~spec_tests.harness.records.RunResult` (``.conforms``, ``.clauses``,
  ``.render_markdown()``), like scikit-learn's ``check_estimator``.
* :func:`parametrize_with_clauses` is a ``pytest.mark.parametrize`` over
  (class, clause) pairs, like scikit-learn's ``parametrize_with_checks``: each
  test item asserts one clause for one class. The spec runs once per class, on
  the first item that needs it, and the items read its result.

Both leave the process as they found it: Keras's dtype policy, name counters
and random generators are restored after every clause (spec_tests/conftest.py),
and the CPU is not split into logical devices (the distribution clauses then
skip with the reason, unless the process already has two CPU devices).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile

from spec_tests import environment
from spec_tests.harness.catalogue import DEFAULT_PROFILE, iter_areas
from spec_tests.harness.records import RunResult

#: Set while the spec runs inside someone else's process: spec_tests/conftest.py then leaves the devices alone.
KEEP_DEVICES_ENV = environment.KEEP_DEVICES


def impl_spec(cls_or_spec) -> str:
    """The ``--impl`` value for a class object or a spec string (a class pytest cannot import by name is
    registered with :mod:`~spec_tests.harness.selection` under a private spec)."""
    if isinstance(cls_or_spec, str):
        return cls_or_spec
    from spec_tests.harness import selection

    return selection.register_object(cls_or_spec)


@contextlib.contextmanager
def _guest_environment(strict: bool):
    saved = {key: os.environ.get(key) for key in (KEEP_DEVICES_ENV, environment.STRICT, environment.IMPL,
                                                  environment.PROFILE)}
    os.environ[KEEP_DEVICES_ENV] = "1"
    os.environ[environment.STRICT] = "1" if strict else ""
    for key in (environment.IMPL, environment.PROFILE):
        os.environ.pop(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def check(cls_or_spec, profile: str = DEFAULT_PROFILE, areas=(), xfail=None, strict: bool = False,
          verbose: bool = False) -> RunResult:
    """Run the spec (``areas``, default all) on a class or an ``--impl`` spec string, in this process.

    ``xfail``: a path to an expected-failure file, or an iterable of clause ids / id prefixes. pytest's own
    output is kept quiet unless ``verbose``; the result holds everything it would say.
    """
    import io

    from spec_tests.harness import runs

    extra = []
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with tempfile.TemporaryDirectory(prefix="layer-spec-") as tmp, _guest_environment(strict), quiet:
        if xfail is not None:
            path = xfail if isinstance(xfail, (str, os.PathLike)) else os.path.join(tmp, "xfail.txt")
            if path != xfail:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write("\n".join(xfail) + "\n")
            extra += ["--xfail-file", os.fspath(path)]
        return runs.run(impl_spec(cls_or_spec), areas=tuple(areas), profile=profile, extra_args=extra,
                          basetemp=os.path.join(tmp, "run"))


@dataclasses.dataclass(frozen=True)
class ClauseCheck:
    """One clause for one class, as a pytest parameter: ``clause_check()`` asserts it."""

    impl: str
    profile: str
    area: str
    name: str
    rule: str
    areas: tuple

    @property
    def id(self) -> str:
        return f"spec_tests/test_{self.area}.py::{self.name}"

    def __call__(self) -> None:
        import pytest

        result = _cached_run(self.impl, self.profile, self.areas)
        cases = [c for c in result.clauses if c.id == self.id or c.id.startswith(self.id + "[")]
        if result.error and not cases:
            raise AssertionError(f"the spec could not run on {self.impl}: {result.error}")
        failed = [c for c in cases if c.outcome == "failed"]
        if failed:
            lines = [f"{self.id}: {self.rule}"]
            for clause in failed:
                lines += [f"- {clause.name}: {clause.message}"] + ([f"  hint: {clause.hint}"] if clause.hint else [])
            raise AssertionError("\n".join(lines))
        if cases and all(c.outcome == "skipped" for c in cases):
            pytest.skip(cases[0].reason or "skipped by the spec")
        advisories = [c for c in cases if c.outcome == "advisory"]
        if advisories:
            import warnings

            warnings.warn(f"{self.id}: advisory (SHOULD clause failed): {advisories[0].first_line}", stacklevel=2)


_RUNS: dict = {}


def _cached_run(impl: str, profile: str, areas: tuple) -> RunResult:
    key = (impl, profile, areas)
    if key not in _RUNS:
        _RUNS[key] = check(impl, profile=profile, areas=areas)
    return _RUNS[key]


def parametrize_with_clauses(classes, profile: str = DEFAULT_PROFILE, areas=(), argname: str = "clause_check"):
    """``@parametrize_with_clauses([ClsA, ClsB])`` on ``def test_spec(clause_check): clause_check()``."""
    import pytest

    chosen = {area.removeprefix("test_") for area in areas}
    found = list(iter_areas(areas=tuple(area for area in chosen)))
    params = []
    for cls in classes:
        spec = impl_spec(cls)
        label = spec.rsplit(":", 1)[-1].split("#")[0]
        for area in found:
            for clause in area.clauses:
                check_ = ClauseCheck(spec, profile, area.name, clause.name, clause.rule,
                                     tuple(a.name for a in found))
                params.append(pytest.param(check_, id=f"{label}-{area.name}::{clause.name}"))
    return pytest.mark.parametrize(argname, params)


__all__ = ["ClauseCheck", "check", "impl_spec", "parametrize_with_clauses"]
