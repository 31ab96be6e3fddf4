"""Dtypes and mixed precision: float64 all the way, float32 weights under a mixed policy.

Int, bool and float64 inputs to a float32 layer (a float32 output equal to the closed form) are
``test_bad_input.py``'s clauses; ``dtype=`` setting the variable dtype is ``test_construction.py``'s.
"""

from __future__ import annotations

import numpy as np
import pytest

from spec_tests import backend, generation
from spec_tests.helpers import (
    COMPUTE_DTYPE_HINT,
    assert_close,
    dtype_name,
    error_text,
    expect_that,
    expected_gradients,
    expected_output,
    fail,
    kernel_and_bias,
    random_array,
    set_dense_weights,
    to_numpy,
)

keras = generation.keras

#: Mixed policies and the dtype each computes in; the variables stay float32.
COMPUTE_DTYPE = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
#: Relative tolerance for a few rounded products summed in that dtype: about 10 float16 ulps, 6 bfloat16 ulps.
MIXED_RTOL = {"float16": 1e-2, "bfloat16": 5e-2}

DTYPE_HINT = COMPUTE_DTYPE_HINT

#: Each mixed policy, set through the layer's ``dtype=`` or through the global policy.
#: Only the global policy is open to the seed profile's ``Cls(num_outputs)``.
MIXED_CASES = [
    case
    for policy in COMPUTE_DTYPE
    for case in (
        pytest.param(policy, "layer", id=f"{policy}-via-dtype-arg"),
        pytest.param(policy, "global", id=f"{policy}-via-global-policy", marks=pytest.mark.seed),
    )
]


def _mixed_layer(make_layer, policy, how, units=3):
    """A fresh layer under ``policy``, set through the layer's ``dtype=`` or the global policy."""
    if how == "global":
        keras.mixed_precision.set_global_policy(policy)  # the autouse fixture resets it to float32
        return make_layer(units)
    return make_layer(units, dtype=policy)


def _summary(exc) -> str:
    return f"{type(exc).__name__}: {' '.join(error_text(exc).split())[:300]}"


def _call_or_fail(layer, x, what):
    try:
        return layer(x)
    except backend.OP_ERRORS as exc:
        fail(what, "a result", _summary(exc), DTYPE_HINT)


# --- float64 (that dtype="float64" makes float64 weights is a construction clause) -------------


def _float64_layer(make_layer):
    """A built float64 ``4 -> 3`` layer with known random float64 weights: ``(layer, kernel, bias)``."""
    backend.require("float64_math")
    layer = make_layer(3, dtype="float64")
    layer.build((None, 4))
    kernel, bias = random_array((4, 3), 1, "float64"), random_array((3,), 2, "float64")
    set_dense_weights(layer, kernel, bias)
    return layer, kernel, bias


def test_float64_layer_computes_in_float64(make_layer):
    """A float64 layer's output is float64 and carries float64 precision (matches numpy to 1e-12)."""
    layer, kernel, bias = _float64_layer(make_layer)
    x = random_array((5, 4), 3, "float64")
    y = _call_or_fail(layer, backend.tensor(x), "float64 call")
    expect_that(dtype_name(y.dtype) == "float64", "output dtype of a float64 layer", "float64", dtype_name(y.dtype),
                "compute in self.compute_dtype; do not hard-code float32")
    assert_close(y, expected_output(layer, x, kernel=kernel, bias=bias), "float64 output against numpy", rtol=1e-12, atol=1e-12,
                 hint="an error near 1e-7 means the layer computes in float32 and casts back; compute in "
                 "self.compute_dtype")


def test_float64_layer_gradients_are_float64(make_layer):
    """The gradients of a float64 layer's weights are float64 and exact to float64 precision."""
    layer, kernel, bias = _float64_layer(make_layer)
    x, upstream = random_array((5, 4), 3, "float64"), random_array((5, 3), 4, "float64")
    _, _, grads = backend.gradients(layer, x, upstream, kernel_and_bias(layer))
    expected = expected_gradients(layer, x, upstream, kernel=kernel, bias=bias)
    for name, grad in zip(("kernel", "bias"), grads):
        expect_that(grad is not None, f"gradient of the {name}", "a float64 tensor", None)
        expect_that(dtype_name(grad.dtype) == "float64", f"dtype of the {name} gradient", "float64", dtype_name(grad.dtype))
        assert_close(grad, expected[name], f"{name} gradient against numpy", rtol=1e-10, atol=1e-12)


# --- mixed precision --------------------------------------------------------------------------


