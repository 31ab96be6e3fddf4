"""Benchmarks, not clauses: the implementation under test timed next to raw TF ops and Keras's Dense.

Nothing here passes or fails on speed. Each case times one contender
(``impl``, ``raw`` or ``keras_dense``) in one mode at one shape, with the same
inputs and weight shapes, and the plugin (``spec_tests/benchmarking.py``)
prints the ratios at the end of the run. A case fails only when a contender
does not compute a dense layer at all (its forward output is checked against
numpy once, after timing), so a broken but fast implementation cannot top the
table.

These cases are deselected in a default run. ``pytest --benchmark-only`` times
them; ``pytest --benchmark-disable -m spec_benchmark`` runs each small case
once. See ``docs/benchmarks.md``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import tensorflow as tf

from spec_tests import generation
from spec_tests.benchmarking import (
    CONTENDER_HELP,
    MODE_HELP,
    PEAK,
    PEAK_FLOPS,
    PEAK_N,
    SHAPES,
    SLOW_CALL,
    SUITE,
    Shape,
    case_id,
    cases,
)
from spec_tests.helpers import assert_close, check, dense_closed_form, layer_bias, random_array, to_numpy
from spec_tests.plugin import spec_state

pytestmark = [
    pytest.mark.spec_benchmark,
    # Not a clause of the seed contract: marked so that --profile seed still times the
    # tutorial's layer (rank-2 shapes only, baselines without a bias).
    pytest.mark.seed,
]

LEARNING_RATE = 0.01


def _params():
    for mode, shape, contender in cases():
        yield pytest.param(
            mode, shape.name, contender,
            id=case_id(mode, shape.name, contender),
            marks=pytest.mark.benchmark(group=f"{mode} {shape.name}"),
        )


class RawDense:
    """``tf.matmul`` plus ``tf.nn.bias_add`` on two ``tf.Variable``\\ s: the floor any dense layer can reach."""

    def __init__(self, units_in: int, units_out: int, use_bias: bool):
        limit = np.sqrt(6.0 / (units_in + units_out))
        rng = np.random.default_rng(0)
        self.units_out = units_out
        self.kernel = tf.Variable(rng.uniform(-limit, limit, (units_in, units_out)).astype("float32"), name="kernel")
        self.bias = tf.Variable(np.zeros(units_out, "float32"), name="bias") if use_bias else None
        self.trainable_variables = [self.kernel] + ([self.bias] if use_bias else [])

    def __call__(self, x):
        if x.shape.rank == 2:
            y = tf.matmul(x, self.kernel)
        else:
            flat = tf.reshape(x, [-1, x.shape[-1]])
            if x.shape[:-1].is_fully_defined():
                out_shape = x.shape[:-1].as_list() + [self.units_out]
            else:
                out_shape = tf.concat([tf.shape(x)[:-1], [self.units_out]], 0)
            y = tf.reshape(tf.matmul(flat, self.kernel), out_shape)
        if self.bias is not None:
            y = tf.nn.bias_add(y, self.bias)
        return y


def make_contender(contender: str, layer_cls, profile: str, shape: Shape, x):
    """A built callable ``f(x) -> y`` with ``trainable_variables``, ``kernel`` and ``bias``."""
    use_bias = profile != "seed"
    if contender == "raw":
        return RawDense(shape.units_in, shape.units_out, use_bias)
    if contender == "impl":
        layer = layer_cls(shape.units_out)
    else:
        layer = generation.Dense(shape.units_out, use_bias=use_bias)
    layer(x)  # build from the input, as Keras does
    return layer


def train_step_fn(model):
    variables = list(model.trainable_variables)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x)))
        grads = tape.gradient(loss, variables)
        missing = [i for i, g in enumerate(grads) if g is None]
        check(not missing, "gradients of the training step", "a gradient for every trainable variable",
              f"None for trainable variable(s) {missing}")
        for variable, grad in zip(variables, grads):
            variable.assign_sub(LEARNING_RATE * grad)
        return loss

    return step


def predict_fn(contender: str, model, shape: Shape, x):
    data = np.concatenate([to_numpy(x)] * shape.predict_batches)
    if contender == "raw":
        forward = tf.function(lambda t: model(t))
        batches = [data[i:i + shape.batch[0]] for i in range(0, len(data), shape.batch[0])]
        return lambda: np.concatenate([forward(tf.constant(b)).numpy() for b in batches])
    inputs = generation.keras.Input(shape=shape.input_shape[1:])
    keras_model = generation.keras.Model(inputs, model(inputs))
    return lambda: keras_model.predict(data, batch_size=shape.batch[0], verbose=0)


def timed_fn(mode: str, contender: str, model, shape: Shape, x):
    if mode == "eager":
        return lambda: model(x)
    if mode == "tf_function":
        forward = tf.function(lambda t: model(t))
        return lambda: forward(x)
    if mode == "xla":
        forward = tf.function(lambda t: model(t), jit_compile=True)
        return lambda: forward(x)
    if mode == "train_step":
        step = train_step_fn(model)
        return lambda: step(x)
    if mode == "predict":
        return predict_fn(contender, model, shape, x)
    raise AssertionError(f"unknown mode {mode!r}")


def run_timed(benchmark, fn, shape: Shape):
    """Warm ``fn`` up, then time as many rounds as the shape's budget allows (once, untimed, in quick mode)."""
    if benchmark.disabled:
        return benchmark(fn)
    start = time.perf_counter()
    fn()  # trace and compile outside the timing
    if time.perf_counter() - start > SLOW_CALL:
        rounds = 1  # pathologically slow: one round is enough to flag it
    else:
        start = time.perf_counter()
        fn()  # a warm call, to size the rounds
        rounds = shape.rounds(time.perf_counter() - start)
    benchmark.extra_info["rounds_chosen"] = rounds
    return benchmark.pedantic(fn, rounds=rounds, iterations=1)


def _check_output(result, mode: str, model, shape: Shape, x) -> None:
    """The timed function computed ``x @ kernel + bias`` (checked on a few rows, outside the timing)."""
    if mode == "train_step":
        check(np.isfinite(float(result)), f"{mode} loss", "a finite number", float(result))
        return
    expected_shape = shape.input_shape[:-1] + (shape.units_out,)
    if mode == "predict":
        expected_shape = (shape.batch[0] * shape.predict_batches,) + expected_shape[1:]
    seen = to_numpy(result)
    check(seen.shape == expected_shape, f"{mode} output shape", expected_shape, seen.shape)
    bias = layer_bias(model)
    rows = 8
    expected = dense_closed_form(to_numpy(x).reshape(-1, shape.units_in)[:rows], to_numpy(model.kernel),
                                 None if bias is None else to_numpy(bias))
    assert_close(seen.reshape(-1, shape.units_out)[:rows], expected, f"{mode} output (first {rows} rows)",
                 rtol=1e-4, atol=1e-4, hint="the benchmark only times implementations that compute inputs @ kernel + bias")


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
    _check_output(result, mode, model, shape, x)


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

