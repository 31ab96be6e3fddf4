"""``layer-spec``: check a layer against the spec, or read the spec, without knowing pytest's flags.

::

    layer-spec check mypkg.layers:MyDense                  # the dense profile, Keras 3
    layer-spec check path/to/file.py:MyDense --profile seed --report out.md
    layer-spec check mypkg.layers:MyDense --legacy         # legacy Keras 2 (tf-keras)
    layer-spec check mypkg.layers:MyDense --area build -- -x -n 2   # after --: any pytest arguments
    layer-spec check mypkg.layers:MyDense --backends tensorflow,jax # every backend, then parity
    layer-spec list                                        # every clause: area, name, rule
    layer-spec list --markdown > SPEC.md
  layer-spec platform
    layer-spec golden write --impl mypkg.layers:MyDense DIR    # a golden set (docs/compatibility.md)
    layer-spec migrate --impl mypkg.layers:MyDense             # what Keras 3 reads of Keras 2's files

``check`` runs pytest on the installed ``spec_tests`` package in a child
process started by the launcher (``python -P -c BOOTSTRAP pytest --pyargs spec_tests ...``,
from the current folder, which the child appends to its import path, so ``mypkg`` imports as it would in
``python`` and a ``platform.py`` there shadows nothing); a clause that crashes the process fails with the signal
and the others still run (:mod:`~spec_tests.harness.launcher`). It prints the causes of the
failures, the conformance table and the verdict, and exits with pytest's
status: 0 when the class conforms, non-zero otherwise. Its output is short by
default: no tracebacks (the report holds every failure), and TensorFlow's
start-up log lines are left out; ``-v`` brings pytest's tracebacks and summary
back. ``--cause NAME`` reruns just the clauses of one cause of the last run.

``list`` reads the clauses from the spec modules without running them: one
entry per clause function (a parametrized clause once), with its rule, the
first sentence of its docstring.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys

from spec_tests import environment
from spec_tests.harness.catalogue import (DEFAULT_PROFILE, LEVEL_HELP, MUST, PROFILES, SHOULD, Clause, iter_areas,
                                          spec_areas)
from spec_tests.harness import launcher
from spec_tests.harness.rerun import RERUN_ENV

_EXAMPLES = """examples:
  layer-spec check mypkg.layers:MyDense
  layer-spec check mypkg.layers:MyDense mypkg.layers:FusedDense other.py:TinyDense@seed --report out.md
  layer-spec check path/to/file.py:MyDense --profile seed --report out.json --xfail-write baseline.txt
  layer-spec diff old.json new.json
  layer-spec check mypkg.layers:MyDense --legacy --area build -- -x -n 2
  layer-spec list --markdown > SPEC.md
  layer-spec platform
  layer-spec mutate layers/dense.py:MyDenseLayer --report mutation.json
  layer-spec bench paired --seconds 5
  layer-spec golden write --impl mypkg.layers:MyDense tests/golden/v1
  layer-spec migrate --impl mypkg.layers:MyDense --legacy-impl mypkg.keras2_layers:MyDense"""
_LEGACY_ENV = environment.LEGACY_KERAS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layer-spec",
        description="An executable specification of custom Keras dense layers.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True,
                                     metavar="{check,list,diff,platform,mutate,bench}")

    check = commands.add_parser(
        "check",
        help="check a layer class against the spec; exit status 0 when it conforms",
        description="Run the spec's clauses against a layer class. Arguments after '--' go to pytest unchanged.",
        epilog="exit status (pytest's): 0 conforms, 1 some clause failed, 2 interrupted or a spec module failed to "
        "import, 4 usage error (e.g. the class cannot be imported), 5 no clause selected",
    )
    check.add_argument("impls", metavar="SPEC", nargs="+",
                       help="the classes: dotted.module:Class or path/to/file.py:Class, each optionally @seed or "
                       "@dense for its own profile; several are checked in one run, side by side")
    check.add_argument("--profile", choices=tuple(PROFILES), default=None,
                       help="dense: the core contract shared with keras.layers.Dense (default); seed: the tutorial's "
                       "Cls(num_outputs), kernel only (for every SPEC without an @profile of its own)")
    check.add_argument("--report", metavar="PATH", help="write the conformance report: Markdown, or JSON for *.json")
    check.add_argument("--xfail-file", metavar="PATH",
                       help="clauses the class is known to break: one clause id or id prefix per line "
                       "(spec_tests/test_build.py::test_build_runs_once), optional '# reason' after it")
    check.add_argument("--xfail-write", metavar="PATH",
                       help="write the run's failures to PATH as an xfail file: the baseline a later check passes "
                       "with --xfail-file PATH, failing only on new failures")
    check.add_argument("--area", action="append", default=[], metavar="AREA",
                       help="check only this area (repeatable), e.g. --area build --area serialization")
    check.add_argument("--strict", action="store_true",
                       help="count advisories (failed SHOULD clauses) as failures (pytest's --spec-strict)")
    check.add_argument("--cause", action="append", default=[], metavar="NAME",
                       help="rerun only the clauses that failed for this cause in the last check in this folder (the "
                       "name after `rerun:` in its output; repeatable)")
    check.add_argument("-v", "--verbose", action="store_true",
                       help="pytest's full output: every failure's traceback and the short test summary (default: "
                       "causes, table and verdict only; the report holds every failure)")
    check.add_argument("--backends", metavar="NAMES",
                       help="Keras 3 backends to check on, e.g. tensorflow,jax: one run per backend, an area x "
                       "backend table, then parity of outputs, gradients and .keras files between them")
    check.add_argument("--legacy", action="store_true",
                       help=f"use legacy Keras 2 (tf-keras): runs with {_LEGACY_ENV}=1 (without it, the "
                       "environment decides: Keras 3 unless it sets that variable)")

    listing = commands.add_parser(
        "list",
        help="print every clause of the spec: area, name and rule",
        description="Print the spec as a document: every clause with its one-sentence rule.",
    )
    listing.add_argument("--markdown", action="store_true", help="print Markdown instead of plain text")
    listing.add_argument("--profile", choices=tuple(PROFILES), default=None,
                         help="only the clauses of this profile (seed: the tutorial's minimal contract)")
    listing.add_argument("--area", action="append", default=[], metavar="AREA", help="only this area (repeatable)")
    listing.add_argument("--level", choices=(MUST, SHOULD), type=str.upper, default=None,
                         help="only the clauses of this level")

    diffing = commands.add_parser(
        "diff",
        help="compare two JSON reports (--report x.json): regressions, fixes, clauses new in the spec",
        description="List what changed between two saved JSON reports of an implementation; exit status 1 when a "
        "clause that did not fail before fails now.",
    )
    diffing.add_argument("old", metavar="OLD.json")
    diffing.add_argument("new", metavar="NEW.json")

    probing = commands.add_parser(
        "platform",
        help="probe this machine's kernels (matmul, tensordot, einsum, bias add) in every dtype the spec uses",
        description="Check the kernels a dense layer runs on, in float32, float16, bfloat16 and float64, eagerly and "
        "compiled, against float64 NumPy, on the running backend (KERAS_BACKEND, TF_USE_LEGACY_KERAS); print every "
        "check, the defects and the switch that fixes them. Exit status 1 when a kernel is wrong.",
    )
    probing.add_argument("--json", action="store_true", help="print the findings as JSON")

    from spec_tests.harness import mutate_cli

    mutate_cli.add_parser(commands)
    from spec_tests.harness import migrate

    migrate.add_parser(commands)
    commands.add_parser(
        "golden",
        help="write a golden set: layer-spec golden write --impl X DIR [--update] (docs/compatibility.md)",
        description="Forwarded to spec_tests/harness/golden.py's command.",
        add_help=False,
    )

    commands.add_parser(
        "bench",
        help="benchmark tools: the table of a saved run, or paired timing (layer-spec bench --help)",
        description="Forwarded to python -m spec_tests.harness.bench.",
        add_help=False,
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `layer-spec list | head`: the reader left, which is no error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        from spec_tests.harness.bench.__main__ import main as bench_main

        return bench_main(argv[1:])
    if argv[:1] == ["golden"]:  # layer-spec golden write --impl X DIR: golden.py's own command, in this process
        from spec_tests.harness.golden import main as golden_main

        sys.path.insert(0, os.getcwd())  # the class imports from the current folder, as in `python`
        return golden_main(argv[1:])
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    args = _parser().parse_args(argv)
    if args.command == "check":
        return check(args, extra)
    if extra:
        _parser().error("arguments after -- only go with `check`")
    if args.command == "platform":
        return platform(args)
    if args.command == "mutate":
        from spec_tests.harness import mutate_cli

        return mutate_cli.main(args)
    if args.command == "migrate":
        from spec_tests.harness import migrate

        return migrate.main(args)
    if args.command == "diff":
        from spec_tests.harness.diff import main as diff_main

        try:
            return diff_main(args.old, args.new)
        except (OSError, ValueError) as exc:
            print(f"layer-spec diff: {exc}", file=sys.stderr)
            return 4
    return list_clauses(args)


def platform(args) -> int:
    """``layer-spec platform``: the platform probe's findings, every check in a table."""
    import json

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from spec_tests import platform_probe

    probe = platform_probe.probe()
    if args.json:
        print(json.dumps(probe.as_dict(), indent=2))
    else:
        print("\n".join([*probe.header_lines(), "", *probe.table_lines()]))
    return 1 if probe.defective() else 0


