"""Benchmarks, not clauses: the implementation under test timed next to raw framework ops and Keras's Dense.

Nothing here passes or fails on speed. Each row (one mode at one shape) is
measured once, interleaved: after warm-up, the three contenders (``impl``,
``raw``, ``keras_dense``) are called in turn, round after round, so that they
share the machine's load, and the ratios ``impl/raw`` and ``impl/Dense`` are
taken round by round. Each contender keeps its own result (its per-call times,
in pytest-benchmark's statistics) with the row's paired ratios in its
``extra_info``; the harness (``spec_tests/harness/bench/``) prints the table at
the end of the run. A case fails only when a contender does not compute a dense
layer at all (its output is checked against numpy before timing), so a broken
but fast implementation cannot top the table.

These cases are deselected in a default run. ``pytest --benchmark-only`` times
them; ``pytest --benchmark-disable -m spec_benchmark`` runs each small case
once. Under ``KERAS_BACKEND=jax`` the same rows run on JAX (no ``tf_function``
mode there). See ``docs/benchmarks.md``.
"""

from __future__ import annotations

import dataclasses

import pytest

from spec_tests import generation
from spec_tests.harness.bench.cases import (
    BACKEND_SKIPPED_MODES, MODES, PEAK_FLOPS, SHAPES, SKIPPED, SUITE, TENSORFLOW_ONLY_IMPLS, case_id, contender_help,
    mode_help,
)
from spec_tests.harness.bench.contenders import backend_contenders, keras_backend, quick_call, row_builder, time_peak
from spec_tests.harness.bench.paired import REPLAY_CLOCK, measure_row, replay
from spec_tests.harness.selection import implementations

pytestmark = [
    pytest.mark.spec_benchmark,
    # Not a clause of the seed contract: marked so that --profile seed still times the
    # tutorial's layer (rank-2 shapes only, baselines without a bias).
    pytest.mark.seed,
]

BACKEND = keras_backend()


def _params():
    for mode in MODES:  # every backend collects the same ids; a mode a backend lacks skips
        for shape in SHAPES.values():
            if (mode, shape.name) in SKIPPED:
                continue
            for contender in ("impl", "raw", "keras_dense"):
                yield pytest.param(
                    mode, shape.name, contender,
                    id=case_id(mode, shape.name, contender),
                    # The replaying timer hands pytest-benchmark this contender's times from the interleaved rounds.
                    marks=pytest.mark.benchmark(group=f"{mode} {shape.name}", timer=REPLAY_CLOCK),
                )


_ROW: dict = {}  # the last row measured: {"key": ..., "row": RowMeasurement}; rows run back to back


def _first_only(request, layer_impl) -> None:
    """Benchmarks time one layer per run: the first implementation named (the table compares it with raw ops and
    Dense, not with the other layers of a run that checks several)."""
    first = implementations(request.config)[0]
    if layer_impl.id != first.id:
        pytest.skip(f"benchmarks time one layer per run, the first --impl ({first.spec}); time this one with "
                    f"pytest --benchmark-only --impl {layer_impl.choice}")


def measured_row(spec, layer_cls, profile, mode, shape, scale):
    """The row's interleaved measurement, taken by the first of its three cases to run."""
    key = (spec, profile, BACKEND, mode, shape.name, scale)
    if _ROW.get("key") != key:
        shape = dataclasses.replace(shape, cap=shape.cap * scale)
        _ROW.clear()  # free the previous row's results before building this one's layers
        _ROW.update(key=key, row=measure_row(row_builder(layer_cls, profile, mode, shape), mode, shape))
    return _ROW["row"]


@pytest.mark.parametrize("mode, shape, contender", list(_params()))
def test_bench_dense(benchmark, request, layer_impl, layer_cls, profile, mode, shape, contender):
    """Time one contender's dense computation in one mode at one shape, interleaved with the other two."""
    _first_only(request, layer_impl)
    shape = SHAPES[shape]
    if mode in BACKEND_SKIPPED_MODES.get(BACKEND, {}):
        pytest.skip(f"{BACKEND}: {BACKEND_SKIPPED_MODES[BACKEND][mode]}")
    if profile == "seed" and len(shape.batch) > 1:
        pytest.skip("the seed profile promises rank-2 inputs only")
    if BACKEND != "tensorflow" and contender == "impl" and layer_impl.spec in TENSORFLOW_ONLY_IMPLS:
        pytest.skip(f"{layer_impl.spec} is written with TensorFlow ops; under KERAS_BACKEND={BACKEND} benchmark "
                    "--impl layers:OpsDense (keras.ops) or --impl keras.layers:Dense")
    benchmark.extra_info.update(
        suite=SUITE, contender=contender, mode=mode, shape=shape.name, shape_label=shape.label,
        input_shape=list(shape.input_shape), units=shape.units_out, flops=shape.flops(mode),
        predict_batches=shape.predict_batches if mode == "predict" else None,
        impl=layer_impl.spec, keras=generation.describe(), backend=BACKEND, mode_help=mode_help(mode, BACKEND),
        contender_help=contender_help(contender, BACKEND),
    )
    if benchmark.disabled:  # quick mode: one untimed call, checked
        benchmark(quick_call, layer_cls, profile, mode, shape, contender)
        return
    row = measured_row(layer_impl.spec, layer_cls, profile, mode, shape,
                       request.config.getoption("layer_spec_bench_scale"))
    if contender in row.errors:
        raise row.errors[contender]
    benchmark.extra_info.update(row.info(contender), timing="interleaved")
    replay(benchmark, row.times[contender])


@pytest.mark.benchmark(group="peak")
@pytest.mark.parametrize("when", ["first", "last"])
def test_bench_peak(benchmark, request, layer_impl, when):
    """Time one large square matmul, first and last in the run: the machine's peak, and whether its load changed."""
    _first_only(request, layer_impl)
    benchmark.extra_info.update(suite=SUITE, contender="peak", mode="peak", shape=when,
                                flops=PEAK_FLOPS, keras=generation.describe(), backend=BACKEND)
    call, check_peak = backend_contenders().peak_call()
    check_peak(time_peak(benchmark, call))
