"""pytest plugin part: when the benchmarks run, and the end-of-run ratio table.

The benchmarks themselves live in ``spec_tests/test_benchmarks.py``. They time
the implementation under test (``impl``, chosen by ``--impl``) next to two
baselines measured in the same session: ``raw`` (``tf.matmul`` plus a bias add
on plain ``tf.Variable``\\ s) and ``keras_dense`` (the generation's
``keras.layers.Dense``). Timings on a shared machine drift, so this module
reports ratios against those baselines, never bare numbers alone.

When they run:

* ``pytest``: never. Every benchmark is deselected, nothing is timed.
* ``pytest --benchmark-only [--impl ...]``: only the benchmarks, timed, then
  the table below. The spec's clauses are deselected.
* ``pytest --benchmark-disable``: quick mode for CI. The clauses run, and each
  benchmark at the small shape runs its function once, untimed, to prove the
  suite still works (``-m spec_benchmark`` keeps only the benchmarks).
* ``pytest --benchmark-enable``: clauses and timed benchmarks together.

Options: ``--bench-table PATH`` writes the table as Markdown, ``--bench-plot
PATH`` a PNG of time against size per contender and of the ratios,
``--bench-stat min`` tabulates minimums instead of medians.

Nothing here imports TensorFlow at import time, so the plugin costs nothing in
runs that do not involve the spec. ``python -m spec_tests.benchmarking RUN.json``
prints the table of a run saved by ``--benchmark-autosave`` or
``--benchmark-json``; ``python -m spec_tests.benchmarking paired`` times a few
rows with the contenders interleaved round by round, which is what a 5%
question needs on a busy machine. See ``docs/benchmarks.md``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path

import pytest

MARKER = "spec_benchmark"
SUITE = "layer-spec"

CONTENDERS = ("impl", "raw", "keras_dense")
CONTENDER_HELP = {
    "impl": "the layer class under test (--impl), called as a layer",
    "raw": "tf.matmul plus tf.nn.bias_add on tf.Variables of the same shapes (rank > 2: reshape to 2-D around the matmul)",
    "keras_dense": "the generation's keras.layers.Dense with the same units (and use_bias)",
}

MODES = ("eager", "tf_function", "xla", "train_step", "predict")
MODE_HELP = {
    "eager": "one forward call, eagerly",
    "tf_function": "one forward call inside tf.function",
    "xla": "one forward call inside tf.function(jit_compile=True)",
    "train_step": "one tf.function step: forward, loss, gradients, SGD update (var -= 0.01 * grad)",
    "predict": "model.predict over many batches (raw: a tf.function forward looped over the same batches)",
}
#: FLOPs of one timed call in units of the forward matmul's 2*rows*in*out
#: (the training step is the forward plus two matmuls of the same size).
MODE_FLOP_FACTOR = {"eager": 1, "tf_function": 1, "xla": 1, "train_step": 3, "predict": None}


#: Seconds of timed rounds one case may take at most (beyond its first 3 rounds).
CASE_CAP = 2.0
#: A first call slower than this (seconds) marks a pathological case: it gets one timed round and no
#: more, so that an implementation 100x too slow still finishes the run (and shows up flagged).
SLOW_CALL = 10.0


@dataclasses.dataclass(frozen=True)
class Shape:
    """An input shape ``batch + (units_in,)`` mapped to ``units_out``, and how long to time it."""

    name: str
    batch: tuple
    units_in: int
    units_out: int
    budget: float  # seconds of timed rounds per case; rounds = budget / (one warm call), clamped:
    min_rounds: int
    max_rounds: int
    predict_batches: int  # batches per model.predict call

    def rounds(self, seconds_per_call: float) -> int:
        """How many rounds to time, given one warm call's duration.

        Enough to fill the budget, within ``[min_rounds, max_rounds]``; but when a
        busy machine makes calls slow, no more than ``CASE_CAP`` seconds (and at least 3 rounds).
        """
        seconds_per_call = max(seconds_per_call, 1e-9)
        wanted = max(self.min_rounds, min(self.max_rounds, math.ceil(self.budget / seconds_per_call)))
        return min(wanted, max(3, math.floor(CASE_CAP / seconds_per_call)))

    @property
    def rows(self) -> int:
        return math.prod(self.batch)

    @property
    def input_shape(self) -> tuple:
        return tuple(self.batch) + (self.units_in,)

    @property
    def label(self) -> str:
        return "x".join(str(d) for d in self.input_shape) + f"->{self.units_out}"

    @property
    def forward_flops(self) -> int:
        return 2 * self.rows * self.units_in * self.units_out

    def flops(self, mode: str) -> int:
        if mode == "predict":
            return self.forward_flops * self.predict_batches
        return self.forward_flops * MODE_FLOP_FACTOR[mode]


#: In order of FLOPs. The large shape's forward is ~34 GFLOP (~0.2 s on two cores).
SHAPES = {
    s.name: s
    for s in (
        Shape("small", (32,), 64, 64, budget=0.3, min_rounds=20, max_rounds=500, predict_batches=32),
        Shape("medium", (256,), 1024, 1024, budget=0.4, min_rounds=10, max_rounds=200, predict_batches=16),
        Shape("rank3", (32, 128), 512, 512, budget=0.4, min_rounds=5, max_rounds=100, predict_batches=8),
        Shape("large", (1024,), 4096, 4096, budget=0.5, min_rounds=3, max_rounds=10, predict_batches=4),
    )
}
#: Combinations left out of the timed run, and why.
SKIPPED = {
    ("eager", "large"): "at 34 GFLOP per call the eager call overhead is below 0.1%: the row would repeat tf_function",
    ("predict", "large"): "a predict call is over 1 s of matmuls; the tf_function rows already time the compute",
}
#: Shapes that quick mode (--benchmark-disable) runs once each (with the first peak matmul).
QUICK_SHAPES = ("small",)
#: The machine-peak benchmark: one large square matmul.
PEAK_N = 2048
PEAK_FLOPS = 2 * PEAK_N**3
PEAK = Shape("peak", (PEAK_N,), PEAK_N, PEAK_N, budget=0.5, min_rounds=3, max_rounds=10, predict_batches=1)

FLAG_RATIO = 1.5
FLAG = "!!"


@dataclasses.dataclass(frozen=True)
class Target:
    """Issue 5's targets for the reference layer: ``impl / baseline <= limit``."""

    mode: str
    shape: str
    baseline: str
    limit: float
    why: str


