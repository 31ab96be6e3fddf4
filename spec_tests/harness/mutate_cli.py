"""``layer-spec mutate``: its options, the summary it prints and the JSON report it writes (the run: :mod:`.mutate`).

::

    layer-spec mutate layers/dense.py:MyDenseLayer
    layer-spec mutate path/to/my_layer.py:MyDense --report mutation.json --session mutation.sqlite

Exit status 1 when a mutant that is not a recorded equivalent was not killed (advisory-only or survived).
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from spec_tests.harness.mutate import KILLED, run

#: Where the reasons of the equivalent mutants live in this repository.
DEFAULT_EQUIVALENTS = Path("tools/mutation/equivalents.json")


#: What a survivor on a line the layer's defaults and declared configurations never run is told.
UNREACHED = ("not reached by its defaults or any declared configuration: declare one that uses this code "
             "(layer_spec_configurations, docs/forward-contract.md), or a clause cannot see it")


def render_summary(summary: dict) -> str:
    lines = [
        f"{summary['target']}: {summary['mutants']} mutants, {summary['killed']} killed, {summary['advisory']} "
        f"advisory-only, {summary['survived']} survived; {summary['equivalent']} known equivalent; "
        f"score {summary['killed']}/{summary['non_equivalent']} non-equivalent = {100 * summary['score']:.1f}% "
        f"({summary['seconds']:.0f} s, {summary['date']})",
    ]
    if summary.get("own_options") and not summary.get("declared_configurations"):
        lines.append(f"  options of its own ({', '.join(summary['own_options'])}) and no declared configuration: the "
                     "clauses run them with their defaults only; declare some (layer_spec_configurations, "
                     "docs/forward-contract.md)")
    if summary.get("unreached_survivors"):
        lines.append(f"  {summary['unreached_survivors']} survivor(s) sit on lines that neither the defaults nor a "
                     "declared configuration reach (marked below)")
    for entry in summary["results"]:
        if entry["outcome"] == KILLED:
            continue
        tag = "equivalent" if entry["equivalent"] else "GAP?"
        lines.append(f"  {entry['outcome']:<8s} {tag:<10s} L{entry['line']} {entry['operator']}: "
                     f"{entry['before']!r} -> {entry['after']!r}")
        if entry.get("reached") is False and not entry["equivalent"]:
            lines.append(f"           {UNREACHED}")
        lines.append(f"           {entry['equivalent'] or entry['why']}")
        lines.append(f"           key: {entry['key']}")
    return "\n".join(lines)


def main(args) -> int:
    """``layer-spec mutate TARGET...``: exit status 0 when every non-equivalent mutant is killed, 1 otherwise."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    signal.signal(signal.SIGTERM, _interrupted)  # a terminated run cleans up as an interrupted one does
    equivalents = Path(args.equivalents) if args.equivalents else (DEFAULT_EQUIVALENTS if DEFAULT_EQUIVALENTS.is_file() else None)
    try:
        summaries = _run_all(args, equivalents)
    except KeyboardInterrupt:
        print("layer-spec mutate: interrupted; the layer files were only read, and the temporary copies are removed",
              flush=True)
        return 130
    if args.report:
        Path(args.report).write_text(json.dumps(summaries if len(summaries) > 1 else summaries[0], indent=1) + "\n",
                                     encoding="utf-8")
    gaps = sum(1 for s in summaries for r in s["results"] if r["outcome"] != KILLED and not r["equivalent"])
    return 1 if gaps else 0


def _run_all(args, equivalents) -> list[dict]:
    summaries = []
    for target in args.targets:
        summary = run(target, workers=args.workers, timeout=args.timeout, operators=args.operator or None,
                      areas=args.area, session_path=Path(args.session) if args.session else None,
                      equivalents=equivalents, only=set(args.only) if args.only else None,
                      progress=(lambda *a: None) if args.quiet else (lambda text: print(text, flush=True)))
        summaries.append(summary)
        print(render_summary(summary), flush=True)
    return summaries


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "mutate",
        help="mutation testing: mutate a layer file with cosmic-ray, run the spec on every mutant (mutation extra)",
        description="Mutate path/to/file.py:Class with cosmic-ray's operators and run the spec on every mutant, in "
        "a temporary copy (the file itself is never written). A mutant is killed (a MUST clause fails, or it does "
        "not import), advisory-only (only new SHOULD failures) or survived. Exit status 1 when a mutant that is not "
        "a recorded equivalent is not killed.",
    )
    parser.add_argument("targets", metavar="FILE.py:Class", nargs="+", help="the layer file and class to mutate")
    parser.add_argument("--report", metavar="PATH", help="write every mutant's outcome as JSON")
    parser.add_argument("--session", metavar="PATH", help="keep cosmic-ray's session database here (cr-report PATH)")
    parser.add_argument("--equivalents", metavar="PATH",
                        help=f"the recorded equivalent mutants (default {DEFAULT_EQUIVALENTS} when it exists)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default MUTANTS_WORKERS, else 2)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant before it counts as killed")
    parser.add_argument("--operator", action="append", default=[], metavar="TEXT",
                        help="only cosmic-ray operators whose name contains TEXT (repeatable)")
    parser.add_argument("--area", action="append", default=[], metavar="AREA", help="only this spec area (repeatable)")
    parser.add_argument("--only", action="append", default=[], metavar="KEY",
                        help="only the mutant with this key (as the report prints it) or index (repeatable)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only the summary")


__all__ = ["DEFAULT_EQUIVALENTS", "add_parser", "main", "render_summary"]
