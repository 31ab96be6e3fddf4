"""The benchmark plot: time against size per contender for each mode, and the impl ratios with their spread below (PNG)."""

from __future__ import annotations

from pathlib import Path

from spec_tests.harness.bench.cases import CONTENDERS, FLAG_RATIO, MODES
from spec_tests.harness.bench.table import Table

RATIO_TICKS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def write_plot(table: Table, path) -> Path:
    """PNG: median time against FLOPs per contender for each mode, and below it the impl ratios per shape
    (bars from 1.0 to the paired median, whiskers from the first to the third quartile of the per-round ratios)."""
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
            bars = [(x + offset, r.ratio(baseline), r.spread(baseline)) for x, r in zip(xs, rows) if r.ratio(baseline)]
            if bars:
                seen += [v for _, v, _ in bars]
                # Bars grow from 1.0, up when impl is slower, down when it is faster.
                name = "Dense" if baseline == "keras_dense" else baseline
                bottom.bar([x for x, _, _ in bars], [v - 1.0 for _, v, _ in bars], width, bottom=1.0, color=color,
                           label=f"impl/{name}")
                whiskers = [(x, v, q) for x, v, q in bars if q is not None]
                if whiskers:
                    seen += [q[0] for _, _, q in whiskers] + [q[1] for _, _, q in whiskers]
                    bottom.errorbar([x for x, _, _ in whiskers], [v for _, v, _ in whiskers],
                                    yerr=[[max(v - q[0], 0) for _, v, q in whiskers],
                                          [max(q[1] - v, 0) for _, v, q in whiskers]],
                                    fmt="none", ecolor="black", elinewidth=1, capsize=3)
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
    title = f"impl = {table.impl} ({table.keras}); ratios: paired medians, whiskers: quartiles of the per-round ratios"
    if table.peak is not None:
        title += f"; machine peak {table.peak.gflops:.0f} GFLOP/s"
    figure.suptitle(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    return path



__all__ = ["write_plot"]
