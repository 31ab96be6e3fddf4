"""The benchmark contenders under TensorFlow, built and wrapped for timing, and the check that a timed call
computed a dense layer.

Shared by the benchmark module (``spec_tests/test_benchmarks.py``) and the
paired timing (:mod:`~spec_tests.harness.bench.paired`). Imports TensorFlow.
:func:`backend_contenders` picks this module or :mod:`.contenders_jax` by the
Keras backend; both offer ``as_input``, ``make_contender``, ``timed_fn`` and
``peak_call``, which :func:`row_builder` and :func:`quick_call` use.
"""

from __future__ import annotations

import math
import time

import numpy as np
import tensorflow as tf

from spec_tests import generation
from spec_tests.harness.bench.cases import PEAK_N, Shape
from spec_tests.harness.bench.checks import LEARNING_RATE, check_peak
from spec_tests.helpers import assert_close, dense_closed_form, expect_that, layer_bias, random_array, to_numpy


def keras_backend() -> str:
    """The Keras backend of this process: ``tensorflow`` (always, under legacy Keras 2) or ``jax``."""
    return "tensorflow" if generation.LEGACY else generation.keras.backend.backend()


def backend_contenders():
    """The contenders module of this process's Keras backend."""
    if keras_backend() == "jax":
        from spec_tests.harness.bench import contenders_jax

        return contenders_jax
    import sys

    return sys.modules[__name__]



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
        expect_that(not missing, "gradients of the training step", "a gradient for every trainable variable",
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
    # A pre-batched dataset, built once: Keras's array adapter would rebuild a tf.data pipeline on every call
    # (about half of a small predict call), adding the same cost to impl and Dense and only noise to their ratio.
    dataset = tf.data.Dataset.from_tensor_slices(data).batch(shape.batch[0])
    return lambda: keras_model.predict(dataset, verbose=0)


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


as_input = tf.constant


def row_builder(layer_cls, profile: str, mode: str, shape: Shape):
    """``build(contender) -> (call, check)`` for :func:`~spec_tests.harness.bench.paired.measure_row`, on this
    process's backend."""
    module = backend_contenders()
    x = module.as_input(random_array(shape.input_shape, seed=1))

    def build(contender):
        model = module.make_contender(contender, layer_cls, profile, shape, x)
        call = module.timed_fn(mode, contender, model, shape, x)
        return call, lambda result: check_output(result, mode, model, shape, x)

    return build


def quick_call(layer_cls, profile: str, mode: str, shape: Shape, contender: str) -> None:
    """Quick mode: build one contender, call it once, check its output (nothing timed)."""
    call, check_result = row_builder(layer_cls, profile, mode, shape)(contender)
    check_result(call())


def peak_call():
    """One ``PEAK_N``-square matmul, ready to time, and its check."""
    a = tf.fill((PEAK_N, PEAK_N), 0.5)  # the values do not change a matmul's speed
    b = tf.fill((PEAK_N, PEAK_N), 0.25)
    return (lambda: tf.matmul(a, b)), check_peak


def time_peak(benchmark, call, budget: float = 0.5) -> object:
    """Warm the peak matmul up, then time 3 to 10 rounds of it (0.5 s when the machine allows; once in quick mode)."""
    if benchmark.disabled:
        return benchmark(call)
    call()
    start = time.perf_counter()
    call()
    rounds = max(3, min(10, math.ceil(budget / max(time.perf_counter() - start, 1e-9))))
    return benchmark.pedantic(call, rounds=rounds, iterations=1)


def check_output(result, mode: str, model, shape: Shape, x) -> None:
    """The timed function computed ``x @ kernel + bias`` (checked on a few rows, outside the timing)."""
    if mode == "train_step":
        expect_that(np.isfinite(float(result)), f"{mode} loss", "a finite number", float(result))
        return
    expected_shape = shape.input_shape[:-1] + (shape.units_out,)
    if mode == "predict":
        expected_shape = (shape.batch[0] * shape.predict_batches,) + expected_shape[1:]
    seen = to_numpy(result)
    expect_that(seen.shape == expected_shape, f"{mode} output shape", expected_shape, seen.shape)
    bias = layer_bias(model)
    rows = 8
    expected = dense_closed_form(to_numpy(x).reshape(-1, shape.units_in)[:rows], to_numpy(model.kernel),
                                 None if bias is None else to_numpy(bias))
    assert_close(seen.reshape(-1, shape.units_out)[:rows], expected, f"{mode} output (first {rows} rows)",
                 rtol=1e-4, atol=1e-4, hint="the benchmark only times implementations that compute inputs @ kernel + bias")


__all__ = [
    "LEARNING_RATE", "RawDense", "as_input", "backend_contenders", "check_output", "check_peak", "keras_backend", "make_contender",
    "peak_call", "quick_call", "row_builder", "time_peak", "timed_fn",
]
