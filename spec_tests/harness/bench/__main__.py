"""``layer-spec bench`` (or ``python -m spec_tests.harness.bench``): a saved run's table, paired timing of a few
rows, the ratio comparison of two runs, and the same layer across backends.

::

    layer-spec bench RUN.json [--markdown] [--plot PATH] [--stat min]
    layer-spec bench paired [--impl SPEC] [--seconds S] MODE:SHAPE...
    layer-spec bench compare OLD.json NEW.json [--fail 10%]
    layer-spec bench backends [--impl SPEC] [--backends tensorflow,jax] [--out DIR] [-- PYTEST_ARGS]
    layer-spec bench merge RUN.json RUN.json [--markdown]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from spec_tests.harness.bench.backends import backends_main, merge_main
from spec_tests.harness.bench.cases import MODES, SHAPES, SUITE, TARGETS
from spec_tests.harness.bench.paired import format_paired, measure_paired
from spec_tests.harness.bench.plot import write_plot
from spec_tests.harness.bench.table import STATS, build_table, format_markdown, format_text, records_from_json
from spec_tests.harness.bench.track import compare_tables, comparison_lines, parse_threshold, regressions


def load_table(path, stat: str = "median"):
    """The table of a saved run (``--benchmark-json`` or autosave file), and the run's date."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return build_table(records_from_json(data), stat), data.get("datetime", "?")


def compare_main(argv) -> int:
    """``layer-spec bench compare OLD.json NEW.json [--fail 10%]``: exit 1 when a row's paired ratios impl/raw and
    impl/Dense both grew by more than the threshold (impl became slower against both baselines; a machine slowing
    down does not move ratios)."""
    import argparse

    parser = argparse.ArgumentParser(prog="layer-spec bench compare", description=compare_main.__doc__)
    parser.add_argument("old", help="the saved run to compare with")
    parser.add_argument("new", help="this run")
    parser.add_argument("--fail", default="10%", help="relative growth of a ratio that fails (default 10%%)")
    args = parser.parse_args(argv)
    try:
        threshold = parse_threshold(args.fail)
    except ValueError as exc:
        parser.error(f"--fail {exc}")
    (old, _), (new, _) = load_table(args.old), load_table(args.new)
    changes = compare_tables(old, new)
    for line in comparison_lines(changes, threshold, Path(args.old).name):
        print(line)
    return 1 if regressions(changes, threshold) else 0


def paired_main(argv) -> int:
    """``layer-spec bench paired [--impl SPEC] [--seconds S] MODE:SHAPE...``."""
    import argparse

    from spec_tests.harness.selection import DEFAULT_IMPL

    parser = argparse.ArgumentParser(prog="layer-spec bench paired", description=paired_main.__doc__)
    parser.add_argument("cases", nargs="*", metavar="MODE:SHAPE",
                        default=[f"{t.mode}:{t.shape}" for t in TARGETS], help="default: issue 5's target rows")
    parser.add_argument("--impl", default=DEFAULT_IMPL)
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per case (at least 7 rounds)")
    args = parser.parse_args(argv)
    from spec_tests import generation

    print(f"paired timing, impl = {args.impl}; {generation.describe()}; median time per call, "
          "and the quartiles of the per-round ratios")
    for case in args.cases:
        mode, _, shape = case.partition(":")
        if mode not in MODES or shape not in SHAPES:
            parser.error(f"{case!r}: expected MODE:SHAPE with MODE in {MODES} and SHAPE in {tuple(SHAPES)}")
        print(format_paired(mode, shape, measure_paired(args.impl, mode, shape, args.seconds)), flush=True)
    return 0


def main(argv=None) -> int:
    """``layer-spec bench RUN.json [--markdown] [--plot PATH] [--stat min]``: the table of a
    saved run. Also ``layer-spec bench paired|compare|backends|merge --help``."""
    import argparse

    argv = sys.argv[1:] if argv is None else list(argv)
    commands = {"paired": paired_main, "compare": compare_main, "backends": backends_main, "merge": merge_main}
    if argv[:1] and argv[0] in commands:
        return commands[argv[0]](argv[1:])
    parser = argparse.ArgumentParser(prog="layer-spec bench", description=main.__doc__)
    parser.add_argument("json", help="a pytest-benchmark JSON file (--benchmark-autosave, --benchmark-json)")
    parser.add_argument("--markdown", action="store_true", help="print Markdown instead of plain text")
    parser.add_argument("--plot", metavar="PATH", help="also write the PNG plot to PATH")
    parser.add_argument("--stat", choices=STATS, default="median", help="statistic to show (default: median)")
    args = parser.parse_args(argv)
    table, when = load_table(args.json, args.stat)
    if not table.rows:
        print(f"{args.json}: no {SUITE} benchmarks in this file", file=sys.stderr)
        return 1
    print(format_markdown(table, f"Run of {when}") if args.markdown else format_text(table))
    if args.plot:
        print(f"wrote {write_plot(table, args.plot)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