# --------------------------------------------------------------------------- check




def rerun_prefix(args) -> str:
    """``layer-spec check {impl} ... --cause``: how the report names the command that reruns one cause (the
    report part puts each implementation, with its profile, in place of ``{impl}``)."""
    legacy = " --legacy" if args.legacy else ""
    return f"layer-spec check {{impl}}{legacy} --cause"


def check(args, extra: list[str]) -> int:
    if args.backends:
        from spec_tests.harness.parity import check_backends

        if len(args.impls) > 1:
            print("layer-spec: --backends checks one implementation at a time", file=sys.stderr)
            return 4
        args.impl = args.impls[0]
        args.profile = args.profile or DEFAULT_PROFILE
        return check_backends(args, extra)
    env = launcher.child_environment({RERUN_ENV: rerun_prefix(args)})
    if args.legacy:
        if importlib.util.find_spec("tf_keras") is None:
            print("layer-spec: --legacy needs the tf-keras package: pip install 'keras-dense-layer-spec[legacy]'",
                  file=sys.stderr)
            return 4
        env[_LEGACY_ENV] = "1"
    command = launcher.check_args(args, extra)
    print("layer-spec:", ("TF_USE_LEGACY_KERAS=1 " if args.legacy else "") + "pytest " + " ".join(command), flush=True)
    try:
        return launcher.check(command, env, stderr_filter=None if args.verbose else TF_LOG_LINE.match)
    except KeyboardInterrupt:
        return 2