TARGETS = tuple(
    Target(mode, shape, "raw", 1.05, "within 5% of raw ops")
    for mode in ("tf_function", "xla")
    for shape in ("medium", "large")
) + (
    Target("eager", "small", "keras_dense", 1.05,
           "eager call overhead no worse than keras.layers.Dense (5% allowed for noise)"),
)


def cases():
    """Every (mode, shape, contender) the suite times, in run order."""
    for mode in MODES:
        for shape in SHAPES.values():
            if (mode, shape.name) in SKIPPED:
                continue
            for contender in CONTENDERS:
                yield mode, shape, contender


def case_id(mode: str, shape: str, contender: str) -> str:
    return f"{mode}-{shape}-{contender}"


# ----------------------------------------------------------------------------------------------
# The table: pure functions on records shaped like pytest-benchmark's JSON benchmarks
# ({"extra_info": {...}, "stats": {"median": seconds, ...}}).


@dataclasses.dataclass
class Row:
    mode: str
    shape: str
    label: str
    flops: float
    medians: dict  # contender -> median seconds

    def ratio(self, baseline: str) -> float | None:
        impl, base = self.medians.get("impl"), self.medians.get(baseline)
        if not impl or not base:
            return None
        return impl / base

    @property
    def gflops(self) -> float | None:
        impl = self.medians.get("impl")
        return self.flops / impl / 1e9 if impl else None


@dataclasses.dataclass
class Peak:
    seconds: float
    flops: float
    when: str = "first"

    @property
    def gflops(self) -> float:
        return self.flops / self.seconds / 1e9