@pytest.mark.parametrize("policy, how", MIXED_CASES)
def test_mixed_precision_keeps_float32_weights(make_layer, policy, how):
    """Under a mixed policy the weights are float32 variables (the policy's variable dtype)."""
    layer = _mixed_layer(make_layer, policy, how)
    layer.build((None, 4))
    expect_that(layer.weights != [], f"weights under {policy}", "at least a kernel", [])
    for weight in layer.weights:
        expect_that(dtype_name(weight.dtype) == "float32", f"variable dtype of {weight.name} under {policy}", "float32",
                    dtype_name(weight.dtype),
                    "do not pass dtype=self.compute_dtype to add_weight: float16 variables lose the small updates")


@pytest.mark.parametrize("policy, how", MIXED_CASES)
def test_mixed_precision_outputs_in_compute_dtype(make_layer, policy, how):
    """Under a mixed policy the output has the compute dtype (float16 or bfloat16) and the float32 math's values."""
    compute = COMPUTE_DTYPE[policy]
    layer = _mixed_layer(make_layer, policy, how)
    x = random_array((6, 4), 3)
    y = _call_or_fail(layer, backend.tensor(x), f"call under {policy}")
    expect_that(dtype_name(y.dtype) == compute, f"output dtype under {policy}", compute, dtype_name(y.dtype), DTYPE_HINT)
    expected = expected_output(layer, x)
    rtol = MIXED_RTOL[compute]
    assert_close(y, expected, f"{compute} output against float64 numpy", rtol=rtol, atol=rtol * np.abs(expected).max())


@pytest.mark.parametrize("policy, how", MIXED_CASES)
def test_mixed_precision_gradients_reach_float32_variables(make_layer, policy, how):
    """Under a mixed policy every weight gets a float32 gradient with the right values."""
    compute = COMPUTE_DTYPE[policy]
    layer = _mixed_layer(make_layer, policy, how)
    x, upstream = random_array((6, 4), 3), random_array((6, 3), 4)
    _call_or_fail(layer, backend.tensor(x), f"call under {policy}")
    weights = kernel_and_bias(layer)
    _, _, grads = backend.gradients(layer, x, upstream, weights)
    expected = expected_gradients(layer, x, upstream)
    for name, grad in zip(("kernel", "bias"), grads):
        expect_that(grad is not None, f"gradient of the float32 {name} under {policy}", "a float32 tensor", None,
                    "use the weight itself in call (Keras casts it for you); a copy made in build is invisible to the tape")
        expect_that(dtype_name(grad.dtype) == "float32", f"dtype of the {name} gradient under {policy}", "float32",
                    dtype_name(grad.dtype), DTYPE_HINT)
        rtol = MIXED_RTOL[compute]
        assert_close(grad, expected[name], f"{name} gradient under {policy} against numpy", rtol=rtol,
                     atol=rtol * np.abs(expected[name]).max())


@pytest.mark.parametrize("policy, how", MIXED_CASES)
def test_loss_scale_optimizer_step_updates_float32_weights(make_layer, policy, how):
    """A ``LossScaleOptimizer(SGD)`` step on a scaled loss moves each float32 weight by ``-lr`` times its true gradient."""
    compute, lr = COMPUTE_DTYPE[policy], 0.1
    layer = _mixed_layer(make_layer, policy, how)
    x, upstream = random_array((8, 4), 3), random_array((8, 3), 4)
    _call_or_fail(layer, backend.tensor(x), f"call under {policy}")
    weights = kernel_and_bias(layer)
    before = [to_numpy(w).astype(np.float64) for w in weights]
    expected = expected_gradients(layer, x, upstream / len(x), kernel=before[0], bias=before[1] if len(before) > 1 else None)
    optimizer = keras.mixed_precision.LossScaleOptimizer(keras.optimizers.SGD(lr), initial_scale=2.0**10)
    ops = backend.ops

    def scaled_loss(inputs):
        loss = ops.sum(ops.multiply(ops.cast(layer(inputs), "float32"), upstream)) / len(x)
        return backend.scale_loss(optimizer, loss), None

    _, _, _, grads = backend.value_and_gradients(scaled_loss, x, weights)
    expect_that(all(g is not None for g in grads), f"gradients of the scaled loss under {policy}", "one per weight",
                [None if g is None else dtype_name(g.dtype) for g in grads], DTYPE_HINT)
    backend.apply_gradients(optimizer, grads, weights)
    for name, weight, old in zip(("kernel", "bias"), weights, before):
        expect_that(dtype_name(weight.dtype) == "float32", f"{name} dtype after the step", "float32", dtype_name(weight.dtype))
        step = to_numpy(weight).astype(np.float64) - old
        expect_that(np.abs(step).max() > 0, f"{name} after a LossScaleOptimizer step", "moved", "unchanged",
                    "a skipped step means non-finite gradients: keep the math in the compute dtype and the variables float32")
        rtol = MIXED_RTOL[compute]
        want = -lr * expected[name]
        assert_close(step, want, f"{name} update (new - old) under {policy}", rtol=rtol, atol=rtol * np.abs(want).max())
