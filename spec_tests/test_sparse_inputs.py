"""Sparse inputs (capability ``sparse_inputs``): a ``tf.SparseTensor`` in gives what the same input made dense gives.

``keras.layers.Dense`` takes a rank-2 ``tf.SparseTensor`` (sparse bag-of-words or TF-IDF features) and returns
the dense ``(batch, units)`` result, on Keras 3 with TensorFlow and on legacy Keras 2. It accepts indices in any
order, and repeated indices add up (measured on both generations). These clauses run only for a layer that
claims ``sparse_inputs``. The oracle is the layer's own output on the same input made dense (the core clauses
check that one against ``Dense``), so a failure here is about the sparse path alone.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from spec_tests.generation import keras
from spec_tests.helpers import assert_close, expect_that, fail, kernel_of, layer_bias, random_array, succeed, to_numpy

pytestmark = pytest.mark.capability("sparse_inputs")

INPUT_DIM, UNITS, BATCH = 6, 3, 4
TOL = {"rtol": 1e-5, "atol": 1e-5}
HINT = (
    "give a tf.SparseTensor its own path in call: tf.sparse.sparse_dense_matmul(inputs, kernel) (it sums repeated "
    "indices and accepts any order), then add the bias and apply the activation as for dense inputs"
)


def _canonical() -> tf.SparseTensor:
    x = random_array((BATCH, INPUT_DIM), seed=41)
    return tf.sparse.from_dense(np.where(np.abs(x) > 0.6, x, 0.0).astype("float32"))


def _sparse(entries) -> tf.SparseTensor:
    """A SparseTensor from ``[(row, column, value), ...]`` exactly as given: order and repeats kept."""
    indices = [[row, column] for row, column, _ in entries]
    values = np.array([value for *_, value in entries], "float32")
    return tf.SparseTensor(indices=tf.constant(indices, tf.int64), values=values, dense_shape=[BATCH, INPUT_DIM])


#: Sparse inputs Dense accepts, by name. Rows 0-3 of a batch of 4; "an empty row" leaves row 2 without entries.
CASES = {
    "canonical order": _canonical,
    "unordered indices": lambda: _sparse([(3, 5, 1.5), (0, 1, -2.0), (2, 0, 0.5), (0, 0, 1.0), (1, 4, 3.0)]),
    "repeated indices add up": lambda: _sparse([(0, 1, 1.0), (0, 1, 2.0), (1, 3, -1.0), (3, 2, 0.5), (3, 2, 0.25)]),
    "an empty row": lambda: _sparse([(0, 0, 1.0), (1, 5, -1.0), (3, 3, 2.0)]),
}


def made_dense(sparse: tf.SparseTensor) -> np.ndarray:
    """The dense matrix a SparseTensor stands for, as ``Dense`` reads it: repeated indices add up."""
    dense = np.zeros(to_numpy(sparse.dense_shape), "float32")
    np.add.at(dense, tuple(to_numpy(sparse.indices).T), to_numpy(sparse.values))
    return dense


def _layer(make_layer):
    layer = make_layer(UNITS, activation="tanh", bias_initializer="random_normal")
    layer(np.zeros((1, INPUT_DIM), "float32"))
    return layer


def _call(fn, x, what: str):
    y = succeed(lambda: fn(x), what, "a dense output", HINT)
    expect_that(not isinstance(y, (tf.SparseTensor, tf.RaggedTensor)), f"{what}: type of the output", "a dense tensor",
                type(y).__name__, HINT)
    return y


def _dense_gradients(layer, x, upstream):
    """Gradients of ``sum(layer(x) * upstream)`` w.r.t. kernel and bias, as dense arrays (IndexedSlices densified)."""
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) * upstream)
    grads = tape.gradient(loss, [kernel_of(layer), layer_bias(layer)])
    return [None if g is None else to_numpy(tf.convert_to_tensor(g)) for g in grads]


@pytest.mark.parametrize("case", list(CASES))
def test_sparse_input_gives_the_output_of_the_input_made_dense(make_layer, case):
    """A rank-2 ``tf.SparseTensor`` gives a dense ``(batch, units)`` output equal to the output for the same input made dense (indices in any order, repeated indices added)."""
    layer, x = _layer(make_layer), CASES[case]()
    y = _call(layer, x, f"layer(tf.SparseTensor) ({case})")
    assert_close(y, layer(made_dense(x)), f"output for a SparseTensor ({case}) versus the input made dense", **TOL,
                 hint=HINT)


def test_sparse_input_gradients_equal_those_of_the_input_made_dense(make_layer):
    """The gradients w.r.t. kernel and bias for a ``tf.SparseTensor`` input equal those for the input made dense."""
    layer = _layer(make_layer)
    x = CASES["repeated indices add up"]()
    upstream = random_array((BATCH, UNITS), seed=42)
    _call(layer, x, "layer(tf.SparseTensor)")
    seen, expected = _dense_gradients(layer, x, upstream), _dense_gradients(layer, made_dense(x), upstream)
    for name, s, e in zip(("kernel", "bias"), seen, expected):
        if s is None:
            fail(f"dL/d{name} for a SparseTensor input", "a gradient, as for the input made dense", None, HINT)
        assert_close(s, e, f"dL/d{name} for a SparseTensor input versus the input made dense", **TOL, hint=HINT)


def test_sparse_input_works_inside_tf_function(make_layer):
    """Inside ``tf.function`` (a ``tf.SparseTensorSpec`` signature, any number of entries) a sparse input gives the eager output."""
    layer = _layer(make_layer)
    traced = tf.function(lambda x: layer(x), input_signature=[tf.SparseTensorSpec([None, INPUT_DIM], tf.float32)])
    for case in ("canonical order", "repeated indices add up"):
        x = CASES[case]()
        y = _call(traced, x, f"tf.function(layer)(tf.SparseTensor) ({case})")
        assert_close(y, layer(made_dense(x)), f"tf.function output for a SparseTensor ({case})", **TOL,
                     hint=HINT + "; in a graph use tf ops only (no .numpy(), no Python ints from dense_shape)")


def test_sparse_input_model_predicts_and_trains(make_layer):
    """A model on ``keras.Input(shape=(input_dim,), sparse=True)`` predicts what the layer computes for the input made dense, and ``fit`` on sparse data trains it."""
    inputs = keras.Input(shape=(INPUT_DIM,), sparse=True)
    layer = make_layer(UNITS, bias_initializer="random_normal")
    model = succeed(lambda: keras.Model(inputs, layer(inputs)), "a functional model on keras.Input(sparse=True)",
                    "a model", HINT)
    x = CASES["canonical order"]()
    y = _call(lambda s: model.predict(s, verbose=0), x, "model.predict(tf.SparseTensor)")
    assert_close(y, layer(made_dense(x)), "model.predict on a SparseTensor versus the layer on the input made dense",
                 **TOL, hint=HINT)
    kernel = to_numpy(kernel_of(layer)).copy()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    history = model.fit(x, random_array((BATCH, UNITS), seed=43), epochs=1, batch_size=BATCH, verbose=0)
    loss = history.history["loss"][0]
    expect_that(np.isfinite(loss), "fit on a SparseTensor: loss", "finite", loss, HINT)
    expect_that(not np.array_equal(to_numpy(kernel_of(layer)), kernel), "kernel after fit on a SparseTensor", "changed",
                "unchanged", "the sparse path must use self.kernel itself so that its gradient reaches the optimizer")
