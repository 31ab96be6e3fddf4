"""The benchmark table: pure functions on records shaped like pytest-benchmark's JSON benchmarks.

A record is ``{"extra_info": {...}, "stats": {"median": seconds, ...}}``;
:func:`build_table` groups them into one :class:`Row` per mode x shape, and
the formatters print the ratios ``impl/raw`` and ``impl/Dense`` with flags.
The ratios are the paired ones of the records' ``extra_info`` (``ratio_to_raw``,
``ratio_to_keras_dense``, ``ratio_spread``: the median and quartiles of the
per-round ratios of interleaved calls); a record without them (a run saved
before interleaving) falls back to the ratio of the two medians.
"""

from __future__ import annotations

import dataclasses
import math

from spec_tests.harness.bench.cases import FLAG, FLAG_RATIO, MODES, PEAK_FLOPS, PEAK_N, SHAPES, SUITE, TARGETS

@dataclasses.dataclass
class Row:
    mode: str
    shape: str
    label: str
    flops: float
    medians: dict  # contender -> median seconds
    paired: dict = dataclasses.field(default_factory=dict)  # (contender, baseline) -> (q1, median, q3)
    rounds: int | None = None  # interleaved rounds behind the paired ratios

    def ratio(self, baseline: str, contender: str = "impl") -> float | None:
        """``contender / baseline``: the paired median when the run has one, else the ratio of the medians."""
        if (contender, baseline) in self.paired:
            return self.paired[(contender, baseline)][1]
        impl, base = self.medians.get(contender), self.medians.get(baseline)
        if not impl or not base:
            return None
        return impl / base

    def spread(self, baseline: str, contender: str = "impl") -> tuple | None:
        """The quartiles ``(q1, q3)`` of the per-round ratios ``contender / baseline`` (None when not paired)."""
        stats = self.paired.get((contender, baseline))
        return None if stats is None or stats[0] is None else (stats[0], stats[2])

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
    backend: str = "tensorflow"

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


def _add_paired(row: Row, info: dict) -> None:
    """The paired ratios of one record's ``extra_info`` (written by ``paired.ratio_info``), into ``row``."""
    spread = info.get("ratio_spread") or {}
    for baseline in ("raw", "keras_dense"):
        median = info.get(f"ratio_to_{baseline}")
        if median is None or baseline == info["contender"]:
            continue
        q1, q3 = spread.get(f"to_{baseline}") or (None, None)
        row.paired[(info["contender"], baseline)] = (q1, float(median), q3)
    if info.get("paired_rounds"):
        row.rounds = int(info["paired_rounds"])


def build_table(records, stat: str = "median") -> Table:
    """Group records into one row per mode x shape, ordered as the suite runs them.

    ``stat`` is the pytest-benchmark statistic each cell shows: ``median`` (default),
    or ``min``, which shrugs off most of the noise that other processes add.
    """
    rows: dict = {}
    peaks = []
    impl = keras = "?"
    backend = "tensorflow"
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
        backend = info.get("backend", backend)
        key = (info["mode"], info["shape"])
        row = rows.get(key)
        if row is None:
            row = rows[key] = Row(info["mode"], info["shape"], info.get("shape_label", info["shape"]),
                                  float(info.get("flops", 0)), {})
        row.medians[info["contender"]] = float(median)
        _add_paired(row, info)
    order = {(m, s): i for i, (m, s) in enumerate((m, s) for m in MODES for s in SHAPES)}
    ordered = sorted(rows.values(), key=lambda r: (order.get((r.mode, r.shape), len(order)), r.mode, r.shape))
    return Table(rows=ordered, peaks=peaks, impl=impl, keras=keras, stat=stat, backend=backend)


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


def format_ratio(ratio: float | None, spread: tuple | None = None) -> str:
    """``1.02``, with the quartiles of the per-round ratios when known (``1.02 (0.97-1.08)``), flagged above the limit."""
    if ratio is None:
        return "-"
    text = f"{ratio:.2f}"
    if spread is not None:
        text += f" ({spread[0]:.2f}-{spread[1]:.2f})"
    return f"{text} {FLAG}" if ratio > FLAG_RATIO else text


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def flag_lines(table: Table, limit: float = FLAG_RATIO) -> list[str]:
    """One line per ratio above ``limit``: who is slower than which baseline, and by how much."""
    lines = []
    for row in table.rows:
        dense_vs_raw = row.ratio("raw", contender="keras_dense")
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


COLUMNS = ("mode", "shape", "impl", "raw", "keras_dense", "impl/raw", "impl/Dense", "rounds", "GFLOP/s", "% peak")


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
            format_ratio(row.ratio("raw"), row.spread("raw")),
            format_ratio(row.ratio("keras_dense"), row.spread("keras_dense")),
            "-" if row.rounds is None else str(row.rounds),
            _fmt(row.gflops, ".3g" if (row.gflops or 0) < 10 else ".0f"),
            _fmt(pct, ".1f" if (pct or 0) < 10 else ".0f"),
        ])
    return cells


def header_lines(table: Table) -> list[str]:
    paired = any(row.paired for row in table.rows)
    how = ("ratios: median of the per-round ratios of interleaved calls (quartiles in brackets)" if paired
           else "ratios of the medians (a run without interleaved rounds)")
    keras = table.keras if table.backend == "tensorflow" else f"{table.keras}, backend {table.backend}"
    lines = [f"impl = {table.impl}; {keras}; {table.stat} time per call; {how}; "
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
                     "the times of different rows are not comparable, the paired ratios within a row still are")
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



__all__ = [
    "COLUMNS", "LOAD_CHANGE", "Peak", "Row", "STATS", "Table", "build_table", "flag_lines", "format_markdown",
    "format_ratio", "format_text", "format_time", "header_lines", "records_from_json", "table_cells", "target_lines",
]
