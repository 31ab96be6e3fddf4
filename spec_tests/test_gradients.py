"""Gradients (backprop): the gradients of ``L = sum(y * g)`` equal the closed forms of a dense layer.

The backend computes them (``spec_tests/backend.py``): TensorFlow's ``GradientTape``, ``jax.grad`` over the
layer with its variables' values passed in, or torch's autograd; the rules are the same on each.

For ``y = x @ W + b`` and an upstream gradient ``g = dL/dy``: ``dL/dW = x^T g``,
``dL/db = sum g`` over every leading axis, ``dL/dx = g W^T``. With an activation,
``g`` is first multiplied by ``activation'(x @ W + b)``. A layer that declares effective weights
(``spec_tests/forward.py``) is held to the same closed forms with those weights, carried to its stored weights by
the gradient it declares (the straight-through estimator by default); every message says which gradient it checked.
"""

from __future__ import annotations

import numpy as np
import pytest

from spec_tests import backend, forward
from spec_tests.generation import keras
from spec_tests.helpers import (
    assert_close,
    dtype_name,
    each_configuration,
    require_effective_weights,
    expect_that,
    expected_gradients,
    fail,
    gradient_hint,
    kernel_of,
    layer_bias,
    NUMPY_ACTIVATIONS,
    random_array,
    set_dense_weights,
    to_numpy,
    variable_labels,
)

INPUT_DIM, UNITS = 4, 3
TOL = {"rtol": 1e-5, "atol": 1e-5}
# Rank-2 inputs are the tutorial's contract; higher ranks are Dense's.
RANK_CASES = [
    pytest.param((5, INPUT_DIM), id="x(5,4)", marks=pytest.mark.seed),
    pytest.param((1, INPUT_DIM), id="x(1,4)", marks=pytest.mark.seed),
    pytest.param((2, 3, INPUT_DIM), id="x(2,3,4)"),
    pytest.param((2, 2, 1, INPUT_DIM), id="x(2,2,1,4)"),
]
NO_GRADIENT_HINT = ("'No gradients provided for any variable' means the loss has no path to the variable: use "
                    "self.kernel/self.bias directly in call (no .numpy(), no stop_gradient, no copy made in build)")


class Setup:
    """A layer with random weights (and a random non-zero bias where it has one), an input and an upstream gradient."""

    def __init__(self, make_layer, shape, activation=None, array_dtype="float32", **kwargs):
        if activation is not None:
            kwargs["activation"] = activation
        self.activation = activation
        self.layer = make_layer(UNITS, **kwargs)
        # Built by a call, as the tutorial does (Keras 2 calls build again if build() never set `built`).
        self.layer(np.zeros((1, shape[-1]), dtype=array_dtype))
        self.kernel = random_array((shape[-1], UNITS), seed=11, dtype=array_dtype)
        bias = layer_bias(self.layer)
        self.bias = None if bias is None else random_array((UNITS,), seed=12, dtype=array_dtype)
        set_dense_weights(self.layer, self.kernel, self.bias)
        self.x = random_array(shape, seed=13, dtype=array_dtype)
        self.g = random_array(shape[:-1] + (UNITS,), seed=14, dtype=array_dtype)
        # Read now, before any step moves the weights (a declared contract reads its effective weights off them).
        self._closed_form = expected_gradients(self.layer, self.x, self.g, activation, self.kernel, self.bias)

    @property
    def variables(self):
        """The kernel, then the bias where the layer has one."""
        bias = layer_bias(self.layer)
        return [kernel_of(self.layer)] + ([] if bias is None else [bias])

    def roles(self):
        return ["kernel"] + ([] if self.bias is None else ["bias"])

    def closed_form(self) -> dict:
        """The closed-form gradients at the weights set above (``spec_tests/forward.py`` for a declared contract)."""
        return self._closed_form

    def gradients(self):
        """``(dL/dx, {role: dL/dvariable})`` from the backend's automatic differentiation."""
        _, dx, grads = backend.gradients(self.layer, self.x, self.g, self.variables)
        return dx, dict(zip(self.roles(), grads))


def _not_none(gradient, name):
    if gradient is None:
        fail(f"gradient of the loss with respect to {name}", "a tensor", None, NO_GRADIENT_HINT)
    return gradient


@pytest.mark.parametrize("shape", RANK_CASES)
def test_kernel_gradient_is_x_transpose_g(make_layer, shape):
    """``dL/dW`` equals ``x^T g`` (leading axes of ``x`` and ``g`` flattened into the batch)."""
    setup = Setup(make_layer, shape)
    _, grads = setup.gradients()
    assert_close(_not_none(grads["kernel"], "the kernel"), setup.closed_form()["kernel"],
                 f"dL/dkernel for a {shape} input versus x^T g ({forward.current().gradient_label})", **TOL,
                 hint=gradient_hint("the kernel"))


