"""The runner: one in-process run of the spec on one implementation, returned as a :class:`RunResult`.

``run("mutants.bias:BiasNeverAdded", areas=("bias",))`` calls ``pytest.main``
on the chosen area modules with ``--impl`` and ``--profile`` set, and hands
back what the report part gathered: the same result type the terminal summary,
the report file, the mutant meta test and the kill matrix read.

Running in-process more than once is sound because every ``pytest.main`` makes
a new Config (the selection part resolves ``--impl`` from it), and because the
spec modules and their conftest are forgotten before each run, so module-level
code sees the new implementation too. TensorFlow is imported once per process.

``first_failure=True`` stops each area at its first failing clause (the rest of
the area is skipped): enough to know that the area rejects an implementation.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from spec_tests.harness.catalogue import SPEC_DIR, area_of, spec_areas
from spec_tests.harness.records import RunResult

#: The folder that holds the ``spec_tests`` package: the rootdir of every run, so ids read ``spec_tests/...``.
PACKAGE_PARENT = SPEC_DIR.parent


class _FirstFailure:
    """Skips the rest of an area once one of its clauses failed; stops the session once every area did."""

    def __init__(self, areas):
        self.areas = set(areas)
        self.rejected: set[str] = set()
        self.session = None

    def pytest_sessionstart(self, session):
        self.session = session

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        if area_of(item) in self.rejected:
            pytest.skip("area already rejected the implementation (first-failure mode)")

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.rejected.add(area_of(report.nodeid))
            if self.session is not None and self.areas and self.areas <= self.rejected:
                self.session.shouldfail = "every area already rejected the implementation (first-failure mode)"


class _Grab:
    """Takes the report part's result at the end of the session."""

    def __init__(self):
        self.result: RunResult | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        from spec_tests.harness.reporter import REPORTER

        reporter = session.config.pluginmanager.get_plugin(REPORTER)
        if reporter is not None and reporter.involved():
            self.result = reporter.result()


def forget_spec_modules() -> None:
    """Drop the spec modules and their conftest, so that the next run imports them afresh."""
    for name in list(sys.modules):
        if name == "spec_tests.conftest" or name.startswith("spec_tests.test_"):
            del sys.modules[name]


def _empty(spec: str, profile: str, error: str, seconds: float = 0.0) -> RunResult:
    return RunResult(implementation={"spec": spec, "class": "?", "file": "?"}, profile={"name": profile},
                     versions={}, error=error, seconds=seconds)


def run(spec: str, areas=(), profile: str = "dense", first_failure: bool = False, basetemp: Path | None = None,
        extra_args=()) -> RunResult:
    """Run the spec's ``areas`` (default: every area) on the class ``spec`` names, in this process."""
    from spec_tests.harness.selection import ImplSpecError, load_impl

    started = time.perf_counter()
    areas = tuple(areas) or tuple(spec_areas())
    try:
        load_impl(spec)
    except ImplSpecError as exc:
        return _empty(spec, profile, f"bad --impl: {exc}")
    files = [SPEC_DIR / f"test_{area}.py" for area in areas]
    missing = [str(path.name) for path in files if not path.is_file()]
    if missing:
        return _empty(spec, profile, f"no such spec module(s): {', '.join(missing)}")
    args = [
        *map(str, files),
        "--rootdir", str(PACKAGE_PARENT),
        "--impl", spec,
        "--profile", profile,
        "-p", "no:randomly",
        "-p", "no:cacheprovider",
        "-q",
        "--tb=line",
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
        # Its end-of-run gc.collect() costs over a second with TensorFlow's object graph, on every run.
        "-p", "no:unraisableexception",
        *extra_args,
    ]
    if basetemp is not None:
        args.append(f"--basetemp={basetemp}")
    grab = _Grab()
    plugins = [grab] + ([_FirstFailure(areas)] if first_failure else [])
    forget_spec_modules()
    cwd = os.getcwd()
    os.chdir(PACKAGE_PARENT)
    try:
        exit_code = int(pytest.main(args, plugins=plugins))
        error = None
    except BaseException as exc:  # noqa: BLE001 - a crashed run is a harness error, reported as such
        exit_code, error = None, f"pytest.main raised {type(exc).__name__}: {exc}"
    finally:
        os.chdir(cwd)
    result = grab.result or _empty(spec, profile, "")
    result.exit_code = exit_code
    result.seconds = time.perf_counter() - started
    if error is None and result.collection_errors:
        error = "collection error: " + "; ".join(f"{e['id']}: {e['message']}" for e in result.collection_errors)
    elif error is None and exit_code not in (0, 1):
        error = f"pytest exited with code {exit_code} (usage error, internal error or nothing collected)"
    result.error = error
    return result


__all__ = ["PACKAGE_PARENT", "forget_spec_modules", "run"]
