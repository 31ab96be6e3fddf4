"""Differential: with the same weights and inputs, the layer computes what the generation's ``Dense`` computes."""

from __future__ import annotations

import numpy as np
import pytest

from spec_tests import backend, forward, generation
from spec_tests.generation import keras
from spec_tests.helpers import (
    assert_close,
    each_configuration,
    require_effective_weights,
    expect_that,
    expected_output,
    fail,
    kernel_of,
    layer_bias,
    NUMPY_ACTIVATIONS,
    random_array,
    set_dense_weights,
    to_numpy,
)

INPUT_DIM, UNITS = 4, 3
TOL = {"rtol": 1e-5, "atol": 1e-5}
ACTIVATIONS = [None, "relu", "tanh"]
SHAPES = [(6, INPUT_DIM), (2, 3, INPUT_DIM)]
HINT = "compute activation(inputs @ kernel + bias) over the last axis, in the layer's compute dtype"


class Twins:
    """The layer under test and a ``Dense`` with the same random weights (and a random non-zero bias)."""

    def __init__(self, make_layer, shape, **kwargs):
        self.layer = make_layer(UNITS, **kwargs)
        self.layer(np.zeros((1, shape[-1]), "float32"))  # built by a call, as the tutorial does
        has_bias = layer_bias(self.layer) is not None
        self.dense = generation.Dense(UNITS, use_bias=has_bias, activation=kwargs.get("activation"))
        self.dense(np.zeros((1, shape[-1]), "float32"))
        kernel = random_array((shape[-1], UNITS), seed=21)
        bias = random_array((UNITS,), seed=22) if has_bias else None
        set_dense_weights(self.layer, kernel, bias)
        # Dense gets the weights the layer computes with: its own, or the effective ones it declares (forward.py).
        set_dense_weights(self.dense, *forward.effective_weights(self.layer, kernel, bias))
        self.x = random_array(shape, seed=23)
        self.g = random_array(shape[:-1] + (UNITS,), seed=24)
        self.label = f"activation={kwargs.get('activation')}, use_bias={has_bias}, x{shape}"

    def variables(self, layer):
        bias = layer_bias(layer)
        return [kernel_of(layer)] + ([] if bias is None else [bias])

    def gradients(self, layer):
        y, dx, grads = backend.gradients(layer, self.x, self.g, self.variables(layer))
        return y, dict(zip(["inputs", "kernel", "bias"], [dx] + list(grads)))


def _grid():
    for activation in ACTIVATIONS:
        for use_bias in (True, False):
            for shape in SHAPES:
                yield pytest.param(activation, use_bias, shape,
                                   id=f"{activation or 'linear'}-{'bias' if use_bias else 'nobias'}-rank{len(shape)}")


def _seed_cases():
    return [pytest.param((5, INPUT_DIM), id="x(5,4)", marks=pytest.mark.seed),
            pytest.param((1, INPUT_DIM), id="x(1,4)", marks=pytest.mark.seed)]


def _check_outputs(twins):
    assert_close(twins.layer(twins.x), twins.dense(twins.x), f"output versus Dense ({twins.label})", **TOL, hint=HINT)


def _check_gradients(twins):
    _, seen = twins.gradients(twins.layer)
    _, expected = twins.gradients(twins.dense)
    expected = forward.current().chain(twins.layer, {role: None if value is None else to_numpy(value)
                                                      for role, value in expected.items()})
    for role, reference in expected.items():
        if seen[role] is None:
            fail(f"dL/d{role} ({twins.label})", "a gradient, like Dense's", None,
                 "use self.kernel/self.bias directly in call, so the gradient sees them")
        assert_close(seen[role], reference, f"dL/d{role} versus Dense ({twins.label})", **TOL, hint=HINT)


@pytest.mark.parametrize("activation, use_bias, shape", list(_grid()))
def test_outputs_match_dense(make_layer, activation, use_bias, shape):
    """With the same weights, the output equals ``keras.layers.Dense``'s on random inputs."""
    _check_outputs(Twins(make_layer, shape, activation=activation, use_bias=use_bias))


@pytest.mark.parametrize("activation, use_bias, shape", list(_grid()))
def test_gradients_match_dense(make_layer, activation, use_bias, shape):
    """With the same weights, the input, kernel and bias gradients equal ``keras.layers.Dense``'s."""
    _check_gradients(Twins(make_layer, shape, activation=activation, use_bias=use_bias))


