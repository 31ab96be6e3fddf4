"""The pytest command line that ``layer-spec check`` runs (and ``--backends`` runs once per backend).

A leaf of the harness: :mod:`~spec_tests.harness.cli` and :mod:`~spec_tests.harness.parity` both build their
commands here, so neither imports the other for it.
"""

from __future__ import annotations

import os
import sys


def pytest_command(args, extra: list[str]) -> list[str]:
    """The pytest command line ``check`` runs.

    ``--rootdir`` is the folder that holds the ``spec_tests`` package, so clause ids read
    ``spec_tests/test_build.py::...`` wherever it is installed; pytest's cache stays in the current folder.
    """
    import spec_tests

    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(spec_tests.__file__)))
    targets = [f"spec_tests.test_{area.removeprefix('test_')}" for area in args.area] or ["spec_tests"]
    command = [
        sys.executable, "-m", "pytest", "--pyargs", *targets,
        "--rootdir", package_parent, "-o", f"cache_dir={os.path.abspath('.pytest_cache')}",
    ]
    for impl in args.impls:
        command += ["--impl", impl]
    if args.profile:
        command += ["--profile", args.profile]
    if args.report:
        command += ["--spec-report", os.path.abspath(args.report)]
    if args.xfail_file:
        command += ["--xfail-file", os.path.abspath(args.xfail_file)]
    if getattr(args, "xfail_write", None):
        command += ["--xfail-write", os.path.abspath(args.xfail_write)]
    if args.strict:
        command.append("--spec-strict")
    for name in getattr(args, "cause", []):
        command += ["--spec-cause", name]
    if not getattr(args, "verbose", False):
        command += QUIET
    return command + list(extra)


#: What ``check`` adds to pytest's options unless ``-v``: no tracebacks and no per-test summary lines (the causes,
#: the table and the report say it all).
QUIET = ["--tb=no", "-rN"]


__all__ = ["QUIET", "pytest_command"]
