"""The benchmark contenders, built and wrapped for timing, and the check that a timed call computed a dense layer.

Shared by the benchmark module (``spec_tests/test_benchmarks.py``) and the
paired timing (:mod:`~spec_tests.harness.bench.paired`). Imports TensorFlow.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from spec_tests import generation
from spec_tests.harness.bench.cases import SLOW_CALL, Shape
from spec_tests.helpers import assert_close, check, dense_closed_form, layer_bias, to_numpy

LEARNING_RATE = 0.01


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


def check_output(result, mode: str, model, shape: Shape, x) -> None:
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


__all__ = ["LEARNING_RATE", "RawDense", "check_output", "make_contender", "run_timed", "timed_fn"]