#: TensorFlow's C++ start-up log on stderr (absl's format; TF_CPP_MIN_LOG_LEVEL does not silence all of it on
#: TF 2.21): ``I0000 00:00:17.. 4021 port.cc:153] oneDNN custom operations are on...`` and its companions.
TF_LOG_LINE = re.compile(
    r"^(?:WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\] "
    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.)"
)


# --------------------------------------------------------------------------- list


def list_clauses(args) -> int:
    """``layer-spec list``: every clause as pytest collects it (``catalogue.iter_areas``), with its level and rule."""
    wanted = [area.removeprefix("test_") for area in args.area or ()]
    unknown = sorted(set(wanted) - set(spec_areas()))
    if unknown:
        print(f"layer-spec: no such area: {', '.join(unknown)}", file=sys.stderr)
        return 4
    errors: list = []
    areas = [(area.name, area.summary, area.clauses) for area in iter_areas(errors, areas=tuple(wanted))]
    if args.profile == "seed":
        areas = [(area, summary, [c for c in clauses if c.seed]) for area, summary, clauses in areas]
    if args.level:
        areas = [(area, summary, [c for c in clauses if args.level in c.level.split("/")])
                 for area, summary, clauses in areas]
    areas = [entry for entry in areas if entry[2]]
    total = sum(len(clauses) for _, _, clauses in areas)
    print(render_markdown(areas, total) if args.markdown else render_text(areas, total))
    for module_name, error in errors:
        print(f"layer-spec: could not collect {module_name}: {error}", file=sys.stderr)
    return 1 if errors else 0


def _seed(clause: Clause) -> str:
    """``seed`` when every case of the clause is in the seed profile, ``seed: 2 of 6 cases`` when some are."""
    if not clause.seed:
        return ""
    return "seed" if clause.seed_cases >= clause.cases else f"seed: {clause.seed_cases} of {clause.cases} cases"


def _suffix(clause: Clause) -> str:
    seed = _seed(clause)
    parts = ([seed] if seed else []) + ([f"{clause.cases} cases"] if clause.cases > 1 and "of" not in seed else [])
    return f" [{', '.join(parts)}]" if parts else ""


def render_text(areas, total: int) -> str:
    out = [f"{total} clauses in {len(areas)} areas; level MUST or SHOULD (only MUST failures decide the verdict); "
           "[seed]: also part of the tutorial's seed profile"]
    width = max(len(f"{MUST}/{SHOULD}"), 6)
    for area, summary, clauses in areas:
        out += ["", f"{area}: {summary}" if summary else area]
        for clause in clauses:
            out.append(f"  {clause.level:<{width}} {area}::{clause.name}{_suffix(clause)}")
            out.append(f"  {'':<{width}}     {clause.rule or '(no docstring)'}")
    return "\n".join(out)


def render_markdown(areas, total: int) -> str:
    out = [
        "# The spec: what a custom Keras dense layer must do",
        "",
        f"{total} clauses in {len(areas)} areas. A clause is one test function in `spec_tests/test_<area>.py`; "
        "**seed** marks the clauses of the tutorial's minimal contract (`--profile seed`). "
        "Generated by `layer-spec list --markdown`.",
        "",
        f"Levels (RFC 2119): **{MUST}**: {LEVEL_HELP[MUST]}. **{SHOULD}**: {LEVEL_HELP[SHOULD]}.",
    ]
    for area, summary, clauses in areas:
        out += ["", f"## {area}", ""]
        if summary:
            out += [summary, ""]
        out += ["| level | clause | rule | seed |", "|---|---|---|:-:|"]
        for clause in clauses:
            cases = f" ({clause.cases} cases)" if clause.cases > 1 else ""
            rule = (clause.rule or "(no docstring)").replace("|", "\\|")
            seed = _seed(clause).replace("seed: ", "").replace("seed", "yes")
            out.append(f"| {clause.level} | `{clause.name}`{cases} | {rule} | {seed} |")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