#: Two peak measurements (first and last case of the run) further apart than this mean the machine's load changed.
LOAD_CHANGE = 1.25


@dataclasses.dataclass
class Table:
    rows: list
    peaks: list  # Peak, one per peak benchmark (first and last in the run)
    impl: str
    keras: str
    stat: str = "median"

    @property
    def peak(self) -> Peak | None:
        """The best of the peak measurements: the machine's peak in this run."""
        return max(self.peaks, key=lambda p: p.gflops) if self.peaks else None

    @property
    def load_changed(self) -> float | None:
        """The ratio of the slowest to the fastest peak measurement, when it exceeds ``LOAD_CHANGE``."""
        if len(self.peaks) < 2:
            return None
        spread = max(p.seconds for p in self.peaks) / min(p.seconds for p in self.peaks)
        return spread if spread > LOAD_CHANGE else None

    def percent_of_peak(self, row: Row) -> float | None:
        if self.peak is None or row.gflops is None:
            return None
        return 100.0 * row.gflops / self.peak.gflops


def records_from_json(data: dict) -> list[dict]:
    """This suite's records in a pytest-benchmark JSON document (autosave or --benchmark-json)."""
    return [b for b in data.get("benchmarks", []) if (b.get("extra_info") or {}).get("suite") == SUITE]


STATS = ("median", "min")


def build_table(records, stat: str = "median") -> Table:
    """Group records into one row per mode x shape, ordered as the suite runs them.

    ``stat`` is the pytest-benchmark statistic each cell shows: ``median`` (default),
    or ``min``, which shrugs off most of the noise that other processes add.
    """
    rows: dict = {}
    peaks = []
    impl = keras = "?"
    for record in records:
        info = record.get("extra_info") or {}
        if info.get("suite") != SUITE:
            continue
        median = (record.get("stats") or {}).get(stat)
        if median is None:
            continue
        if info.get("mode") == "peak":
            peaks.append(Peak(seconds=float(median), flops=float(info.get("flops", PEAK_FLOPS)),
                              when=str(info.get("shape", "?"))))
            continue
        impl = info.get("impl", impl)
        keras = info.get("keras", keras)
        key = (info["mode"], info["shape"])
        row = rows.get(key)
        if row is None:
            row = rows[key] = Row(info["mode"], info["shape"], info.get("shape_label", info["shape"]),
                                  float(info.get("flops", 0)), {})
        row.medians[info["contender"]] = float(median)
    order = {(m, s): i for i, (m, s) in enumerate((m, s) for m in MODES for s in SHAPES)}
    ordered = sorted(rows.values(), key=lambda r: (order.get((r.mode, r.shape), len(order)), r.mode, r.shape))
    return Table(rows=ordered, peaks=peaks, impl=impl, keras=keras, stat=stat)


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            value = seconds / scale
            break
    else:
        unit, value = "ns", seconds / 1e-9
    return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"


def format_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    text = f"{ratio:.2f}"
    return f"{text} {FLAG}" if ratio > FLAG_RATIO else text


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def flag_lines(table: Table, limit: float = FLAG_RATIO) -> list[str]:
    """One line per ratio above ``limit``: who is slower than which baseline, and by how much."""
    lines = []
    for row in table.rows:
        dense_vs_raw = None
        if row.medians.get("keras_dense") and row.medians.get("raw"):
            dense_vs_raw = row.medians["keras_dense"] / row.medians["raw"]
        for baseline in ("raw", "keras_dense"):
            ratio = row.ratio(baseline)
            if ratio is None or ratio <= limit:
                continue
            line = (f"{FLAG} {row.mode} {row.shape} ({row.label}): impl is slower than baseline {baseline} by "
                    f"{ratio:.1f}x ({format_time(row.medians['impl'])} vs {format_time(row.medians[baseline])})")
            in_line_with_dense = (row.ratio("keras_dense") or math.inf) <= limit
            if baseline == "raw" and dense_vs_raw is not None and dense_vs_raw > limit and in_line_with_dense:
                line += (f"; keras_dense/raw is {dense_vs_raw:.1f}x too, so this is Keras's own layer overhead, "
                         "not the implementation")
            lines.append(line)
    return lines


