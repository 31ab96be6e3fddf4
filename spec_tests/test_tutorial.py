"""Tutorial transcript: what the TensorFlow "Custom layers" tutorial printed for ``MyDenseLayer(10)`` holds for the class.

The tutorial runs::

    layer = MyDenseLayer(10)
    _ = layer(tf.zeros([10, 5]))
    print([var.name for var in layer.trainable_variables])   # ['my_dense_layer_3/kernel:0']

as the fourth ``MyDenseLayer`` of its session. Every clause here belongs to the seed profile.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from spec_tests import backend
from spec_tests.helpers import (
    assert_close,
    assert_shape,
    dtype_name,
    expect_that,
    expected_output,
    kernel_of,
    random_array,
    to_numpy,
    variable_labels,
)

BATCH, FEATURES, UNITS = 10, 5, 10
GLOROT_BOUND = math.sqrt(6.0 / (FEATURES + UNITS))  # about 0.632 for a 5 -> 10 kernel
ADD_WEIGHT_HINT = ('create the kernel with self.add_weight(name="kernel", shape=(input_dim, num_outputs)): every '
                   "argument by keyword (Keras 3's add_variable takes shape first, hence \"got multiple values for "
                   "argument 'shape'\")")


def _tutorial_layer(make_layer):
    """``MyDenseLayer(10)`` called on ``tf.zeros([10, 5])``, as in the tutorial; returns the layer and its output."""
    layer = make_layer(UNITS)
    try:
        output = layer(backend.tensor(np.zeros([BATCH, FEATURES], "float32")))  # the tutorial's tf.zeros
    except TypeError as exc:
        raise AssertionError(f"Cls(10)(tf.zeros([10, 5])): expected an output, seen TypeError: {exc}\n"
                             f"hint: {ADD_WEIGHT_HINT}") from exc
    return layer, output


@pytest.mark.seed
def test_call_on_zeros_gives_float32_zeros(make_layer):
    """``Cls(10)(tf.zeros([10, 5]))`` is a ``(10, 10)`` float32 tensor of zeros."""
    _, output = _tutorial_layer(make_layer)
    assert_shape(output, (BATCH, UNITS), "output shape of Cls(10)(tf.zeros([10, 5]))")
    expect_that(dtype_name(output.dtype) == "float32", "output dtype", "float32", dtype_name(output.dtype),
                "create weights and compute in the layer's dtype (float32 by default); do not cast to float64")
    assert_close(output, np.zeros((BATCH, UNITS)), "output of Cls(10)(tf.zeros([10, 5]))", rtol=0, atol=0,
                 hint="zeros times any kernel is zero; a non-zero output means a non-zero default bias or an offset")


@pytest.mark.seed
def test_trainable_variables_list_the_kernel(make_layer):
    """After the call, ``trainable_variables`` lists the kernel, of shape ``(5, 10)``."""
    layer, _ = _tutorial_layer(make_layer)
    variables = layer.trainable_variables
    expect_that(any(v is kernel_of(layer) for v in variables), "layer.kernel in layer.trainable_variables", True,
                variable_labels(variables), "create the kernel with add_weight(..., trainable=True)")
    expect_that(tuple(kernel_of(layer).shape) == (FEATURES, UNITS), "kernel shape", (FEATURES, UNITS),
                tuple(kernel_of(layer).shape), "the kernel is (input_dim, num_outputs): (5, 10) here")
    expect_that(dtype_name(kernel_of(layer).dtype) == "float32", "kernel dtype", "float32", dtype_name(kernel_of(layer).dtype))


@pytest.mark.seed
def test_kernel_values_inside_glorot_uniform_bound(make_layer, own_default):
    """Every kernel value lies inside the glorot-uniform bound ``sqrt(6 / (fan_in + fan_out))``."""
    if own_default("kernel_initializer"):  # another default, by design: --profile custom checks the layer honours it
        return
    layer, _ = _tutorial_layer(make_layer)
    values = to_numpy(kernel_of(layer))
    worst = float(np.abs(values).max())
    expect_that(worst <= GLOROT_BOUND, f"largest |kernel value| of a {FEATURES}->{UNITS} kernel",
                f"<= {GLOROT_BOUND:.4f} (sqrt(6 / ({FEATURES} + {UNITS})))", f"{worst:.4f}",
                'keep the default initializer ("glorot_uniform"), as add_weight and Dense do')


@pytest.mark.seed
def test_kernel_values_spread_like_glorot_uniform(make_layer, own_default):
    """The kernel's values spread like glorot-uniform ones: standard deviation near ``bound / sqrt(3)``, not constant."""
    if own_default("kernel_initializer"):  # another default, by design: --profile custom checks the layer honours it
        return
    layer, _ = _tutorial_layer(make_layer)
    values = to_numpy(kernel_of(layer)).astype(np.float64)
    expected = GLOROT_BOUND / math.sqrt(3.0)  # about 0.365
    seen = float(values.std())
    # 50 uniform draws: the sample std varies by about 6% around `expected`; +-40% is over 6 of those.
    expect_that(0.6 * expected <= seen <= 1.4 * expected, "standard deviation of the 50 kernel values",
                f"about {expected:.3f} (between {0.6 * expected:.3f} and {1.4 * expected:.3f})", f"{seen:.3f}",
                'use the default "glorot_uniform" initializer; "random_normal" (stddev 0.05), zeros or ones are not it')


@pytest.mark.seed
def test_fourth_layer_kernel_backing_name(make_layer, expected_auto_name):
    """The fourth layer made in a fresh session owns a kernel whose backing variable is ``<snake_case>_3/kernel:0``."""
    layers_made = [make_layer(UNITS) for _ in range(4)]
    layers_made[3](backend.tensor(np.zeros([BATCH, FEATURES], "float32")))
    expected = f"{expected_auto_name}_3/kernel:0"
    seen = backend.backing_name(layers_made[3].kernel)
    expect_that(seen == expected, "backing variable name of the fourth layer's kernel", expected, seen,
                'let Keras name the layer (do not set name= in __init__) and create the weight with name="kernel"')


@pytest.mark.seed
def test_call_computes_inputs_at_kernel(make_layer):
    """On a random ``(10, 5)`` input the output is ``inputs @ kernel`` (plus the bias, where the class has one)."""
    layer, _ = _tutorial_layer(make_layer)
    x = random_array((BATCH, FEATURES), seed=31)
    expected = expected_output(layer, x)
    assert_close(layer(x), expected, "output versus tf.matmul(inputs, kernel)", rtol=1e-5, atol=1e-5,
                 hint="call returns tf.matmul(inputs, self.kernel)")