@pytest.mark.parametrize("shape", RANK_CASES)
def test_input_gradient_is_g_kernel_transpose(make_layer, shape):
    """``dL/dx`` equals ``g W^T``: what the layer passes to the layer below."""
    setup = Setup(make_layer, shape)
    dx, _ = setup.gradients()
    assert_close(_not_none(dx, "the input"), setup.closed_form()["inputs"],
                 f"dL/dx for a {shape} input versus g W^T", **TOL,
                 hint="the input gradient flows through the matmul; a custom gradient must return g @ transpose(W)")


@pytest.mark.parametrize("shape", [case.values[0] for case in RANK_CASES], ids=[case.id for case in RANK_CASES])
def test_bias_gradient_is_sum_of_upstream(make_layer, shape):
    """``dL/db`` equals ``g`` summed over every leading axis."""
    setup = Setup(make_layer, shape)
    _, grads = setup.gradients()
    assert_close(_not_none(grads["bias"], "the bias"), setup.closed_form()["bias"],
                 f"dL/dbias for a {shape} input versus sum(g)", **TOL,
                 hint="the bias is broadcast over the batch, so its gradient is a sum, not a mean; "
                      + gradient_hint("the bias"))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("shape", [(5, INPUT_DIM), (2, 3, INPUT_DIM)], ids=lambda s: f"x{s}")
def test_gradients_through_activation_follow_chain_rule(make_layer, activation, shape):
    """With an activation, every gradient uses ``g * activation'(x @ W + b)`` in place of ``g``."""
    setup = Setup(make_layer, shape, activation=activation)
    dx, grads = setup.gradients()
    expected = setup.closed_form()
    for role, seen in (("kernel", grads["kernel"]), ("bias", grads["bias"]), ("inputs", dx)):
        assert_close(_not_none(seen, role), expected[role], f"dL/d{role} with activation={activation}", **TOL,
                     hint="apply the activation last, to x @ W + b, with a differentiable keras.ops (or TensorFlow) op")


def _float64_setup(make_layer, profile, activation):
    """A small float64 layer: ``dtype="float64"``, or under the seed profile (no options) a float64 global policy."""
    backend.require("float64_math")
    if activation is not None:
        backend.require("float64_activations")
    if profile == "seed":
        keras.mixed_precision.set_global_policy("float64")  # the autouse fixture restores float32 afterwards
        return Setup(make_layer, (2, 3), array_dtype="float64")
    return Setup(make_layer, (2, 3), activation=activation, array_dtype="float64", dtype="float64")


def _loss(layer, x, g) -> float:
    return float(np.sum(to_numpy(layer(x)).astype(np.float64) * g))


def _central_differences(f, value: np.ndarray, set_value, eps: float) -> np.ndarray:
    """``(f(v + eps e_i) - f(v - eps e_i)) / 2 eps`` for every entry ``i`` of ``value``."""
    estimate = np.zeros(value.shape)
    for index in np.ndindex(value.shape):
        shifted = value.copy()
        shifted[index] = value[index] + eps
        set_value(shifted)
        up = f()
        shifted[index] = value[index] - eps
        set_value(shifted)
        estimate[index] = (up - f()) / (2 * eps)
    set_value(value)
    return estimate


@pytest.mark.parametrize("activation", [pytest.param(None, id="linear", marks=pytest.mark.seed),
                                        pytest.param("tanh", id="tanh")])
def test_gradients_match_central_finite_differences(make_layer, profile, activation):
    """In float64, every gradient matches central finite differences of the loss to 1e-6."""
    setup = _float64_setup(make_layer, profile, activation)
    layer, eps = setup.layer, 1e-6
    seen_dtype = dtype_name(layer(setup.x).dtype)
    expect_that(seen_dtype == "float64", "output dtype of a float64 layer", "float64", seen_dtype,
                "create weights and compute in the layer's dtype (self.compute_dtype), not a hard-coded float32")
    dx, grads = setup.gradients()
    state = {"x": setup.x.copy()}

    def loss():
        return _loss(layer, state["x"], setup.g)

    def set_input(value):
        state["x"] = value

    estimates = {"inputs": (dx, _central_differences(loss, setup.x.copy(), set_input, eps))}
    # Declared effective weights (a quantizer): finite differences across a quantization step mean nothing, so the
    # weights' gradients are the declared ones, which the closed-form clauses check; the input's are still exact.
    for role, variable in [] if forward.current().declared else zip(setup.roles(), setup.variables):
        estimates[role] = (grads[role], _central_differences(loss, to_numpy(variable).copy(), variable.assign, eps))
    for role, (seen, expected) in estimates.items():
        assert_close(_not_none(seen, role), expected, f"dL/d{role} versus central finite differences (eps={eps})",
                     rtol=1e-6, atol=1e-7, hint=gradient_hint(role))