def target_lines(table: Table) -> list[tuple[str, bool]]:
    """Issue 5's targets (for the reference layer), each as (text, met)."""
    results = []
    rows = {(r.mode, r.shape): r for r in table.rows}
    for target in TARGETS:
        row = rows.get((target.mode, target.shape))
        ratio = row.ratio(target.baseline) if row else None
        name = "Dense" if target.baseline == "keras_dense" else target.baseline
        if ratio is None:  # not in this run (a -k selection, a failed case)
            continue
        met = ratio <= target.limit
        results.append((f"target {target.mode} {target.shape}: impl/{name} = {ratio:.3f} <= {target.limit:.2f} "
                        f"({target.why}): {'met' if met else 'MISSED'}", met))
    return results


COLUMNS = ("mode", "shape", "impl", "raw", "keras_dense", "impl/raw", "impl/Dense", "GFLOP/s", "% peak")


def table_cells(table: Table) -> list[list[str]]:
    cells = []
    for row in table.rows:
        pct = table.percent_of_peak(row)
        cells.append([
            row.mode,
            f"{row.shape} {row.label}",
            format_time(row.medians.get("impl")),
            format_time(row.medians.get("raw")),
            format_time(row.medians.get("keras_dense")),
            format_ratio(row.ratio("raw")),
            format_ratio(row.ratio("keras_dense")),
            _fmt(row.gflops, ".3g" if (row.gflops or 0) < 10 else ".0f"),
            _fmt(pct, ".1f" if (pct or 0) < 10 else ".0f"),
        ])
    return cells


def header_lines(table: Table) -> list[str]:
    lines = [f"impl = {table.impl}; {table.keras}; {table.stat} time per call; "
             f"ratios > {FLAG_RATIO} flagged {FLAG}"]
    peak = table.peak
    if peak is not None:
        lines.append(f"machine peak (one {PEAK_N}x{PEAK_N}x{PEAK_N} matmul, best of {len(table.peaks)} in this run): "
                     f"{format_time(peak.seconds)} = {peak.gflops:.0f} GFLOP/s")
    else:
        lines.append("machine peak: not measured in this run (% peak column empty)")
    spread = table.load_changed
    if spread is not None:
        times = ", ".join(f"{p.when} {format_time(p.seconds)}" for p in table.peaks)
        lines.append(f"warning: the machine's load changed during the run (peak matmul {times}: {spread:.1f}x apart); "
                     "compare only the ratios within a row, and repeat the run")
    return lines


def format_text(table: Table) -> str:
    cells = table_cells(table)
    widths = [max(len(c) for c in column) for column in zip(COLUMNS, *cells)]
    right = set(range(2, len(COLUMNS)))

    def line(values):
        return "  ".join(v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths)))

    out = header_lines(table) + ["", line(COLUMNS), "  ".join("-" * w for w in widths)]
    out += [line(c) for c in cells]
    flags = flag_lines(table)
    if flags:
        out += [""] + flags
    targets = target_lines(table)
    if targets:
        out += [""] + [text for text, _ in targets]
    return "\n".join(out)


def format_markdown(table: Table, context: str = "") -> str:
    out = []
    if context:
        out += [context, ""]
    out += [f"- {line}" for line in header_lines(table)] + [""]
    out.append("| " + " | ".join(COLUMNS) + " |")
    out.append("|" + "|".join("---" if i < 2 else "---:" for i in range(len(COLUMNS))) + "|")
    for cells in table_cells(table):
        out.append("| " + " | ".join(c.replace(FLAG, f"**{FLAG}**") for c in cells) + " |")
    flags = flag_lines(table)
    if flags:
        out += [""] + [f"- {line}" for line in flags]
    targets = target_lines(table)
    if targets:
        out += [""] + [f"- {text}" for text, _ in targets]
    return "\n".join(out) + "\n"


