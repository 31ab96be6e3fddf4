"""Bias: a ``(units,)`` vector, zeros unless told otherwise, added after the matmul and before the activation."""

from __future__ import annotations

import numpy as np
import pytest

from spec_tests import forward
from spec_tests.generation import keras
from spec_tests.helpers import (
    assert_close,
    expect_that,
    expected_output,
    layer_bias,
    random_array,
    random_inputs,
    set_dense_weights,
    to_numpy,
    weight_names,
)

ADD_HINT = ("compute activation(inputs @ kernel + bias): add the bias (tf.nn.bias_add or +) after the matmul and "
            "before the activation")
INIT_HINT = 'pass initializer=self.bias_initializer to add_weight for the bias; the default is "zeros"'


def _built(layer, shape=(2, 4)):
    layer(random_inputs(shape))
    return layer


@pytest.mark.parametrize("units", [1, 3, 7])
def test_bias_is_zeros_of_shape_units_by_default(make_layer, units, own_default):
    """By default the bias has shape ``(units,)`` and every value is zero."""
    if own_default("bias_initializer"):  # another default, by design: --profile custom checks the layer honours it
        return
    layer = _built(make_layer(units))
    expect_that(tuple(layer_bias(layer).shape) == (units,), "bias shape", (units,), tuple(layer_bias(layer).shape),
                "the bias has one entry per output unit: shape (units,)")
    assert_close(layer_bias(layer), np.zeros(units), "default bias values", rtol=0, atol=0, hint=INIT_HINT)


@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 2, 2, 4)], ids=str)
def test_bias_shape_does_not_depend_on_input_rank(make_layer, shape):
    """Built from an input of rank > 2, the bias still has shape ``(units,)``."""
    layer = _built(make_layer(3), shape)
    expect_that(tuple(layer_bias(layer).shape) == (3,), f"bias shape after a {shape} input", (3,), tuple(layer_bias(layer).shape))


@pytest.mark.parametrize(
    "initializer, expected, label",
    [
        pytest.param("ones", lambda shape: np.ones(shape), "ones", id="ones"),
        pytest.param(lambda: keras.initializers.Constant(-2.5), lambda shape: np.full(shape, -2.5), "Constant(-2.5)",
                     id="Constant(-2.5)"),
        pytest.param(lambda: {"class_name": "Constant", "config": {"value": 0.75}}, lambda shape: np.full(shape, 0.75),
                     "config dict Constant(0.75)", id="config-dict"),
    ],
)
def test_bias_initializer_is_honoured(make_layer, initializer, expected, label):
    """``bias_initializer`` sets the bias's initial values."""
    value = initializer() if callable(initializer) else initializer
    layer = _built(make_layer(4, bias_initializer=value))
    assert_close(layer_bias(layer), expected((4,)), f"bias values with bias_initializer={label}", rtol=0, atol=0,
                 hint=INIT_HINT)


def test_random_bias_initializer_is_honoured(make_layer):
    """A random ``bias_initializer`` gives values in its own range, different from the default zeros."""
    initializer = keras.initializers.RandomUniform(minval=2.0, maxval=3.0, seed=7)
    layer = _built(make_layer(16, bias_initializer=initializer))
    values = to_numpy(layer_bias(layer))
    expect_that(bool(((values >= 2.0) & (values <= 3.0)).all()), "bias values with RandomUniform(2, 3)", "all in [2, 3]",
                f"min {values.min():.3g}, max {values.max():.3g}", INIT_HINT)
    expect_that(len(np.unique(values)) > 1, "bias values with RandomUniform(2, 3)", "not all equal", values[:4])


def test_fixed_case_bias_is_added_before_relu(make_layer):
    """Kernel ``[[1,-2],[3,-4]]``, bias ``[5,-6]`` and relu map ``[[-1,2]]`` to ``[[10,0]]`` (Keras's own dense test)."""
    layer = make_layer(2, activation="relu")
    layer.build((None, 2))
    set_dense_weights(layer, [[1.0, -2.0], [3.0, -4.0]], [5.0, -6.0])
    x = np.array([[-1.0, 2.0]], dtype="float32")
    y = layer(x)
    # x @ W = [[5, -6]]; + b = [[10, -12]]; relu = [[10, 0]] (with declared effective weights: theirs).
    expected = expected_output(layer, x, "relu") if forward.current().declared else [[10.0, 0.0]]
    assert_close(y, expected, "relu([[-1, 2]] @ [[1, -2], [3, -4]] + [5, -6])", hint=ADD_HINT)


@pytest.mark.parametrize("activation", [None, "relu", "tanh"], ids=lambda a: f"activation={a}")
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)], ids=lambda s: f"x{s}")
def test_bias_is_added_closed_form(make_layer, activation, shape):
    """With random weights and a random non-zero bias, the output is ``activation(x @ W + b)``."""
    layer = make_layer(3, activation=activation)
    layer.build((None, 4))
    kernel, bias = random_array((4, 3), seed=1), random_array((3,), seed=2, scale=2.0)
    set_dense_weights(layer, kernel, bias)
    x = random_array(shape, seed=3)
    expected = expected_output(layer, x, activation, kernel, bias)
    assert_close(layer(x), expected, f"output with activation={activation} versus activation(x @ W + b)",
                 rtol=1e-5, atol=1e-5, hint=ADD_HINT)


@pytest.mark.parametrize("delta", [1.0, -3.0])
def test_shifting_the_bias_shifts_the_linear_output(make_layer, delta):
    """Without activation, adding ``delta`` to every bias entry adds exactly ``delta`` to every output."""
    layer = _built(make_layer(3))
    x = random_inputs((4, 4), seed=5)
    before, effective_before = to_numpy(layer(x)), forward.effective_weights(layer)[1]
    layer_bias(layer).assign(to_numpy(layer_bias(layer)) + np.float32(delta))
    shift = forward.effective_weights(layer)[1] - effective_before if forward.current().declared else delta
    assert_close(to_numpy(layer(x)) - before, np.broadcast_to(shift, before.shape), f"output change after bias += {delta}",
                 rtol=1e-5, atol=1e-5, hint=ADD_HINT)


def test_no_bias_without_use_bias(make_layer):
    """With ``use_bias=False``, ``layer.bias`` is None and the only weight is the kernel."""
    layer = _built(make_layer(3, use_bias=False))
    expect_that(layer_bias(layer) is None, "layer.bias with use_bias=False", None, type(layer_bias(layer)).__name__,
                "set self.bias = None in build when use_bias is False")
    expect_that(weight_names(layer) == ["kernel"], "weights with use_bias=False", ["kernel"], weight_names(layer))


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)], ids=lambda s: f"x{s}")
def test_output_without_bias_is_x_at_kernel(make_layer, shape):
    """With ``use_bias=False`` the output is exactly ``x @ W``."""
    layer = make_layer(3, use_bias=False)
    layer.build((None, 4))
    kernel = random_array((4, 3), seed=1)
    set_dense_weights(layer, kernel)
    x = random_array(shape, seed=3)
    assert_close(layer(x), expected_output(layer, x, kernel=kernel), "output with use_bias=False versus x @ W", rtol=1e-5,
                 atol=1e-5, hint="with use_bias=False, add nothing after the matmul")
