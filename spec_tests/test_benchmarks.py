"""Benchmarks, not clauses: the implementation under test timed next to raw TF ops and Keras's Dense.

Nothing here passes or fails on speed. Each case times one contender
(``impl``, ``raw`` or ``keras_dense``) in one mode at one shape, with the same
inputs and weight shapes, and the harness (``spec_tests/harness/bench/``)
prints the ratios at the end of the run. A case fails only when a contender
does not compute a dense layer at all (its forward output is checked against
numpy once, after timing), so a broken but fast implementation cannot top the
table.

These cases are deselected in a default run. ``pytest --benchmark-only`` times
them; ``pytest --benchmark-disable -m spec_benchmark`` runs each small case
once. See ``docs/benchmarks.md``.
"""

from __future__ import annotations

import pytest
import tensorflow as tf

from spec_tests import generation
from spec_tests.harness.bench.cases import (
    CONTENDER_HELP, MODE_HELP, PEAK, PEAK_FLOPS, PEAK_N, SHAPES, SUITE, case_id, cases,
)
from spec_tests.harness.bench.contenders import check_output, make_contender, run_timed, timed_fn
from spec_tests.harness.selection import spec_state
from spec_tests.helpers import check, random_array

pytestmark = [
    pytest.mark.spec_benchmark,
    # Not a clause of the seed contract: marked so that --profile seed still times the
    # tutorial's layer (rank-2 shapes only, baselines without a bias).
    pytest.mark.seed,
]


def _params():
    for mode, shape, contender in cases():
        yield pytest.param(
            mode, shape.name, contender,
            id=case_id(mode, shape.name, contender),
            marks=pytest.mark.benchmark(group=f"{mode} {shape.name}"),
        )


@pytest.mark.parametrize("mode, shape, contender", list(_params()))
def test_bench_dense(benchmark, layer_cls, profile, mode, shape, contender):
    """Time one contender's dense computation in one mode at one shape."""
    shape = SHAPES[shape]
    if profile == "seed" and len(shape.batch) > 1:
        pytest.skip("the seed profile promises rank-2 inputs only")
    x = tf.constant(random_array(shape.input_shape, seed=1))
    model = make_contender(contender, layer_cls, profile, shape, x)
    fn = timed_fn(mode, contender, model, shape, x)
    benchmark.extra_info.update(
        suite=SUITE, contender=contender, mode=mode, shape=shape.name, shape_label=shape.label,
        input_shape=list(shape.input_shape), units=shape.units_out, flops=shape.flops(mode),
        predict_batches=shape.predict_batches if mode == "predict" else None,
        impl=spec_state().spec, keras=generation.describe(), mode_help=MODE_HELP[mode],
        contender_help=CONTENDER_HELP[contender],
    )
    result = run_timed(benchmark, fn, shape)
    check_output(result, mode, model, shape, x)


@pytest.mark.benchmark(group="peak")
@pytest.mark.parametrize("when", ["first", "last"])
def test_bench_peak(benchmark, when):
    """Time one large square matmul, first and last in the run: the machine's peak, and whether its load changed."""
    a = tf.fill((PEAK_N, PEAK_N), 0.5)  # the values do not change a matmul's speed
    b = tf.fill((PEAK_N, PEAK_N), 0.25)
    benchmark.extra_info.update(suite=SUITE, contender="peak", mode="peak", shape=when,
                                flops=PEAK_FLOPS, keras=generation.describe())
    result = run_timed(benchmark, lambda: tf.matmul(a, b), PEAK)
    check(tuple(result.shape) == (PEAK_N, PEAK_N), "peak matmul output shape", (PEAK_N, PEAK_N), tuple(result.shape))