@pytest.mark.parametrize("shape", _seed_cases())
def test_tutorial_layer_outputs_match_dense(make_layer, shape):
    """A layer made as ``Cls(units)`` computes what ``Dense(units)`` computes with the same weights."""
    _check_outputs(Twins(make_layer, shape))


@pytest.mark.parametrize("shape", _seed_cases())
def test_tutorial_layer_gradients_match_dense(make_layer, shape):
    """A layer made as ``Cls(units)`` has the gradients of ``Dense(units)`` with the same weights."""
    _check_gradients(Twins(make_layer, shape))


@pytest.mark.parametrize("use_bias", [True, False], ids=["use_bias=True", "use_bias=False"])
def test_set_weights_from_dense_reproduces_dense(make_layer, use_bias):
    """``layer.set_weights(dense.get_weights())`` works and then the layer computes what ``Dense`` computes."""
    if forward.current().extra:
        pytest.skip(f"the layer declares extra weights ({', '.join(forward.current().extra)}): Dense's weight list "
                    "is not its own")
    layer = make_layer(UNITS, use_bias=use_bias, activation="tanh")
    dense = generation.Dense(UNITS, use_bias=use_bias, activation="tanh",
                             bias_initializer="random_normal")
    x = random_array((5, INPUT_DIM), seed=25)
    layer(x)
    dense(x)
    shapes = [tuple(w.shape) for w in dense.get_weights()]
    try:
        layer.set_weights(dense.get_weights())
    except ValueError as exc:
        raise AssertionError(
            f"set_weights with Dense's weights {shapes}: expected it to be accepted, seen ValueError: {exc}\n"
            "hint: own exactly a (input_dim, units) kernel, then a (units,) bias, in that order") from exc
    seen = [tuple(np.shape(w)) for w in layer.get_weights()]
    expect_that(seen == shapes, "shapes of get_weights() after set_weights", shapes, seen)
    reference = expected_output(layer, x, "tanh") if forward.current().declared else dense(x)
    assert_close(layer(x), reference, f"output after set_weights(dense.get_weights()), use_bias={use_bias}", **TOL,
                 hint=HINT)
    expect_that(np.array_equal(to_numpy(kernel_of(layer)), to_numpy(dense.kernel)), "layer.kernel after set_weights",
                "Dense's kernel", "different values", "the first weight must be the kernel")


def _closed_form_under(layer, x, activation):
    """``activation(x @ W + b)`` with the layer's effective weights, for any activation Keras knows."""
    if activation in NUMPY_ACTIVATIONS:
        return expected_output(layer, x, activation)
    return to_numpy(keras.activations.get(activation)(backend.tensor(expected_output(layer, x).astype("float32"))))


def test_declared_configurations_compute_with_their_effective_weights(make_layer, declared_configurations):
    """Under each configuration the layer declares (``layer_spec_configurations``: its own options), the output is ``activation(x @ W + b)`` with the weights its forward contract declares, on random weights and inputs."""
    configurations = each_configuration(declared_configurations)
    require_effective_weights("outputs under the declared configurations")
    for name, options in configurations:
        layer = make_layer(UNITS, **options)
        layer(np.zeros((1, INPUT_DIM), "float32"))
        kernel = random_array((INPUT_DIM, UNITS), seed=31)
        bias = random_array((UNITS,), seed=32) if layer_bias(layer) is not None else None
        set_dense_weights(layer, kernel, bias)
        x = random_array((6, INPUT_DIM), seed=33)
        assert_close(layer(x), _closed_form_under(layer, x, options.get("activation")),
                     f"output under the declared configuration {name!r} {options}", **TOL,
                     hint="the option must act as the declared effective weights say; "
                          "if it changes the weights the forward pass uses, declare layer_spec_effective_weights")


def test_own_options_left_out_act_as_their_declared_defaults(make_layer, declared_own_defaults):
    """An option of the layer's own that is left out acts as the default the layer declares for it (``layer_spec_defaults``): with the same weights, the same outputs as with that default passed."""
    if not declared_own_defaults:
        pytest.skip("no defaults declared for options of the layer's own (layer_spec_defaults)")
    x = random_array((6, INPUT_DIM), seed=34)
    for option, default in declared_own_defaults.items():
        left_out, passed = make_layer(UNITS), make_layer(UNITS, **{option: default})
        for layer in (left_out, passed):
            layer(np.zeros((1, INPUT_DIM), "float32"))
        passed.set_weights(left_out.get_weights())
        assert_close(left_out(x), passed(x), f"output with {option} left out versus {option}={default!r}", **TOL,
                     hint=f"use {default!r} when {option} is left out, or declare the default you use")
