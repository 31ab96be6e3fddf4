"""Lazy build: weights appear once, from the first input shape, and never change shape afterwards."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from spec_tests.helpers import (
    assert_weights_unchanged,
    expect_raises,
    expect_raises_naming,
    expect_that,
    kernel_of,
    random_inputs,
    to_numpy,
    weight_names,
    weight_values,
)


def _check_weight_names(layer, profile, when):
    """Dense profile: exactly kernel then bias. Seed profile: the kernel first; a bias is an allowed extra."""
    names = weight_names(layer)
    if profile == "seed":
        expect_that(names[:1] == ["kernel"] and set(names) <= {"kernel", "bias"}, f"weights {when}",
                    "['kernel'] (optionally followed by 'bias')", names,
                    'create the kernel in build with self.add_weight(name="kernel", shape=..., initializer=...)')
    else:
        expect_that(names == ["kernel", "bias"], f"weights {when}", ["kernel", "bias"], names,
                    'create them in build with add_weight(name="kernel", ...) then add_weight(name="bias", ...)')


@pytest.mark.seed
def test_first_call_builds_from_input_shape(make_layer, profile):
    """The first call builds the layer: a ``(input_dim, units)`` kernel appears, taken from the input's last dimension."""
    layer = make_layer(3)
    layer(random_inputs((2, 5)))
    expect_that(layer.built is True, "layer.built after the first call", True, layer.built,
                "set self.built = True at the end of build, or call super().build(input_shape)")
    expect_that(tuple(kernel_of(layer).shape) == (5, 3), "kernel shape", (5, 3), tuple(kernel_of(layer).shape))
    _check_weight_names(layer, profile, "after the first call")


def test_explicit_build_creates_weights(make_layer, profile):
    """``layer.build(input_shape)`` creates the weights without any call."""
    layer = make_layer(3)
    layer.build((None, 6))
    expect_that(layer.built is True, "layer.built after build()", True, layer.built)
    expect_that(tuple(kernel_of(layer).shape) == (6, 3), "kernel shape after build((None, 6))", (6, 3), tuple(kernel_of(layer).shape))
    _check_weight_names(layer, profile, "after build()")


@pytest.mark.seed
def test_build_accepts_tensorshape(make_layer):
    """``build`` accepts a ``tf.TensorShape`` as well as a tuple."""
    layer = make_layer(2)
    layer.build(tf.TensorShape([None, 4]))
    expect_that(tuple(kernel_of(layer).shape) == (4, 2), "kernel shape after build(TensorShape([None, 4]))", (4, 2),
                tuple(kernel_of(layer).shape), "index input_shape[-1]; it works for tuples and TensorShapes alike")


@pytest.mark.seed
def test_build_runs_once(make_layer, monkeypatch):
    """Calling the layer again does not build it again."""
    layer = make_layer(3)
    calls = []
    original = layer.build

    def counting_build(shape):
        calls.append(shape)
        return original(shape)

    monkeypatch.setattr(layer, "build", counting_build)
    for seed in range(3):
        layer(random_inputs((2, 4), seed))
    expect_that(len(calls) <= 1, "number of build() calls over three calls", "at most 1", len(calls),
                "set self.built = True in build so Keras stops calling it")


@pytest.mark.seed
def test_repeated_calls_create_no_new_weights(make_layer):
    """Repeated calls create no new weights and keep the weights' values."""
    layer = make_layer(3)
    layer(random_inputs((2, 4)))
    before = weight_values(layer)
    ids_before = [id(w) for w in layer.weights]
    for seed in range(1, 4):
        layer(random_inputs((2, 4), seed))
    expect_that([id(w) for w in layer.weights] == ids_before, "weight objects after more calls",
                "the same objects", "new or different weight objects",
                "create weights only in build(); never call add_weight from call()")
    assert_weights_unchanged(layer, before, "weights after more calls")


@pytest.mark.seed
def test_call_is_deterministic(make_layer):
    """Two calls on the same input give identical outputs (no randomness, no hidden state)."""
    layer = make_layer(3)
    x = random_inputs((4, 5))
    first = to_numpy(layer(x))
    second = to_numpy(layer(x))
    expect_that(np.array_equal(first, second), "second output on the same input", "identical to the first",
                f"max abs diff {np.abs(first - second).max():.3g}")


INPUT_SPEC_HINT = "set self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim}) in build so Keras rejects it up front"


def test_unknown_last_dimension_at_build_is_refused(make_layer):
    """Building with an unknown last dimension raises, and leaves the layer without weights: a kernel needs a fully defined shape."""
    layer = make_layer(3)
    expect_raises(lambda: layer.build((None, None)), "build((None, None))",
                  "a kernel needs a known last dimension; raise before add_weight")
    expect_that(layer.weights == [], "weights of the layer after the failed build", "none", weight_names(layer),
                "check the input shape before the first add_weight")


@pytest.mark.should
def test_unknown_last_dimension_at_build_raises_value_error(make_layer):
    """Building with an unknown last dimension raises ValueError with a message, as Dense does."""
    expect_raises_naming(lambda: make_layer(3).build((None, None)), ValueError, (), "build((None, None))",
                         "raise ValueError naming the input shape when input_shape[-1] is None")


def _built_on_five_features(make_layer):
    layer = make_layer(3)
    x = random_inputs((2, 5))
    return layer, x, to_numpy(layer(x))


def test_different_last_dimension_after_build_is_refused_and_keeps_weights(make_layer):
    """A call whose last dimension differs from the built one raises, and leaves the weights and outputs bit-identical."""
    layer, x, expected = _built_on_five_features(make_layer)
    before = weight_values(layer)
    expect_raises(lambda: layer(random_inputs((2, 7), 1)), "input of shape (2, 7) to a layer built for 5 features",
                  INPUT_SPEC_HINT)
    assert_weights_unchanged(layer, before)
    expect_that(np.array_equal(to_numpy(layer(x)), expected), "output on the original input after the failed call",
                "unchanged", "different")


@pytest.mark.should
def test_different_last_dimension_after_build_raises_value_error(make_layer):
    """A call whose last dimension differs from the built one raises ValueError before any op runs, as Dense's input_spec does."""
    layer, _, _ = _built_on_five_features(make_layer)
    expect_raises_naming(lambda: layer(random_inputs((2, 7), 1)), ValueError, (),
                         "error type for a (2, 7) input to a layer built for 5 features", INPUT_SPEC_HINT)
