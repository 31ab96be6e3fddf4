"""Training: ``model.fit`` moves the layer's weights where the data says, and only those it may move."""

from __future__ import annotations

import numpy as np
import pytest

from spec_tests import backend, forward
from spec_tests.generation import keras
from spec_tests.helpers import (
    activity_l2_penalty,
    assert_all_bit_identical,
    assert_close,
    expect_that,
    expected_output,
    fail,
    kernel_of,
    layer_bias,
    random_array,
    set_dense_weights,
    to_numpy,
    weight_values,
)

INPUT_DIM = 4
UNITS = 2
SAMPLES = 256
#: The 256 samples repeated, so that one epoch holds every step: Keras's per-epoch overhead dominates a tiny model.
REPEATS = 10
BATCH = 64
LEARNING_RATE = 0.5

TRAINING_HINT = (
    "the optimizer moves only what the tape sees: create the weights with add_weight (trainable), use the variables "
    "themselves in call (no numpy copy, no stop_gradient)"
)


@pytest.fixture(autouse=True)
def _needs_fit():
    """Every clause here calls ``fit``, which needs the backend's gradients (the numpy backend has none)."""
    backend.require("gradients")


def _true_map(has_bias: bool):
    rng = np.random.default_rng(7)
    kernel = rng.uniform(-2.0, 2.0, (INPUT_DIM, UNITS)).astype("float32")
    bias = rng.uniform(-1.0, 1.0, (UNITS,)).astype("float32") if has_bias else np.zeros((UNITS,), "float32")
    return kernel, bias


def _sequential(layer):
    return keras.Sequential([keras.Input((INPUT_DIM,)), layer])


def _functional(layer):
    inputs = keras.Input((INPUT_DIM,))
    return keras.Model(inputs, layer(inputs))


MODEL_KINDS = {"sequential": _sequential, "functional": _functional}


def _fit(model, x, y, learning_rate=LEARNING_RATE, batch_size=BATCH):
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mse")
    return model.fit(x, y, epochs=1, batch_size=batch_size, shuffle=False, verbose=0)


@pytest.mark.seed
@pytest.mark.parametrize("kind", sorted(MODEL_KINDS))
def test_fit_recovers_a_linear_map(make_layer, kind):
    """``model.fit`` on data from ``y = x @ W* + b*`` brings the kernel to ``W*`` and the bias to ``b*`` (Sequential and functional models)."""
    layer = make_layer(UNITS)
    model = MODEL_KINDS[kind](layer)
    has_bias = layer_bias(layer) is not None
    kernel, bias = _true_map(has_bias)
    x = np.tile(random_array((SAMPLES, INPUT_DIM), seed=3), (REPEATS, 1))
    y = (x @ kernel + bias).astype("float32")
    start = weight_values(layer)
    _fit(model, x, y)
    expect_that(any(not np.array_equal(a, b) for a, b in zip(start, weight_values(layer))), "weights after fit",
                "moved from their initial values", "bit-identical to the initial values", TRAINING_HINT)
    if forward.current().declared:
        # Declared effective weights (a quantizer) need not represent W*: that fit moves the weights is checked
        # above, and the training signal itself by the gradient clauses, against the declared gradient.
        return
    assert_close(kernel_of(layer), kernel, f"kernel after fit ({kind})", rtol=0, atol=1e-3, hint=TRAINING_HINT)
    if has_bias:
        assert_close(layer_bias(layer), bias, f"bias after fit ({kind})", rtol=0, atol=1e-3, hint=TRAINING_HINT)


def _frozen_by_argument(make_layer):
    return make_layer(3, trainable=False)


def _frozen_by_attribute(make_layer):
    layer = make_layer(3)
    layer.trainable = False
    return layer


FREEZE_WAYS = [
    pytest.param(_frozen_by_argument, id="trainable=False argument"),
    pytest.param(_frozen_by_attribute, id="layer.trainable = False", marks=pytest.mark.seed),
]


@pytest.mark.parametrize("freeze", FREEZE_WAYS)
def test_frozen_layer_does_not_move_during_fit(make_layer, freeze):
    """A layer with ``trainable=False`` keeps bit-identical weights through ``model.fit`` while the rest of the model trains."""
    frozen = freeze(make_layer)
    head = keras.layers.Dense(UNITS)  # Keras's own layer: the clause is about the frozen one
    model = keras.Sequential([keras.Input((INPUT_DIM,)), frozen, head])
    x = random_array((SAMPLES, INPUT_DIM), seed=4)
    y = random_array((SAMPLES, UNITS), seed=5)
    model(x[:1])
    frozen_before, head_before = weight_values(frozen), weight_values(head)
    _fit(model, x, y, learning_rate=0.1)
    expect_that(any(not np.array_equal(a, b) for a, b in zip(head_before, weight_values(head))),
                "the trainable layer's weights after fit", "moved (else fit trained nothing)", "unchanged", TRAINING_HINT)
    assert_all_bit_identical(weight_values(frozen), frozen_before, "the frozen layer's weights after fit",
                             "pass trainable through to the base Layer (super().__init__(**kwargs)) and create "
                             "weights with add_weight, which honours layer.trainable")


ACTIVITY_L2 = 0.25


def _activity_layer(make_layer, x):
    layer = make_layer(UNITS, activity_regularizer=keras.regularizers.L2(ACTIVITY_L2))
    layer(x)
    set_dense_weights(layer, random_array((INPUT_DIM, UNITS), seed=6), random_array((UNITS,), seed=8))
    return layer


def test_activity_regularizer_adds_its_penalty_to_layer_losses(make_layer):
    """After a call, ``layer.losses`` holds the activity regularizer applied to the output, divided by the batch size."""
    x = random_array((8, INPUT_DIM), seed=9)
    layer = _activity_layer(make_layer, x)
    y = expected_output(layer, x)
    layer(x)
    seen = sum(float(to_numpy(loss)) for loss in layer.losses)
    assert_close(seen, activity_l2_penalty(y, ACTIVITY_L2), f"sum(layer.losses) with activity_regularizer=L2({ACTIVITY_L2})",
                 hint="pass activity_regularizer to the base Layer (super().__init__(activity_regularizer=..., "
                 "**kwargs)); Keras adds the penalty after each call")


def test_activity_regularizer_adds_to_the_fit_loss(make_layer):
    """The loss ``model.fit`` reports is the compiled loss plus the activity penalty on the layer's output."""
    x = random_array((32, INPUT_DIM), seed=11)
    target = random_array((32, UNITS), seed=12)
    layer = _activity_layer(make_layer, x)
    model = _sequential(layer)
    y = expected_output(layer, x)
    mse = float(np.mean((y - target) ** 2))
    # A learning rate of 0 keeps the weights where they are, so the one batch's loss is known in closed form.
    history = _fit(model, x, target, learning_rate=0.0, batch_size=32)
    seen = history.history["loss"][0]
    expected = mse + activity_l2_penalty(y, ACTIVITY_L2)
    if np.isclose(seen, mse, rtol=1e-5):
        fail("loss reported by fit", f"{expected:.6g} (mse {mse:.6g} + activity penalty)",
             f"{seen:.6g}, the mse alone", "pass activity_regularizer to the base Layer; do not swallow it in __init__")
    assert_close(seen, expected, "loss reported by fit (mse + activity penalty)", rtol=1e-5)
