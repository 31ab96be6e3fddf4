"""Tracking over time by ratios: compare a run's paired ratios with a saved run's, and name the regressions.

A machine that slows down slows ``impl``, ``raw`` and ``keras_dense`` of each
round alike, so the ratios ``impl/raw`` and ``impl/Dense`` stay put while every
absolute time grows; only the implementation getting slower than its baselines
moves them. A row regresses when *both* its ratios grew by more than the
threshold: an implementation that got slower is slower against every baseline,
while one ratio moving alone means a baseline moved (the ``predict`` rows' ``raw``
loop and Keras's predict loop react differently to the kind of load: ``impl/raw``
moved by 13-18% between two runs of the same layer, ``impl/Dense`` by 1%).
``pytest --benchmark-only --benchmark-compare=0001 --bench-ratio-fail=10%`` fails
on such a row; ``layer-spec bench compare OLD.json NEW.json --fail 10%`` does the
same offline.
Pure functions on :class:`~spec_tests.harness.bench.table.Table`\\ s.
"""

from __future__ import annotations

import dataclasses

from spec_tests.harness.bench.table import Table

BASELINE_NAMES = {"raw": "impl/raw", "keras_dense": "impl/Dense"}


def parse_threshold(text: str) -> float:
    """``"10%"`` or ``"0.1"`` -> 0.1 (the relative growth of a ratio that counts as a regression)."""
    value = str(text).strip()
    try:
        threshold = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        raise ValueError(f"{text!r}: expected a percentage such as 10% (or a fraction such as 0.1)") from None
    if not threshold > 0:
        raise ValueError(f"{text!r}: the threshold must be above 0")
    return threshold


@dataclasses.dataclass(frozen=True)
class RatioChange:
    """One ratio of one row in the saved run (``old``) and in this run (``new``)."""

    mode: str
    shape: str
    baseline: str
    old: float
    new: float
    old_paired: bool
    new_paired: bool

    @property
    def change(self) -> float:
        """Relative growth of the ratio: +0.25 means impl became 25% slower against the baseline."""
        return self.new / self.old - 1.0

    def regressed(self, threshold: float) -> bool:
        return self.change > threshold

    def ratio_text(self) -> str:
        return f"{BASELINE_NAMES[self.baseline]} {self.old:.3f} -> {self.new:.3f} ({self.change:+.1%})"

    def describe(self) -> str:
        return f"{self.mode} {self.shape} {self.ratio_text()}"


def compare_tables(old: Table, new: Table) -> list[RatioChange]:
    """Every ratio present in both runs, row by row in this run's order."""
    before = {(r.mode, r.shape): r for r in old.rows}
    changes = []
    for row in new.rows:
        previous = before.get((row.mode, row.shape))
        if previous is None:
            continue
        for baseline in BASELINE_NAMES:
            old_ratio, new_ratio = previous.ratio(baseline), row.ratio(baseline)
            if old_ratio and new_ratio:
                changes.append(RatioChange(row.mode, row.shape, baseline, old_ratio, new_ratio,
                                           ("impl", baseline) in previous.paired, ("impl", baseline) in row.paired))
    return changes


def regressions(changes, threshold: float) -> list[list[RatioChange]]:
    """The rows (each as its list of changes) whose every compared ratio grew by more than ``threshold``."""
    rows: dict = {}
    for change in changes:
        rows.setdefault((change.mode, change.shape), []).append(change)
    return [row for row in rows.values() if all(c.regressed(threshold) for c in row)]


def comparison_lines(changes, threshold: float, against: str) -> list[str]:
    """The report: a summary line, one line per regressed row, notes on single ratios beyond the threshold."""
    if not changes:
        return [f"ratio comparison with {against}: no row in common, nothing compared"]
    bad = regressions(changes, threshold)
    worst = max(changes, key=lambda c: c.change)
    lines = [f"ratio comparison with {against}: {len(changes)} ratios compared; a row fails when all its ratios grew "
             f"by more than {threshold:.0%}; largest change {worst.describe()}"]
    for row in bad:
        lines.append(f"RATIO REGRESSION {row[0].mode} {row[0].shape}: "
                     + ", ".join(c.ratio_text() for c in row) + f" > {threshold:+.0%}")
    failed = {id(c) for row in bad for c in row}
    for change in changes:
        if change.regressed(threshold) and id(change) not in failed:
            lines.append(f"note: {change.describe()} against one baseline only: that baseline moved, not impl")
    if not bad:
        lines.append(f"no ratio regression beyond {threshold:.0%}")
    if not all(c.old_paired and c.new_paired for c in changes):
        lines.append("note: some ratios are not paired (a run saved before interleaved timing): they are ratios of "
                     "medians and as noisy as the machine")
    return lines


__all__ = ["BASELINE_NAMES", "RatioChange", "compare_tables", "comparison_lines", "parse_threshold", "regressions"]
