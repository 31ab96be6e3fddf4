"""Paired (interleaved) timing: the contenders of one row called in turn, round after round.

Every timed row (one mode at one shape) is measured here: after a trace call and a
warm call of each contender, each round calls the three contenders once each, in
an order that cycles through all six orders, so that they share the machine's
load at that moment. The ratios ``impl/raw`` and ``impl/Dense`` are taken round
by round, and a row reports their median and quartiles: a machine that slows down
for a while slows every contender of the rounds it hits alike, and their ratios
stay put. A row runs until its median ratios are precise (standard error at most
``PRECISION``), or until its time cap. pytest-benchmark still records each contender's own per-call times
(replayed into it by :class:`ReplayClock`).

Pure Python: the callables come from the backend's contenders module.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import statistics
import time

from spec_tests.harness.bench.cases import CONTENDERS, CYCLE, PRECISION, SHAPES, SLOW_CALL
from spec_tests.harness.bench.table import format_time

#: The six orders of the three contenders, one per round of a cycle.
ORDERS = tuple(itertools.permutations(CONTENDERS))
assert len(ORDERS) == CYCLE
BASELINES = ("raw", "keras_dense")


def quartiles(values) -> tuple:
    """(q1, median, q3) of ``values`` (inclusive method; a single value is all three)."""
    values = list(values)
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def median_error(values) -> float:
    """Standard error of the median of ``values``, read from the order statistics around it.

    The rank of the sample median has a standard deviation of ``sqrt(n)/2``; half the
    distance between the values that many ranks below and above the median estimates its
    standard error without assuming a distribution (the per-round ratios are peaked, with
    heavy tails, and an interquartile-range estimate overstates their error several times).
    """
    values = sorted(values)
    n = len(values)
    if n < 8:
        return math.inf
    half = math.sqrt(n) / 2
    low, high = values[max(0, math.floor((n - 1) / 2 - half))], values[min(n - 1, math.ceil((n - 1) / 2 + half))]
    return (high - low) / 2


def precise(times: dict, precision: float) -> bool:
    """Whether the median log-ratios impl/raw and impl/Dense (those present) have a standard error <= ``precision``."""
    pairs = [("impl", b) for b in BASELINES if "impl" in times and b in times]
    return all(median_error(math.log(a / b) for a, b in zip(times[c], times[base])) <= precision
               for c, base in pairs)


def interleave(calls: dict, min_rounds: int, max_rounds: int | None = None, cap: float = math.inf,
               precision: float | None = None, clock=time.perf_counter) -> dict:
    """Call every contender in ``calls`` once per round; their per-call durations (seconds), one per round.

    Round ``i`` uses order ``ORDERS[i % 6]`` (restricted to the contenders present). Runs
    ``min_rounds`` rounds, then, at the end of each cycle, stops when :func:`precise` (if
    ``precision`` is given), at ``max_rounds`` (default: ``min_rounds``), or once ``cap``
    seconds have passed (the cap may end a row mid-cycle, never before ``min_rounds``).
    """
    max_rounds = min_rounds if max_rounds is None else max(min_rounds, max_rounds)
    times = {name: [] for name in calls}
    start = clock()
    for i in range(max_rounds):
        if i >= min_rounds:
            if clock() - start >= cap:
                break
            if i % CYCLE == 0 and precision is not None and precise(times, precision):
                break
        for name in ORDERS[i % len(ORDERS)]:
            if name in calls:
                began = clock()
                calls[name]()
                times[name].append(clock() - began)
    return times


def ratio_stats(times: dict, contender: str, baseline: str) -> tuple | None:
    """Quartiles of the per-round ratios ``contender / baseline``, or None when either is missing."""
    if contender not in times or baseline not in times:
        return None
    return quartiles(a / b for a, b in zip(times[contender], times[baseline]))


def paired_summary(times: dict) -> dict:
    """Per-contender medians and the quartiles of the per-round ratios impl/raw and impl/keras_dense."""
    summary = {"rounds": min(len(v) for v in times.values()),
               "medians": {c: statistics.median(v) for c, v in times.items()}}
    for baseline in BASELINES:
        summary[f"impl/{baseline}"] = ratio_stats(times, "impl", baseline)
    return summary


def ratio_info(times: dict, contender: str) -> dict:
    """The ``extra_info`` entries of one contender's record: its paired ratios to the two baselines.

    ``ratio_to_raw`` and ``ratio_to_keras_dense`` are medians of the per-round ratios
    ``contender / baseline`` (for ``impl``: the row's ``impl/raw`` and ``impl/Dense``);
    ``ratio_spread`` holds their quartiles ``[q1, q3]``; ``paired_rounds`` the rounds behind them.
    """
    info = {"paired_rounds": min((len(v) for v in times.values()), default=0), "ratio_spread": {}}
    for baseline in BASELINES:
        stats = ratio_stats(times, contender, baseline)
        info[f"ratio_to_{baseline}"] = None if stats is None else stats[1]
        info["ratio_spread"][f"to_{baseline}"] = None if stats is None else [stats[0], stats[2]]
    return info


@dataclasses.dataclass
class RowMeasurement:
    """One row's interleaved timing: per-contender durations, and the errors of contenders that could not run."""

    mode: str
    shape: str
    times: dict  # contender -> [seconds per call, one per round]
    errors: dict  # contender -> the exception its build, warm-up or output check raised

    def info(self, contender: str) -> dict:
        return ratio_info(self.times, contender)


class ReplayClock:
    """A timer for pytest-benchmark (``@pytest.mark.benchmark(timer=REPLAY_CLOCK)``) that replays measured durations.

    pytest-benchmark reads the timer before and after each call of the target; the
    target, :meth:`advance`, moves this clock on by the next duration measured in the
    interleaved rounds, so that the fixture's statistics are that contender's own times.
    """

    __name__ = "interleaved_perf_counter"

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


REPLAY_CLOCK = ReplayClock()


def replay(benchmark, durations) -> None:
    """Record ``durations`` (seconds, one per round) as ``benchmark``'s rounds, through :data:`REPLAY_CLOCK`."""
    pending = iter(durations)
    benchmark.pedantic(lambda seconds: REPLAY_CLOCK.advance(seconds), setup=lambda: ((next(pending),), {}),
                       rounds=len(durations), iterations=1)


def measure_row(build, mode: str, shape, rounds: int | None = None, seconds: float | None = None,
                clock=time.perf_counter) -> RowMeasurement:
    """Build, warm up, check and interleave the three contenders of one row.

    ``build(contender)`` returns ``(call, check)``: ``call()`` runs one timed call and
    returns its result, ``check(result)`` raises when that result is not a dense layer's.
    A contender whose build, trace call or check fails is left out of the rounds; its
    exception is kept in ``errors``. Without ``rounds``, the row runs from the shape's
    ``min_rounds`` until precise (:data:`PRECISION`), ``max_rounds`` or its cap; with
    ``rounds``, exactly that many; with ``seconds``, whole cycles for that long (at least two).
    """
    calls, errors, first = {}, {}, {}
    for contender in CONTENDERS:
        try:
            call, check = build(contender)
            start = clock()
            result = call()  # trace and compile outside the timing
            first[contender] = clock() - start
            check(result)
            call()  # a warm call
        except Exception as exc:  # noqa: BLE001 - reported by that contender's own benchmark
            errors[contender] = exc
            continue
        calls[contender] = call
    if not calls:
        times = {}
    elif rounds is not None:
        times = interleave(calls, rounds, clock=clock)
    elif seconds is not None:
        times = interleave(calls, 2 * CYCLE, 10**9, seconds, clock=clock)
    elif any(seconds > SLOW_CALL for seconds in first.values()):
        times = interleave(calls, 1, clock=clock)  # pathologically slow: one round is enough to flag it
    else:
        times = interleave(calls, shape.min_rounds, shape.max_rounds, shape.cap_for(mode), PRECISION, clock)
    return RowMeasurement(mode, shape.name, times, errors)


def format_paired(mode: str, shape: str, summary: dict) -> str:
    medians = summary["medians"]
    parts = [f"{mode:11s} {shape:6s} rounds={summary['rounds']:<4d}"]
    parts += [f"{c}={format_time(medians.get(c))}" for c in CONTENDERS]
    for baseline in BASELINES:
        stats = summary[f"impl/{baseline}"]
        name = "Dense" if baseline == "keras_dense" else baseline
        if stats is None:
            parts.append(f"impl/{name}=-")
            continue
        q1, q2, q3 = stats
        parts.append(f"impl/{name}={q2:.3f} (quartiles {q1:.2f}..{q3:.2f})")
    return "  ".join(parts)


def measure_paired(impl: str, mode: str, shape_name: str, seconds: float) -> dict:
    """``layer-spec bench paired``: one row of ``impl`` for ``seconds`` (at least two cycles); :func:`paired_summary`."""
    from spec_tests.harness.bench.contenders import row_builder
    from spec_tests.harness.selection import load_impl

    cls, _ = load_impl(impl)
    shape = SHAPES[shape_name]
    row = measure_row(row_builder(cls, "dense", mode, shape), mode, shape, seconds=seconds)
    for contender, exc in row.errors.items():
        raise RuntimeError(f"{contender} failed in {mode} {shape_name}: {exc}") from exc
    return paired_summary(row.times)


__all__ = [
    "BASELINES", "ORDERS", "REPLAY_CLOCK", "ReplayClock", "RowMeasurement", "format_paired", "interleave",
    "measure_paired", "measure_row", "median_error", "paired_summary", "precise", "quartiles", "ratio_info",
    "ratio_stats", "replay",
]
