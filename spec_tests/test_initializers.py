"""Initializers, regularizers, constraints and the activation: every constructor option does what Dense's does."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spec_tests import backend, generation
from spec_tests.helpers import (
    assert_close,
    expect_that,
    expected_gradients,
    expected_output,
    kernel_of,
    layer_bias,
    NUMPY_ACTIVATIONS,
    random_array,
    set_dense_weights,
    to_numpy,
)

keras = generation.keras

#: A kernel big enough for tight statistics: 60 000 draws.
FAN_IN, FAN_OUT = 200, 300
N_DRAWS = FAN_IN * FAN_OUT
GLOROT_BOUND = math.sqrt(6.0 / (FAN_IN + FAN_OUT))
GLOROT_VARIANCE = 2.0 / (FAN_IN + FAN_OUT)
#: Relative standard error of a sample variance of n draws: sqrt((kurtosis - 1) / n); a uniform's kurtosis is 9/5,
#: a normal's 3. With 60 000 draws that is 0.37% (uniform) and 0.58% (normal), so a 5% tolerance sits 8-13
#: standard errors out (never fails by chance), yet tells glorot (0.004) from he (0.01) or lecun (0.005).
VARIANCE_RTOL = 0.05
#: A mean is off by more than 6 standard errors with probability about 2e-9.
MEAN_SIGMAS = 6.0

INIT_HINT = ("pass self.kernel_initializer / self.bias_initializer (from keras.initializers.get) to add_weight's "
             "initializer=, and nothing else")


def _large_kernel(make_layer, seed=None):
    """The kernel of a fresh ``FAN_IN -> FAN_OUT`` layer, as float64 numpy; ``seed`` seeds Keras first."""
    if seed is not None:
        generation.set_seed(seed)
    layer = make_layer(FAN_OUT)
    layer.build((None, FAN_IN))
    return np.asarray(to_numpy(kernel_of(layer)), np.float64)


def _check_mean(values, std, what, hint=INIT_HINT):
    tolerance = MEAN_SIGMAS * std / math.sqrt(values.size)
    expect_that(abs(values.mean()) <= tolerance, f"mean of {what}", f"0 +/- {tolerance:.2g}", f"{values.mean():.3g}", hint)


def _check_variance(values, variance, what, hint=INIT_HINT):
    seen = values.var()
    expect_that(abs(seen - variance) <= VARIANCE_RTOL * variance, f"variance of {what}",
                f"{variance:.4g} +/- {VARIANCE_RTOL:.0%}", f"{seen:.4g}", hint)


# --- the default kernel initializer: glorot uniform ----------------------------------------------


@pytest.mark.seed
def test_default_kernel_initializer_stays_inside_glorot_bound(make_layer, own_default):
    """Every value of a default-initialized kernel lies inside the glorot-uniform bound ``sqrt(6 / (fan_in + fan_out))``."""
    if own_default("kernel_initializer"):  # another default, by design: --profile custom checks the layer honours it
        return
    kernel = _large_kernel(make_layer)
    worst = np.abs(kernel).max()
    expect_that(worst <= GLOROT_BOUND * (1 + 1e-6), f"largest |value| of a default {FAN_IN}x{FAN_OUT} kernel",
                f"<= {GLOROT_BOUND:.5f}", f"{worst:.5f}",
                "leave add_weight's initializer to 'glorot_uniform' (Dense's default), not random_normal, ones or he_*")
    expect_that(worst >= 0.99 * GLOROT_BOUND, f"largest |value| of a default {FAN_IN}x{FAN_OUT} kernel",
                f"close to the bound {GLOROT_BOUND:.5f} (60 000 uniform draws reach it)", f"{worst:.5f}",
                "a kernel that never nears the bound is not glorot uniform; use initializer='glorot_uniform'")


@pytest.mark.seed
def test_default_kernel_initializer_has_glorot_variance(make_layer, own_default):
    """A default-initialized kernel has variance ``2 / (fan_in + fan_out)`` (glorot), within 5% on 60 000 values."""
    if own_default("kernel_initializer"):  # another default, by design: --profile custom checks the layer honours it
        return
    _check_variance(_large_kernel(make_layer), GLOROT_VARIANCE, f"a default {FAN_IN}x{FAN_OUT} kernel",
                    "Dense's default kernel initializer is glorot_uniform")


@pytest.mark.seed
def test_default_kernel_initializer_has_zero_mean(make_layer, own_default):
    """A default-initialized kernel has mean 0 (within 6 standard errors)."""
    if own_default("kernel_initializer"):  # another default, by design: --profile custom checks the layer honours it
        return
    _check_mean(_large_kernel(make_layer), math.sqrt(GLOROT_VARIANCE), f"a default {FAN_IN}x{FAN_OUT} kernel",
                "Dense's default kernel initializer is glorot_uniform, symmetric around 0")


@pytest.mark.seed
def test_set_random_seed_makes_initial_weights_reproducible(make_layer):
    """After ``keras.utils.set_random_seed(s)`` a fresh layer gets the same initial kernel every time; another seed, another kernel."""
    first, again, other = (_large_kernel(make_layer, seed) for seed in (7, 7, 8))
    expect_that(np.array_equal(first, again), "kernels of two fresh layers after set_random_seed(7)", "identical",
                f"{int((first != again).sum())} of {first.size} values differ",
                "draw initial values through Keras initializers (add_weight's initializer=); an unseeded "
                "np.random.default_rng() or tf.random.Generator.from_non_deterministic_state() ignores the seed")
    expect_that(not np.array_equal(first, other), "kernels after set_random_seed(7) and set_random_seed(8)", "different",
                "identical", "do not hard-code a seed in the layer; let the global seed drive the initializer")


# --- initializer arguments -------------------------------------------------------------------------


def _all_equal(value):
    def verify(values, what):
        expect_that(np.all(values == value), what, f"every value == {value}",
                    f"{int((values != value).sum())} of {values.size} values differ (e.g. {values.flat[np.argmax(values != value)]:.4g})",
                    INIT_HINT)

    return verify


def _statistics(std, variance=None):
    def verify(values, what):
        _check_mean(values, std, what)
        _check_variance(values, std**2 if variance is None else variance, what)

    return verify


#: (argument, value, what the weight must then look like)
INITIALIZER_CASES = [
    pytest.param("kernel_initializer", "ones", _all_equal(1.0), id="kernel_initializer='ones'"),
    pytest.param("kernel_initializer", "zeros", _all_equal(0.0), id="kernel_initializer='zeros'"),
    pytest.param("kernel_initializer", "he_normal", _statistics(math.sqrt(2.0 / FAN_IN)),
                 id="kernel_initializer='he_normal'->variance 2/fan_in"),
    pytest.param("kernel_initializer", lambda: keras.initializers.Constant(0.5), _all_equal(0.5),
                 id="kernel_initializer=Constant(0.5)"),
    pytest.param("kernel_initializer", lambda: keras.initializers.RandomNormal(stddev=0.3), _statistics(0.3),
                 id="kernel_initializer=RandomNormal(stddev=0.3)"),
    pytest.param("bias_initializer", "ones", _all_equal(1.0), id="bias_initializer='ones'"),
    pytest.param("bias_initializer", lambda: keras.initializers.Constant(0.5), _all_equal(0.5),
                 id="bias_initializer=Constant(0.5)"),
]


@pytest.mark.parametrize("argument, value, verify", INITIALIZER_CASES)
def test_initializer_argument_is_honoured(make_layer, argument, value, verify):
    """An initializer given as a string or as an initializer object sets the initial weights."""
    value = value() if callable(value) else value
    layer = make_layer(FAN_OUT, **{argument: value})
    layer.build((None, FAN_IN))
    weight = kernel_of(layer) if argument == "kernel_initializer" else layer_bias(layer)
    verify(np.asarray(to_numpy(weight), np.float64), f"{argument.split('_')[0]} with {argument}={value!r}")


# --- regularizers ----------------------------------------------------------------------------------


def _l2(factor):
    return lambda w: factor * np.sum(w**2)


def _l1(factor):
    return lambda w: factor * np.sum(np.abs(w))


#: (constructor arguments, expected penalty of the kernel, of the bias)
REGULARIZER_CASES = [
    pytest.param(lambda: {"kernel_regularizer": keras.regularizers.L2(0.01)}, _l2(0.01), None,
                 id="kernel_regularizer=L2(0.01)->0.01*sum(W^2)"),
    pytest.param(lambda: {"kernel_regularizer": "l2"}, _l2(0.01), None, id="kernel_regularizer='l2'->0.01*sum(W^2)"),
    pytest.param(lambda: {"bias_regularizer": keras.regularizers.L1(0.02)}, None, _l1(0.02),
                 id="bias_regularizer=L1(0.02)->0.02*sum|b|"),
    pytest.param(lambda: {"kernel_regularizer": keras.regularizers.L1(0.03), "bias_regularizer": keras.regularizers.L2(0.04)},
                 _l1(0.03), _l2(0.04), id="both->0.03*sum|W|+0.04*sum(b^2)"),
]


@pytest.mark.parametrize("make_kwargs, kernel_penalty, bias_penalty", REGULARIZER_CASES)
def test_regularizers_add_exactly_their_penalty_to_losses(make_layer, make_kwargs, kernel_penalty, bias_penalty):
    """Kernel and bias regularizers add exactly their penalty of the current weights (e.g. ``l2 * sum(W**2)``) to ``layer.losses``."""
    layer = make_layer(3, **make_kwargs())
    layer.build((None, 4))
    kernel, bias = random_array((4, 3), 1), random_array((3,), 2)
    set_dense_weights(layer, kernel, bias)
    layer(random_array((5, 4), 3))
    expected = sum(penalty(w.astype(np.float64)) for penalty, w in ((kernel_penalty, kernel), (bias_penalty, bias))
                   if penalty is not None)
    seen = float(sum(np.sum(to_numpy(loss)) for loss in layer.losses))
    expect_that(math.isclose(seen, expected, rel_tol=1e-5), "sum of layer.losses after one call",
                f"{expected:.6g} (the penalty of the weights, once)", f"{seen:.6g} from {len(layer.losses)} loss(es)",
                "pass regularizer=self.kernel_regularizer / self.bias_regularizer to add_weight and add no penalty "
                "of your own in call")


def test_no_regularizer_means_no_losses(make_layer):
    """Without regularizers a layer adds nothing to ``layer.losses``."""
    layer = make_layer(3)
    layer(random_array((5, 4), 3))
    expect_that(len(layer.losses) == 0, "layer.losses without any regularizer", [],
                [float(np.sum(to_numpy(loss))) for loss in layer.losses])


# --- constraints -----------------------------------------------------------------------------------


def _max_norm(max_value):
    def project(w):
        norms = np.sqrt(np.sum(w**2, axis=0, keepdims=True))
        return w * np.clip(norms, 0, max_value) / (1e-7 + norms)

    return project


#: (argument, constraint factory, numpy projection, whether the projected values satisfy it)
CONSTRAINT_CASES = [
    pytest.param("kernel_constraint", lambda: keras.constraints.NonNeg(), lambda w: np.maximum(w, 0.0),
                 id="kernel_constraint=NonNeg()"),
    pytest.param("kernel_constraint", lambda: keras.constraints.MaxNorm(0.5), _max_norm(0.5),
                 id="kernel_constraint=MaxNorm(0.5)"),
    pytest.param("kernel_constraint", lambda: (lambda w: backend.ops.clip(w, -0.1, 0.1)),
                 lambda w: np.clip(w, -0.1, 0.1), id="kernel_constraint=lambda clip(-0.1, 0.1)"),
    pytest.param("bias_constraint", lambda: keras.constraints.NonNeg(), lambda w: np.maximum(w, 0.0),
                 id="bias_constraint=NonNeg()"),
]


@pytest.mark.parametrize("argument, make_constraint, project", CONSTRAINT_CASES)
def test_constraint_holds_after_optimizer_step(make_layer, argument, make_constraint, project):
    """After an SGD step that pushes the weights outside a constraint, the weights are the constraint's projection of the step."""
    lr = 1.0
    layer = make_layer(3, **{argument: make_constraint()})
    layer.build((None, 4))
    kernel, bias = random_array((4, 3), 1, scale=0.1), random_array((3,), 2, scale=0.1)
    set_dense_weights(layer, kernel, bias)
    x, upstream = random_array((8, 4), 3), random_array((8, 3), 4)
    weights = [kernel_of(layer), layer_bias(layer)]
    expected_grads = expected_gradients(layer, x, upstream, kernel=kernel, bias=bias)
    _, _, grads = backend.gradients(layer, x, upstream, weights)
    backend.apply_gradients(keras.optimizers.SGD(lr), grads, weights)
    name = argument.split("_")[0]
    start = kernel if name == "kernel" else bias
    unconstrained = start.astype(np.float64) - lr * expected_grads[name]
    expected = project(unconstrained)
    assert not np.allclose(expected, unconstrained), "clause bug: the step must leave the constraint's set"
    seen = to_numpy(kernel_of(layer) if name == "kernel" else layer_bias(layer))
    assert_close(seen, expected, f"{name} after one SGD step with {argument}", rtol=1e-5, atol=1e-6,
                 hint="pass constraint=self.kernel_constraint / self.bias_constraint to add_weight: the optimizer "
                 "applies it after every update (applying it once in build is not enough)")


