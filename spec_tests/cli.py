"""``layer-spec``: check a layer against the spec, or read the spec, without knowing pytest's flags.

::

    layer-spec check mypkg.layers:MyDense                  # the dense profile, Keras 3
    layer-spec check path/to/file.py:MyDense --profile seed --report out.md
    layer-spec check mypkg.layers:MyDense --legacy         # legacy Keras 2 (tf-keras)
    layer-spec check mypkg.layers:MyDense --area build -- -x -n 2   # after --: any pytest arguments
    layer-spec list                                        # every clause: area, name, rule
    layer-spec list --markdown > SPEC.md

``check`` runs pytest on the installed ``spec_tests`` package in a child
process (``python -m pytest --pyargs spec_tests ...``, from the current folder,
so ``mypkg`` imports as it would in ``python``), prints the conformance table,
and exits with pytest's status: 0 when the class conforms, non-zero otherwise.

``list`` reads the clauses from the spec modules without running them: one
entry per clause function (a parametrized clause once), with its rule, the
first sentence of its docstring.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import inspect
import os
import pkgutil
import subprocess
import sys

PROFILES = ("dense", "seed")
_EXAMPLES = """examples:
  layer-spec check mypkg.layers:MyDense
  layer-spec check path/to/file.py:MyDense --profile seed --report out.md
  layer-spec check mypkg.layers:MyDense --legacy --area build -- -x -n 2
  layer-spec list --markdown > SPEC.md"""
_LEGACY_ENV = "TF_USE_LEGACY_KERAS"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layer-spec",
        description="An executable specification of custom Keras dense layers.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{check,list}")

    check = commands.add_parser(
        "check",
        help="check a layer class against the spec; exit status 0 when it conforms",
        description="Run the spec's clauses against a layer class. Arguments after '--' go to pytest unchanged.",
        epilog="exit status (pytest's): 0 conforms, 1 some clause failed, 2 interrupted or a spec module failed to "
        "import, 4 usage error (e.g. the class cannot be imported), 5 no clause selected",
    )
    check.add_argument("impl", metavar="SPEC", help="the class: dotted.module:Class or path/to/file.py:Class")
    check.add_argument("--profile", choices=PROFILES, default="dense",
                       help="dense: the full keras.layers.Dense contract (default); seed: the tutorial's "
                       "Cls(num_outputs), kernel only")
    check.add_argument("--report", metavar="PATH", help="write the conformance report: Markdown, or JSON for *.json")
    check.add_argument("--xfail-file", metavar="PATH",
                       help="clauses the class is known to break: one clause id or id prefix per line "
                       "(spec_tests/test_build.py::test_build_runs_once), optional '# reason' after it")
    check.add_argument("--area", action="append", default=[], metavar="AREA",
                       help="check only this area (repeatable), e.g. --area build --area serialization")
    check.add_argument("--legacy", action="store_true",
                       help=f"use legacy Keras 2 (tf-keras): runs with {_LEGACY_ENV}=1 (without it, the "
                       "environment decides: Keras 3 unless it sets that variable)")

    listing = commands.add_parser(
        "list",
        help="print every clause of the spec: area, name and rule",
        description="Print the spec as a document: every clause with its one-sentence rule.",
    )
    listing.add_argument("--markdown", action="store_true", help="print Markdown instead of plain text")
    listing.add_argument("--profile", choices=PROFILES, default=None,
                         help="only the clauses of this profile (seed: the tutorial's minimal contract)")
    listing.add_argument("--area", action="append", default=[], metavar="AREA", help="only this area (repeatable)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    args = _parser().parse_args(argv)
    if args.command == "check":
        return check(args, extra)
    if extra:
        _parser().error("arguments after -- only go with `check`")
    return list_clauses(args)


# --------------------------------------------------------------------------- check


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
        "--impl", args.impl, "--profile", args.profile,
    ]
    if args.report:
        command += ["--spec-report", os.path.abspath(args.report)]
    if args.xfail_file:
        command += ["--xfail-file", os.path.abspath(args.xfail_file)]
    return command + list(extra)


def check(args, extra: list[str]) -> int:
    env = dict(os.environ)
    env.pop("LAYER_SPEC_IMPL", None)
    env.pop("LAYER_SPEC_PROFILE", None)
    if args.legacy:
        if importlib.util.find_spec("tf_keras") is None:
            print("layer-spec: --legacy needs the tf-keras package: pip install 'keras-dense-layer-spec[legacy]'",
                  file=sys.stderr)
            return 4
        env[_LEGACY_ENV] = "1"
    command = pytest_command(args, extra)
    shown = ["python", *command[1:]]
    print("layer-spec:", ("TF_USE_LEGACY_KERAS=1 " if args.legacy else "") + " ".join(shown), flush=True)
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 2


# --------------------------------------------------------------------------- list


@dataclasses.dataclass
class Clause:
    area: str
    name: str
    rule: str
    cases: int
    seed: bool
    line: int


def _marks(obj) -> list:
    marks = getattr(obj, "pytestmark", [])
    return list(marks) if isinstance(marks, (list, tuple)) else [marks]


def _cases(function) -> int:
    cases = 1
    for mark in _marks(function):
        if mark.name == "parametrize":
            values = mark.args[1] if len(mark.args) > 1 else mark.kwargs.get("argvalues", [])
            try:
                cases *= max(len(values), 1)
            except TypeError:
                pass
    return cases


def collect_clauses() -> tuple[list[tuple[str, str, list[Clause]]], list[tuple[str, str]]]:
    """Import every spec module; return ``[(area, module summary, clauses)]`` and ``[(module, error)]``."""
    import spec_tests
    from spec_tests.report import NOT_CLAUSE_MARKERS, clause_rule

    areas, errors = [], []
    for info in sorted(pkgutil.iter_modules(spec_tests.__path__), key=lambda m: m.name):
        if not info.name.startswith("test_"):
            continue
        module_name = f"spec_tests.{info.name}"
        try:
            module = importlib.import_module(module_name)
        except BaseException as exc:  # noqa: BLE001 - pytest.skip at import time raises a BaseException
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            errors.append((module_name, f"{type(exc).__name__}: {exc}"))
            continue
        area = info.name.removeprefix("test_")
        if any(mark.name in NOT_CLAUSE_MARKERS for mark in _marks(module)):
            continue
        module_seed = any(mark.name == "seed" for mark in _marks(module))
        clauses = []
        for name, obj in vars(module).items():
            functions = []
            if name.startswith("test") and inspect.isfunction(obj) and obj.__module__ == module_name:
                functions.append((name, obj, module_seed))
            elif name.startswith("Test") and inspect.isclass(obj) and obj.__module__ == module_name:
                class_seed = module_seed or any(mark.name == "seed" for mark in _marks(obj))
                functions += [(f"{name}::{attr}", member, class_seed) for attr, member in vars(obj).items()
                              if attr.startswith("test") and inspect.isfunction(member)]
            for qualname, function, inherited_seed in functions:
                if any(mark.name in NOT_CLAUSE_MARKERS for mark in _marks(function)):
                    continue
                seed = inherited_seed or any(mark.name == "seed" for mark in _marks(function))
                line = inspect.getsourcelines(function)[1] if hasattr(function, "__code__") else 0
                clauses.append(Clause(area, qualname, clause_rule(function), _cases(function), seed, line))
        clauses.sort(key=lambda clause: clause.line)
        summary = " ".join((inspect.getdoc(module) or "").split("\n\n", 1)[0].split())
        areas.append((area, summary, clauses))
    return areas, errors


def list_clauses(args) -> int:
    areas, errors = collect_clauses()
    if args.area:
        wanted = {area.removeprefix("test_") for area in args.area}
        unknown = wanted - {area for area, _, _ in areas}
        if unknown:
            print(f"layer-spec: no such area: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 4
        areas = [entry for entry in areas if entry[0] in wanted]
    if args.profile == "seed":
        areas = [(area, summary, [c for c in clauses if c.seed]) for area, summary, clauses in areas]
    areas = [entry for entry in areas if entry[2]]
    total = sum(len(clauses) for _, _, clauses in areas)
    print(render_markdown(areas, total) if args.markdown else render_text(areas, total))
    for module_name, error in errors:
        print(f"layer-spec: could not import {module_name}: {error}", file=sys.stderr)
    return 1 if errors else 0


def _suffix(clause: Clause) -> str:
    parts = (["seed"] if clause.seed else []) + ([f"{clause.cases} cases"] if clause.cases > 1 else [])
    return f" [{', '.join(parts)}]" if parts else ""


def render_text(areas, total: int) -> str:
    out = [f"{total} clauses in {len(areas)} areas ([seed]: also part of the tutorial's seed profile)"]
    for area, summary, clauses in areas:
        out += ["", f"{area}: {summary}" if summary else area]
        for clause in clauses:
            out.append(f"  {area}::{clause.name}{_suffix(clause)}")
            out.append(f"      {clause.rule or '(no docstring)'}")
    return "\n".join(out)


def render_markdown(areas, total: int) -> str:
    out = [
        "# The spec: what a custom Keras dense layer must do",
        "",
        f"{total} clauses in {len(areas)} areas. A clause is one test function in `spec_tests/test_<area>.py`; "
        "**seed** marks the clauses of the tutorial's minimal contract (`--profile seed`). "
        "Generated by `layer-spec list --markdown`.",
    ]
    for area, summary, clauses in areas:
        out += ["", f"## {area}", ""]
        if summary:
            out += [summary, ""]
        out += ["| clause | rule | seed |", "|---|---|:-:|"]
        for clause in clauses:
            cases = f" ({clause.cases} cases)" if clause.cases > 1 else ""
            rule = (clause.rule or "(no docstring)").replace("|", "\\|")
            out.append(f"| `{clause.name}`{cases} | {rule} | {'yes' if clause.seed else ''} |")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
