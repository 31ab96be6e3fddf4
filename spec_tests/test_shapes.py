"""Shapes: ``(..., input_dim)`` in, ``(..., units)`` out, eagerly, symbolically and in ``compute_output_shape``."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec_tests.generation import keras
from spec_tests.helpers import (
    assert_close,
    assert_shape,
    expect_that,
    expected_output,
    random_array,
    succeed,
    to_numpy,
)

RANK_HINT = ("contract only the last axis: tf.tensordot(inputs, kernel, [[rank - 1], [0]]) or keras.ops.matmul; "
             "an einsum like 'bi,ij->bj' or a reshape to (batch, -1) only works for rank 2")
SHAPE_HINT = "compute_output_shape must return input_shape[:-1] + (units,) for every rank"
DYNAMIC_HINT = ("read sizes that are unknown until run time with tf.shape(inputs) or keras.ops.shape(inputs), not "
                "inputs.shape: a model of sequences of any length traces call with the time axis None")


def _case(shape, units, seed=False):
    marks = [pytest.mark.seed] if seed else []
    return pytest.param(shape, units, marks=marks, id=f"{shape}->units={units}")


# Rank-2 cases are the tutorial's contract; ranks 3 and 4 are Dense's.
EAGER_CASES = [
    _case((2, 4), 3, seed=True),
    _case((5, 1), 2, seed=True),
    _case((3, 6), 1, seed=True),
    _case((2, 3, 4), 3),
    _case((4, 1, 2), 5),
    _case((2, 3, 2, 4), 3),
    _case((1, 2, 1, 3), 2),
]
EDGE_BATCHES = [
    _case((0, 4), 3, seed=True),
    _case((1, 4), 3, seed=True),
    _case((0, 2, 4), 3),
    _case((1, 1, 4), 3),
    _case((2, 0, 4), 3),
]
SYMBOLIC_CASES = [(4,), (3, 4), (2, 3, 4)]
# compute_output_shape is Dense's contract, not the tutorial's: the same shapes, unmarked.
SHAPE_METHOD_CASES = [pytest.param(*case.values, id=case.id) for case in EAGER_CASES]


def _static_shape(shape) -> tuple:
    """A shape as a tuple of ints/None, whether Keras gave a tuple or a ``TensorShape``."""
    dims = getattr(shape, "as_list", None)
    return tuple(dims()) if dims is not None else tuple(shape)


def _expected(shape, units) -> tuple:
    return tuple(shape)[:-1] + (units,)


@pytest.mark.parametrize("shape, units", EAGER_CASES)
def test_output_shape_is_leading_dims_then_units(make_layer, shape, units):
    """An input of shape ``(..., input_dim)`` and rank 2 to 4 gives an output of shape ``(..., units)``."""
    layer = make_layer(units)
    x = random_array(shape)
    try:
        y = layer(x)
    except Exception as exc:  # noqa: BLE001 - the failure itself is the finding
        raise AssertionError(f"call on a {shape} input: expected an output of shape {_expected(shape, units)}, "
                             f"seen {type(exc).__name__}: {exc}\nhint: {RANK_HINT}") from exc
    assert_shape(y, _expected(shape, units), f"output shape for a {shape} input", RANK_HINT)


@pytest.mark.parametrize("shape, units", EDGE_BATCHES)
def test_empty_and_single_batches_work(make_layer, shape, units):
    """Batches of size 0 and 1 (in any leading axis) give outputs of shape ``(..., units)``."""
    layer = make_layer(units)
    try:
        y = layer(random_array(shape))
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"call on a {shape} input: expected an output of shape {_expected(shape, units)}, "
                             f"seen {type(exc).__name__}: {exc}\n"
                             "hint: do not squeeze or infer the batch size; reshape with explicit dimensions") from exc
    assert_shape(y, _expected(shape, units), f"output shape for a {shape} input")


@pytest.mark.parametrize("feature_shape", SYMBOLIC_CASES, ids=lambda s: f"Input{s}")
def test_symbolic_input_builds_a_functional_model(make_layer, feature_shape):
    """Calling the layer on a ``keras.Input`` gives a symbolic output from which a functional ``Model`` is built."""
    units = 3
    inputs = keras.Input(feature_shape)
    layer = make_layer(units)
    try:
        outputs = layer(inputs)
        model = keras.Model(inputs, outputs)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"functional model on keras.Input({feature_shape}): expected a Model, seen "
                             f"{type(exc).__name__}: {exc}\nhint: use only TensorFlow/Keras ops in call and "
                             "implement compute_output_shape") from exc
    expected = (None,) + _expected(feature_shape, units)
    expect_that(_static_shape(outputs.shape) == expected, "symbolic output shape", expected, _static_shape(outputs.shape),
                SHAPE_HINT)
    x = random_array((2,) + feature_shape)
    y = model(x)
    assert_shape(y, (2,) + _expected(feature_shape, units), "output shape of the functional model on a batch of 2")
    assert_close(y, layer(x), "functional model output versus a direct call of the layer")


def _padded_batch(x):
    """``x`` ``(batch, steps, features)`` as one padded ``tf.data`` batch, whose steps are unknown until run time.

    Keras 3 takes a ``tf.data.Dataset`` on every backend (JAX included), so the clause needs no TensorFlow backend.
    """
    return tf.data.Dataset.from_tensor_slices(x).padded_batch(len(x), padded_shapes=[None, x.shape[-1]])


def test_sequences_of_any_length_work_in_a_model(make_layer):
    """A model on ``keras.Input((None, input_dim))`` has the symbolic output ``(None, None, units)`` and predicts padded batches of two lengths as the layer computes them eagerly."""
    layer = make_layer(3)
    inputs = keras.Input((None, 4))
    outputs = succeed(lambda: layer(inputs), "the layer on keras.Input((None, 4))", "a symbolic output", DYNAMIC_HINT)
    expect_that(_static_shape(outputs.shape) == (None, None, 3), "symbolic output shape on keras.Input((None, 4))",
                (None, None, 3), _static_shape(outputs.shape), SHAPE_HINT)
    model = keras.Model(inputs, outputs)
    for steps in (5, 2):
        x = random_array((2, steps, 4), seed=steps)
        y = succeed(lambda: model.predict(_padded_batch(x), verbose=0),
                    f"model.predict on a padded batch of {steps} steps", f"outputs of shape {(2, steps, 3)}", DYNAMIC_HINT)
        assert_close(y, layer(x), f"model.predict on a padded batch of {steps} steps versus the eager layer",
                     rtol=1e-5, atol=1e-6, hint=DYNAMIC_HINT)


@pytest.mark.parametrize("shape, units", SHAPE_METHOD_CASES)
def test_compute_output_shape_agrees_with_eager_call(make_layer, shape, units):
    """``compute_output_shape(input_shape)`` equals the shape of the eager output for the same input shape."""
    layer = make_layer(units)
    y = layer(random_array(shape))
    computed = _static_shape(layer.compute_output_shape(shape))
    expect_that(computed == tuple(y.shape), f"compute_output_shape({shape})", tuple(y.shape), computed, SHAPE_HINT)


@pytest.mark.parametrize("feature_shape", SYMBOLIC_CASES, ids=lambda s: f"Input{s}")
def test_compute_output_shape_agrees_with_symbolic_call(make_layer, feature_shape):
    """``compute_output_shape`` with an unknown batch equals the shape of the symbolic output."""
    layer = make_layer(3)
    outputs = layer(keras.Input(feature_shape))
    input_shape = (None,) + feature_shape
    computed = _static_shape(layer.compute_output_shape(input_shape))
    seen = _static_shape(outputs.shape)
    expect_that(computed == seen, f"compute_output_shape({input_shape})", seen, computed, SHAPE_HINT)


def test_compute_output_shape_before_build(make_layer):
    """``compute_output_shape`` works on an unbuilt layer and leaves it unbuilt."""
    layer = make_layer(4)
    computed = _static_shape(layer.compute_output_shape((None, 2, 7)))
    expect_that(computed == (None, 2, 4), "compute_output_shape((None, 2, 7)) before build", (None, 2, 4), computed,
                SHAPE_HINT)


@settings(max_examples=15, deadline=None, derandomize=True, print_blob=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    leading=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=3),
    input_dim=st.integers(min_value=1, max_value=5),
    units=st.integers(min_value=1, max_value=5),
)
def test_shape_and_value_property(make_layer, leading, input_dim, units):
    """Any input of rank 2 to 4 gives ``x @ W + b``, shaped ``(..., units)`` as ``compute_output_shape`` says."""
    shape = tuple(leading) + (input_dim,)
    layer = make_layer(units)
    x = random_array(shape, seed=sum(shape))
    y = layer(x)
    assert_shape(y, _expected(shape, units), f"output shape for a {shape} input", RANK_HINT)
    expected = expected_output(layer, x)
    assert_close(y, expected, f"output for a {shape} input versus x @ kernel + bias", rtol=1e-5, atol=1e-5)
    computed = _static_shape(layer.compute_output_shape(shape))
    expect_that(computed == tuple(y.shape), f"compute_output_shape({shape})", tuple(y.shape), computed, SHAPE_HINT)
    expect_that(np.isfinite(to_numpy(y)).all(), "output values", "all finite", "non-finite values")