@pytest.mark.parametrize("shape", [pytest.param((5, INPUT_DIM), id="x(5,4)", marks=pytest.mark.seed),
                                   pytest.param((2, 3, INPUT_DIM), id="x(2,3,4)")])
def test_gradients_are_equal_when_compiled(make_layer, shape):
    """Compiled (``tf.function``, ``jax.jit``, ``torch.compile``) the gradients equal the eager ones, and none is None."""
    setup = Setup(make_layer, shape)
    dx, grads = setup.gradients()
    traced = backend.compiled(lambda x, g: backend.gradients(setup.layer, x, g, setup.variables))
    try:
        _, graph_dx, graph_grads = traced(backend.tensor(setup.x), backend.tensor(setup.g))
    except Exception as exc:  # noqa: BLE001 - the failure itself is the finding
        raise AssertionError(f"compiled gradients: expected tensors, seen {type(exc).__name__}: {exc}\n"
                             "hint: call must be traceable: keras.ops (or TensorFlow) ops only, no Python if on "
                             "tensors, no .numpy()") from exc
    pairs = [("inputs", dx, graph_dx)] + [(role, grads[role], g) for role, g in zip(setup.roles(), graph_grads)]
    for role, eager, graph in pairs:
        _not_none(eager, f"{role} (eager)")
        assert_close(_not_none(graph, f"{role} (compiled)"), eager, f"dL/d{role} compiled versus eager",
                     **TOL)


@pytest.mark.seed
def test_no_trainable_variable_gets_a_none_gradient(make_layer):
    """Every trainable variable gets a gradient; none is None (the loss has a path to each)."""
    setup = Setup(make_layer, (5, INPUT_DIM))
    variables = setup.layer.trainable_variables
    _, _, grads = backend.gradients(setup.layer, setup.x, setup.g, variables)
    missing = [label for label, grad in zip(variable_labels(variables), grads) if grad is None]
    expect_that(not missing and variables, "trainable variables without a gradient", "none (and at least the kernel)",
                missing or "no trainable variables at all", NO_GRADIENT_HINT)


@pytest.mark.parametrize("shape", [pytest.param((5, INPUT_DIM), id="x(5,4)", marks=pytest.mark.seed),
                                   pytest.param((2, 3, INPUT_DIM), id="x(2,3,4)")])
def test_sgd_step_moves_each_weight_by_minus_lr_times_gradient(make_layer, own_default, shape):
    """One ``keras.optimizers.SGD(0.1)`` step on the gradients moves each weight by ``-0.1 * its gradient``."""
    lr = 0.1
    # A layer whose own default is a constraint (--profile custom: larq's weight_clip, say) is stepped without it.
    unconstrained = {name: None for name in ("kernel_constraint", "bias_constraint") if own_default(name)}
    setup = Setup(make_layer, shape, **unconstrained)
    variables = setup.variables
    expect_that(all(any(v is t for t in setup.layer.trainable_variables) for v in variables),
                "kernel and bias in layer.trainable_variables", True, variable_labels(setup.layer.trainable_variables),
                "create the weights with add_weight(..., trainable=True)")
    before = [to_numpy(v).copy() for v in variables]
    _, _, grads = backend.gradients(setup.layer, setup.x, setup.g, variables)
    for role, grad in zip(setup.roles(), grads):
        _not_none(grad, role)
    backend.apply_gradients(keras.optimizers.SGD(learning_rate=lr), grads, variables)
    expected = setup.closed_form()
    for role, variable, old in zip(setup.roles(), variables, before):
        assert_close(to_numpy(variable), old - lr * expected[role], f"{role} after one SGD(learning_rate={lr}) step",
                     **TOL, hint=gradient_hint(role))


def test_declared_configurations_have_the_declared_gradients(make_layer, declared_configurations):
    """Under each configuration the layer declares (``layer_spec_configurations``), the input, kernel and bias gradients are the closed forms at its effective weights, carried by its declared gradient."""
    checked = 0
    configurations = each_configuration(declared_configurations)
    require_effective_weights("gradients under the declared configurations")
    for name, options in configurations:
        options = dict(options)
        activation = options.pop("activation", None)
        if activation not in NUMPY_ACTIVATIONS:
            continue  # no closed-form derivative for this activation: the differential clause checks its values
        setup = Setup(make_layer, (5, INPUT_DIM), activation=activation, **options)
        dx, grads = setup.gradients()
        expected = setup.closed_form()
        for role, seen in [("inputs", dx)] + list(grads.items()):
            assert_close(_not_none(seen, role), expected[role],
                         f"dL/d{role} under the declared configuration {name!r} ({forward.current().gradient_label})",
                         **TOL, hint=gradient_hint(role))
        checked += 1
    if not checked:
        pytest.skip("no declared configuration has an activation with a closed-form derivative")
