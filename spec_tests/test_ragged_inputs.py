"""Ragged inputs (capability ``ragged_inputs``): a ``tf.RaggedTensor`` in gives a RaggedTensor out, row by row.

Legacy Keras 2's ``Dense`` takes a ``tf.RaggedTensor`` of shape ``(batch, None, input_dim)`` (sequences of
different lengths) and returns a RaggedTensor ``(batch, None, units)`` with the same row partitions, nested ones
included, eagerly, in ``tf.function`` and from ``keras.Input(ragged=True)``; Keras 3's ``Dense`` refuses ragged
inputs, so these clauses run on Keras 2 only, and only for a layer that claims ``ragged_inputs``. The oracle is
the layer's own output on the ragged tensor's flat values, a dense ``(n, input_dim)`` tensor.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from spec_tests.generation import keras
from spec_tests.helpers import assert_close, expect_that, fail, kernel_of, layer_bias, random_array, succeed, to_numpy

pytestmark = pytest.mark.capability("ragged_inputs")

INPUT_DIM, UNITS = 4, 3
TOL = {"rtol": 1e-5, "atol": 1e-5}
HINT = (
    "give a tf.RaggedTensor its own path in call: tf.ragged.map_flat_values(dense_call, inputs) computes on the "
    "flat values and keeps every row partition (do not pad it with to_tensor(), nor rebuild only the outer rows)"
)


def _ragged(row_lengths, seed: int, inner_lengths=None) -> tf.RaggedTensor:
    """A RaggedTensor (batch, None, input_dim) from its row lengths; with ``inner_lengths``, (batch, None, None, input_dim)."""
    rows = int(sum(inner_lengths)) if inner_lengths is not None else int(sum(row_lengths))
    values = tf.constant(random_array((rows, INPUT_DIM), seed=seed))
    if inner_lengths is not None:
        values = tf.RaggedTensor.from_row_lengths(values, inner_lengths)
    return tf.RaggedTensor.from_row_lengths(values, row_lengths)


#: Ragged inputs Dense takes, by name: one ragged dimension with an empty row, and two nested ragged dimensions.
CASES = {
    "(3, None, 4) with an empty row": lambda: _ragged([2, 0, 3], seed=51),
    "(2, None, None, 4)": lambda: _ragged([2, 1], seed=52, inner_lengths=[1, 3, 2]),
}


def _layer(make_layer):
    layer = make_layer(UNITS, activation="tanh", bias_initializer="random_normal")
    layer(np.zeros((1, INPUT_DIM), "float32"))
    return layer


def _lengths(ragged) -> list[list[int]]:
    return [to_numpy(lengths).tolist() for lengths in ragged.nested_row_lengths()]


def _check_ragged_output(layer, x, y, what: str) -> None:
    """``y`` is a RaggedTensor with ``x``'s row partitions whose values are the layer's output on ``x``'s flat values."""
    expect_that(isinstance(y, tf.RaggedTensor), f"{what}: type of the output", "a tf.RaggedTensor", type(y).__name__, HINT)
    expect_that(_lengths(y) == _lengths(x), f"{what}: nested row lengths of the output", _lengths(x), _lengths(y), HINT)
    assert_close(y.flat_values, layer(x.flat_values), f"{what}: rows versus the layer on the flat values", **TOL,
                 hint=HINT)


def _call(fn, x, what: str):
    return succeed(lambda: fn(x), what, "a RaggedTensor", HINT)


@pytest.mark.parametrize("case", list(CASES))
def test_ragged_input_gives_a_ragged_output_row_by_row(make_layer, case):
    """A ``tf.RaggedTensor`` gives a RaggedTensor with the same nested row lengths, each row what the layer computes for it as a dense input."""
    layer, x = _layer(make_layer), CASES[case]()
    _check_ragged_output(layer, x, _call(layer, x, f"layer(tf.RaggedTensor {case})"), f"ragged {case}")


def test_ragged_input_works_inside_tf_function(make_layer):
    """Inside ``tf.function`` (a ``tf.RaggedTensorSpec`` signature) a ragged input gives the eager result."""
    layer = _layer(make_layer)
    spec = tf.RaggedTensorSpec([None, None, INPUT_DIM], tf.float32, ragged_rank=1)
    traced = tf.function(lambda x: layer(x), input_signature=[spec])
    x = CASES["(3, None, 4) with an empty row"]()
    _check_ragged_output(layer, x, _call(traced, x, "tf.function(layer)(tf.RaggedTensor)"), "ragged in tf.function")


def test_ragged_input_gradients_equal_those_of_its_flat_values(make_layer):
    """The gradients w.r.t. kernel and bias for a ragged input equal those for its flat values as a dense input."""
    layer = _layer(make_layer)
    x = CASES["(3, None, 4) with an empty row"]()
    upstream = random_array((int(x.flat_values.shape[0]), UNITS), seed=53)

    def gradients(inputs, values_of):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(values_of(layer(inputs)) * upstream)
        return tape.gradient(loss, [kernel_of(layer), layer_bias(layer)])

    seen = _call(lambda r: gradients(r, lambda y: y.flat_values if isinstance(y, tf.RaggedTensor) else y), x,
                 "gradients for a ragged input")
    expected = gradients(x.flat_values, lambda y: y)
    for name, s, e in zip(("kernel", "bias"), seen, expected):
        if s is None:
            fail(f"dL/d{name} for a ragged input", "a gradient, as for its flat values", None, HINT)
        assert_close(tf.convert_to_tensor(s), tf.convert_to_tensor(e),
                     f"dL/d{name} for a ragged input versus its flat values", **TOL, hint=HINT)


def test_ragged_input_model_keeps_the_rows(make_layer):
    """A model on ``keras.Input(shape=(None, input_dim), ragged=True)`` returns a RaggedTensor with the input's rows."""
    inputs = keras.Input(shape=(None, INPUT_DIM), ragged=True)
    layer = make_layer(UNITS, bias_initializer="random_normal")
    model = succeed(lambda: keras.Model(inputs, layer(inputs)), "a functional model on keras.Input(ragged=True)",
                    "a model", HINT)
    x = CASES["(3, None, 4) with an empty row"]()
    _check_ragged_output(layer, x, _call(model, x, "model(tf.RaggedTensor)"), "functional model on a ragged input")
