"""Paired timing: the three contenders called in turn, round after round, so that they share the machine's load.

Slower to read than the suite, but steady where the suite is not: the ratios
are taken round by round, and their quartiles reported.
"""

from __future__ import annotations

from spec_tests.harness.bench.cases import CONTENDERS, SHAPES
from spec_tests.harness.bench.table import format_time

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

    from spec_tests.harness.bench import contenders
    from spec_tests.harness.selection import load_impl
    from spec_tests.helpers import random_array

    cls, _ = load_impl(impl)
    shape = SHAPES[shape_name]
    x = tf.constant(random_array(shape.input_shape, seed=1))
    calls = {}
    for contender in CONTENDERS:
        model = contenders.make_contender(contender, cls, "dense", shape, x)
        calls[contender] = contenders.timed_fn(mode, contender, model, shape, x)
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


__all__ = ["format_paired", "measure_paired", "paired_summary"]
