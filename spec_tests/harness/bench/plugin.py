"""The benchmarks' pytest hooks: when the benchmarks run, and the end-of-run ratio table.

The benchmarks themselves live in ``spec_tests/test_benchmarks.py``. They time
the implementation under test (``impl``, chosen by ``--impl``) next to two
baselines measured in the same session: ``raw`` (``tf.matmul`` plus a bias add
on plain ``tf.Variable``\\ s) and ``keras_dense`` (the generation's
``keras.layers.Dense``). Timings on a shared machine drift, so this part
reports ratios against those baselines, never bare numbers alone.

When they run:

* ``pytest``: never. Every benchmark is deselected, nothing is timed.
* ``pytest --benchmark-only [--impl ...]``: only the benchmarks, timed, then
  the table. The spec's clauses are deselected.
* ``pytest --benchmark-disable``: quick mode for CI. The clauses run, and each
  benchmark at the small shape runs its function once, untimed, to prove the
  suite still works (``-m spec_benchmark`` keeps only the benchmarks).
* ``pytest --benchmark-enable``: clauses and timed benchmarks together.

Each row (mode x shape) is timed interleaved (``paired``): its three contenders
called in turn, round after round; the table's ratios are medians of the
per-round ratios, steady while the machine's load comes and goes.

Options: ``--bench-table PATH`` writes the table as Markdown, ``--bench-plot
PATH`` a PNG of time against size per contender and of the ratios,
``--bench-stat min`` tabulates minimums instead of medians, ``--bench-scale 2``
gives every row twice the time (more precise ratios on a noisy machine), and
``--bench-ratio-fail 10%`` (with pytest-benchmark's ``--benchmark-compare``)
fails the run when a row's ratios both grew by more than 10% against the saved run.

Nothing here imports TensorFlow, so the plugin costs nothing in runs that do
not involve the spec. See ``docs/benchmarks.md``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spec_tests.harness.bench.cases import CONTENDERS, FLAG, MARKER, MODES, QUICK_SHAPES, SHAPES, SUITE
from spec_tests.harness.bench.plot import write_plot
from spec_tests.harness.bench.table import STATS, build_table, format_markdown, format_text
from spec_tests.harness.bench.track import compare_tables, comparison_lines, parse_threshold, regressions
from spec_tests.harness.catalogue import is_spec_item
from spec_tests.harness.selection import add_option

_STATE = pytest.StashKey[dict]()


def pytest_addoption(parser):
    add_option(parser, "--bench-table", metavar="PATH",
               help="after a timed benchmark run, write the ratio table as Markdown to PATH")
    add_option(parser, "--bench-plot", metavar="PATH",
               help="after a timed benchmark run, write a PNG plot (time vs size per contender, ratios) to PATH")
    add_option(parser, "--bench-stat", default="median", choices=STATS,
               help="statistic of the end-of-run table's times: median (default) or min")
    add_option(parser, "--bench-scale", metavar="FACTOR", type=float, default=1.0,
               help="multiply each row's time cap by FACTOR (default 1: about 4 minutes on a busy 2-core machine); "
               "more time, more precise ratios on a noisy machine")
    add_option(parser, "--bench-ratio-fail", metavar="PCT",
               help="with --benchmark-compare: fail when a row's impl/raw and impl/Dense ratios both grew by more "
               "than PCT (e.g. 10%%) against the compared saved run (uniform machine slowdowns do not move ratios)")


_STORAGE = pytest.StashKey[object]()


def pytest_ignore_collect(collection_path, config):
    """Without pytest-benchmark (not installed: the ``bench`` extra; or ``-p no:benchmark``) the benchmark module is
    not collected at all."""
    if collection_path.name == "test_benchmarks.py" and collection_path.parent.name == "spec_tests":
        return None if config.pluginmanager.has_plugin("benchmark") else True
    return None


def _default_storage(config):
    """pytest-benchmark's default storage folder (``./.benchmarks``) when it does not exist yet, else None."""
    try:
        storage = config.getoption("benchmark_storage")
    except ValueError:  # pytest-benchmark not loaded
        return None
    if storage not in ("file://./.benchmarks", "./.benchmarks", ".benchmarks"):
        return None
    folder = Path.cwd() / ".benchmarks"
    return None if folder.exists() else folder


def pytest_unconfigure(config):
    """pytest-benchmark makes ``./.benchmarks`` in every run; take it away again when this run put nothing in it.

    This package brings pytest-benchmark into a project's environment, so it answers for its empty folder.
    """
    folder = config.stash.get(_STORAGE, None)
    if folder is not None and folder.is_dir() and not any(path.is_file() for path in folder.rglob("*")):
        for path in sorted(folder.rglob("*"), reverse=True):
            path.rmdir()
        folder.rmdir()


def pytest_configure(config):
    config.stash[_STORAGE] = _default_storage(config)
    if not config.getoption("layer_spec_bench_scale") > 0:
        raise pytest.UsageError("--bench-scale: expected a factor above 0")
    threshold = config.getoption("layer_spec_bench_ratio_fail")
    if threshold is not None:
        try:
            parse_threshold(threshold)
        except ValueError as exc:
            raise pytest.UsageError(f"--bench-ratio-fail {exc}") from None
        try:
            compare = config.getoption("benchmark_compare")
        except ValueError:  # pytest-benchmark not loaded
            compare = None
        if not compare:
            raise pytest.UsageError("--bench-ratio-fail needs --benchmark-compare[=NUM] (the saved run to compare with; "
                                    "save one with --benchmark-autosave)")
    config.addinivalue_line(
        "markers",
        f"{MARKER}: a timing benchmark, not a spec clause; runs only with --benchmark-only "
        "(timed) or --benchmark-disable (once, quick)",
    )