RATIO_TICKS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def write_plot(table: Table, path) -> Path:
    """PNG: median time against FLOPs per contender for each mode, and the impl ratios below."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    modes = [m for m in MODES if any(r.mode == m for r in table.rows)]
    figure = Figure(figsize=(4.2 * max(len(modes), 1), 8), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(2, max(len(modes), 1), squeeze=False)
    styles = {"impl": ("tab:red", "o-"), "raw": ("tab:blue", "s--"), "keras_dense": ("tab:green", "^:")}
    for col, mode in enumerate(modes):
        rows = sorted((r for r in table.rows if r.mode == mode), key=lambda r: r.flops)
        top, bottom = axes[0][col], axes[1][col]
        for contender in CONTENDERS:
            points = [(r.flops, r.medians[contender]) for r in rows if contender in r.medians]
            if points:
                color, style = styles[contender]
                top.plot(*zip(*points), style, color=color, label=contender)
        top.set_xscale("log")
        top.set_yscale("log")
        top.set_title(f"{mode}")
        top.set_xlabel("FLOPs per call")
        top.set_ylabel(f"{table.stat} time per call [s]")
        top.grid(True, which="both", alpha=0.3)
        top.legend(fontsize="small")
        names = [f"{r.shape}" for r in rows]
        xs = range(len(rows))
        width = 0.38
        seen = [FLAG_RATIO, 1 / FLAG_RATIO]
        for offset, baseline, color in ((-width / 2, "raw", "tab:blue"), (width / 2, "keras_dense", "tab:green")):
            bars = [(x + offset, r.ratio(baseline)) for x, r in zip(xs, rows) if r.ratio(baseline)]
            if bars:
                seen += [v for _, v in bars]
                # Bars grow from 1.0, up when impl is slower, down when it is faster.
                bottom.bar([x for x, _ in bars], [v - 1.0 for _, v in bars], width, bottom=1.0, color=color,
                           label=f"impl/{baseline}")
        bottom.axhline(1.0, color="black", linewidth=0.8)
        bottom.axhline(FLAG_RATIO, color="tab:red", linestyle="--", linewidth=0.8, label=f"flag > {FLAG_RATIO}")
        bottom.set_xticks(list(xs), names)
        bottom.set_yscale("log")
        low, high = min(seen) / 1.2, max(seen) * 1.2
        bottom.set_ylim(low, high)
        bottom.set_yticks([t for t in RATIO_TICKS if low <= t <= high])
        bottom.yaxis.set_major_formatter(ScalarFormatter())
        bottom.yaxis.set_minor_formatter(NullFormatter())
        bottom.set_ylabel("impl / baseline (log; < 1: impl faster)")
        bottom.grid(True, axis="y", alpha=0.3)
        bottom.legend(fontsize="small")
    title = f"impl = {table.impl} ({table.keras})"
    if table.peak is not None:
        title += f"; machine peak {table.peak.gflops:.0f} GFLOP/s"
    figure.suptitle(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    return path


# ----------------------------------------------------------------------------------------------
# pytest hooks: all of them stay dormant unless items marked spec_benchmark were collected.

_STATE = pytest.StashKey[dict]()


def pytest_addoption(parser):
    group = parser.getgroup("layer-spec", "executable spec for custom Keras dense layers")
    group.addoption("--bench-table", dest="layer_spec_bench_table", default=None, metavar="PATH",
                    help="after a timed benchmark run, write the ratio table as Markdown to PATH")
    group.addoption("--bench-plot", dest="layer_spec_bench_plot", default=None, metavar="PATH",
                    help="after a timed benchmark run, write a PNG plot (time vs size per contender, ratios) to PATH")
    group.addoption("--bench-stat", dest="layer_spec_bench_stat", default="median", choices=STATS,
                    help="statistic of the end-of-run table: median (default) or min (steadier on a busy machine)")


def pytest_configure(config):
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
        from spec_tests.plugin import is_spec_item

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
    reporter.write_sep("=", "layer-spec benchmarks: impl vs raw TF ops vs keras Dense")
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


# ----------------------------------------------------------------------------------------------
# Paired timing: the three contenders called in turn, round after round, so that they share
# whatever load the machine has. Slower to read than the suite, but steady where the suite is not.


def paired_summary(times: dict) -> dict:
    """Per-contender medians and the quartiles of the per-round ratios impl/raw and impl/keras_dense."""
    import statistics

    def quartiles(values):
        q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
        return q1, q2, q3

    summary = {"rounds": min(len(v) for v in times.values()),
               "medians": {c: statistics.median(v) for c, v in times.items()}}
    for baseline in ("raw", "keras_dense"):
        ratios = [a / b for a, b in zip(times["impl"], times[baseline])]
        summary[f"impl/{baseline}"] = quartiles(ratios)
    return summary


def format_paired(mode: str, shape: str, summary: dict) -> str:
    medians = summary["medians"]
    parts = [f"{mode:11s} {shape:6s} rounds={summary['rounds']:<4d}"]
    parts += [f"{c}={format_time(medians[c])}" for c in CONTENDERS]
    for baseline in ("raw", "keras_dense"):
        q1, q2, q3 = summary[f"impl/{baseline}"]
        name = "Dense" if baseline == "keras_dense" else baseline
        parts.append(f"impl/{name}={q2:.3f} (quartiles {q1:.2f}..{q3:.2f})")
    return "  ".join(parts)


def measure_paired(impl: str, mode: str, shape_name: str, seconds: float, min_rounds: int = 7) -> dict:
    """Time the three contenders in turn (who goes first rotates) for ``seconds``; return :func:`paired_summary`."""
    import time

    import tensorflow as tf

    from spec_tests import test_benchmarks as bench
    from spec_tests.helpers import random_array
    from spec_tests.plugin import load_impl

    cls, _ = load_impl(impl)
    shape = SHAPES[shape_name]
    x = tf.constant(random_array(shape.input_shape, seed=1))
    calls = {}
    for contender in CONTENDERS:
        model = bench.make_contender(contender, cls, "dense", shape, x)
        calls[contender] = bench.timed_fn(mode, contender, model, shape, x)
        calls[contender]()
        calls[contender]()
    times = {c: [] for c in CONTENDERS}
    order = list(CONTENDERS)
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(times["impl"]) < min_rounds:
        order = order[1:] + order[:1]
        for contender in order:
            t0 = time.perf_counter()
            calls[contender]()
            times[contender].append(time.perf_counter() - t0)
    return paired_summary(times)


def paired_main(argv) -> int:
    """``python -m spec_tests.benchmarking paired [--impl SPEC] [--seconds S] MODE:SHAPE...``."""
    import argparse

    from spec_tests.plugin import DEFAULT_IMPL

    parser = argparse.ArgumentParser(prog="python -m spec_tests.benchmarking paired", description=paired_main.__doc__)
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
    """``python -m spec_tests.benchmarking RUN.json [--markdown] [--plot PATH] [--stat min]``: the table of a
    saved run. ``python -m spec_tests.benchmarking paired --help``: paired timing of a few rows."""
    import argparse

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["paired"]:
        return paired_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m spec_tests.benchmarking", description=main.__doc__)
    parser.add_argument("json", help="a pytest-benchmark JSON file (--benchmark-autosave, --benchmark-json)")
    parser.add_argument("--markdown", action="store_true", help="print Markdown instead of plain text")
    parser.add_argument("--plot", metavar="PATH", help="also write the PNG plot to PATH")
    parser.add_argument("--stat", choices=STATS, default="median", help="statistic to show (default: median)")
    args = parser.parse_args(argv)
    data = json.loads(Path(args.json).read_text(encoding="utf-8"))
    table = build_table(records_from_json(data), args.stat)
    if not table.rows:
        print(f"{args.json}: no {SUITE} benchmarks in this file", file=sys.stderr)
        return 1
    print(format_markdown(table, f"Run of {data.get('datetime', '?')}") if args.markdown else format_text(table))
    if args.plot:
        print(f"wrote {write_plot(table, args.plot)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