# --- activation ------------------------------------------------------------------------------------


def _numpy_activation(name):
    return NUMPY_ACTIVATIONS[name][0]


#: (activation argument, numpy closed form)
ACTIVATION_CASES = [
    pytest.param(lambda: "relu", _numpy_activation("relu"), id="'relu'"),
    pytest.param(lambda: "tanh", _numpy_activation("tanh"), id="'tanh'"),
    pytest.param(lambda: "sigmoid", _numpy_activation("sigmoid"), id="'sigmoid'"),
    pytest.param(lambda: keras.activations.sigmoid, _numpy_activation("sigmoid"), id="keras.activations.sigmoid"),
    pytest.param(lambda: backend.ops.relu, _numpy_activation("relu"), id="ops.relu"),
    pytest.param(lambda: (lambda z: 2.0 * z - 1.0), lambda z: 2.0 * z - 1.0, id="lambda z: 2z-1"),
]


@pytest.mark.parametrize("make_activation, numpy_activation", ACTIVATION_CASES)
def test_activation_is_applied_to_the_affine_output(make_layer, make_activation, numpy_activation):
    """The activation, given as a string or as a callable, is applied to ``x @ W + b``: ``y = activation(x @ W + b)``."""
    activation = make_activation()
    layer = make_layer(3, activation=activation)
    layer.build((None, 4))
    kernel, bias = random_array((4, 3), 1), random_array((3,), 2)
    set_dense_weights(layer, kernel, bias)
    x = random_array((6, 4), 3)
    expected = numpy_activation(expected_output(layer, x, kernel=kernel, bias=bias))
    assert_close(layer(x), expected, f"output with activation={activation!r}", rtol=1e-5, atol=1e-6,
                 hint="store keras.activations.get(activation) in __init__ and apply it last in call, after the bias")