def run_kind(config) -> str:
    """``off`` (default run), ``timed`` or ``quick`` (each benchmark once, small shapes)."""
    def option(name):
        try:
            return bool(config.getoption(name))
        except ValueError:  # pytest-benchmark not loaded
            return False

    if option("benchmark_only"):
        return "timed"
    if option("benchmark_disable") and not option("benchmark_enable"):
        return "quick"
    if option("benchmark_enable"):
        return "timed"
    return "off"


def _in_quick_mode(item) -> bool:
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    return params.get("shape") in QUICK_SHAPES or params.get("when") == "first"


def _order_key(item):
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    if "mode" not in params:  # the peak, timed first and last
        return (-1 if params.get("when") == "first" else len(MODES), 0, 0)
    shapes = list(SHAPES)
    return (MODES.index(params["mode"]), shapes.index(params["shape"]), CONTENDERS.index(params["contender"]))


def pytest_collection_modifyitems(config, items):
    benchmarks = [item for item in items if item.get_closest_marker(MARKER) is not None]
    if not benchmarks:
        return
    kind = run_kind(config)
    if kind == "off":
        dropped = benchmarks
    elif kind == "quick":
        dropped = [item for item in benchmarks if not _in_quick_mode(item)]
    else:
        dropped = []
    if kind == "timed" and config.getoption("benchmark_only", False):
        # --benchmark-only would skip every clause one by one; deselect them instead.
        dropped += [item for item in items if item.get_closest_marker(MARKER) is None and is_spec_item(item)]
    dropped_ids = {id(item) for item in dropped}
    kept = [item for item in items if id(item) not in dropped_ids]
    # Benchmarks run last and in a fixed order (whatever pytest-randomly did), so that
    # the three contenders of one mode x shape are timed back to back.
    others = [item for item in kept if item.get_closest_marker(MARKER) is None]
    bench = sorted((item for item in kept if item.get_closest_marker(MARKER) is not None), key=_order_key)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = others + bench
    config.stash[_STATE] = {"kind": kind, "deselected": len(benchmarks) - len(bench), "selected": len(bench)}


def session_records(config) -> list[dict]:
    session = getattr(config, "_benchmarksession", None)
    records = []
    for bench in getattr(session, "benchmarks", None) or []:
        info = getattr(bench, "extra_info", None) or {}
        if info.get("suite") != SUITE or getattr(bench, "has_error", False):
            continue
        try:
            stats = {"median": bench.stats.median, "min": bench.stats.min, "rounds": bench.stats.rounds}
        except Exception:  # a benchmark that failed before any round
            continue
        records.append({"name": bench.name, "extra_info": dict(info), "stats": stats})
    return records


def compared_records(config) -> tuple[str, list[dict]]:
    """The saved run ``--benchmark-compare`` loaded (its name, its records), or ``("", [])``."""
    session = getattr(config, "_benchmarksession", None)
    mapping = getattr(session, "compared_mapping", None) or {}
    for path, benches in mapping.items():  # pytest-benchmark loads one run per --benchmark-compare
        return Path(str(path)).name, list(benches.values())
    return "", []


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """``--bench-ratio-fail``: compare this run's ratios with the saved run's; a regression fails the run."""
    config = session.config
    state = config.stash.get(_STATE, None)
    threshold = config.getoption("layer_spec_bench_ratio_fail")
    if threshold is None or state is None or state["kind"] != "timed":
        return
    threshold = parse_threshold(threshold)
    name, records = compared_records(config)
    changes = compare_tables(build_table(records), build_table(session_records(config)))
    state["ratio_lines"] = comparison_lines(changes, threshold, name or "the saved run") if name else [
        "ratio comparison: --benchmark-compare loaded no saved run, nothing compared"]
    if regressions(changes, threshold) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(wrapper=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    try:
        return (yield)
    finally:  # also after --benchmark-compare-fail raised its PerformanceRegression
        _summary(terminalreporter, config)


def _summary(reporter, config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    if state["kind"] == "off":
        if state["deselected"]:
            reporter.write_line(
                f"layer-spec: {state['deselected']} benchmarks deselected; time them with `pytest --benchmark-only` "
                "(or check them once each with `pytest --benchmark-disable -m spec_benchmark`)")
        return
    if state["kind"] == "quick":
        reporter.write_line(f"layer-spec: quick mode: {state['selected']} benchmarks ran once each, untimed "
                            f"(shape {', '.join(QUICK_SHAPES)} and one peak matmul); no table")
        return
    table = build_table(session_records(config), config.getoption("layer_spec_bench_stat"))
    if not table.rows:
        return
    reporter.write_sep("=", "layer-spec benchmarks (interleaved): impl vs raw ops vs keras Dense")
    for line in format_text(table).splitlines():
        reporter.write_line(line, red=line.startswith((FLAG, "warning")) or line.endswith("MISSED"))
    table_path = config.getoption("layer_spec_bench_table")
    if table_path:
        Path(table_path).parent.mkdir(parents=True, exist_ok=True)
        Path(table_path).write_text(format_markdown(table), encoding="utf-8")
        reporter.write_line(f"layer-spec: wrote the table to {table_path}")
    plot_path = config.getoption("layer_spec_bench_plot")
    if plot_path:
        reporter.write_line(f"layer-spec: wrote the plot to {write_plot(table, plot_path)}")
    for line in state.get("ratio_lines", []):
        reporter.write_line(line, red=line.startswith("RATIO REGRESSION"), green=line.startswith("no ratio regression"))

