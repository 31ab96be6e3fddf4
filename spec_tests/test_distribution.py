"""Distribution: under two-replica data parallelism the layer trains exactly as it does on one device.

The replicas are the backend's (``spec_tests/backend.py``): a ``MirroredStrategy`` over the two logical CPU
devices that ``spec_tests/devices.py`` splits off at session start, or JAX's ``keras.distribution.DataParallel``
over two host devices.
"""

from __future__ import annotations

import numpy as np
import pytest

from spec_tests import backend, devices, generation
from spec_tests.helpers import (
    assert_close,
    core,
    error_text,
    expect_that,
    fail,
    kernel_and_bias,
    random_array,
    to_numpy,
)

keras = generation.keras

GLOBAL_BATCH, IN, OUT, LR = 8, 4, 3, 0.1

SCOPE_HINT = ("create every weight with self.add_weight in build: Keras builds the layer inside the distribution's "
              "scope, so the variables are replicated (MirroredVariables on TensorFlow); a variable made in __init__, "
              "or a tf.Variable made in call, is not (\"was not created in the distribution strategy scope\")")


@pytest.fixture
def strategy():
    """Two replicas on this CPU (``backend.DataParallel``); skipped, with the reason, where the backend has none."""
    return backend.DataParallel()


def _data(seed=0, batch=GLOBAL_BATCH):
    """A regression batch ``(x, y)`` with ``y = x @ W* + noise``."""
    x = random_array((batch, IN), seed)
    y = (x @ random_array((IN, OUT), seed + 1) + 0.1 * random_array((batch, OUT), seed + 2)).astype("float32")
    return x, y


def _built_layer(make_layer, initial):
    """A fresh layer, built by a first call (as a training loop builds it), with ``initial`` assigned to its weights."""
    layer = make_layer(OUT)
    _run_or_fail(lambda: layer(np.zeros((1, IN), "float32")), "first call")
    expect_that(getattr(layer, "kernel", None) is not None, "layer.kernel after the first call", "a variable",
                getattr(layer, "kernel", "<missing>"), SCOPE_HINT)
    for weight, value in zip(kernel_and_bias(layer), initial):
        weight.assign(value)
    return layer


def _sequential(make_layer, compiled=False):
    """``Sequential([Input, layer])``, built (and compiled with SGD and MSE) in the current scope."""

    def make():
        model = keras.Sequential([keras.Input((IN,)), make_layer(OUT)])
        if compiled:
            model.compile(optimizer=keras.optimizers.SGD(LR), loss="mse")
        return model

    return _run_or_fail(make, "building a Sequential model under the distribution")


def _mean_squared_error(output, target):
    """The squared error summed over a batch, divided by the global batch: the replicas' sum is the global mean."""
    ops = backend.ops
    return ops.sum(ops.square(ops.subtract(output, target))) / GLOBAL_BATCH


def _run_or_fail(action, what, hint=SCOPE_HINT):
    try:
        return action()
    except (AssertionError, *backend.OP_ERRORS) as exc:
        fail(what, "it to run", f"{type(exc).__name__}: {' '.join(error_text(exc).split())[:400]}", hint)


@pytest.mark.seed
@pytest.mark.parametrize("made", ["in-scope", "before-scope"], ids=lambda m: f"layer-made-{m}")
def test_weights_built_in_strategy_scope_are_mirrored(make_layer, strategy, made):
    """A layer built inside the distribution's scope (even one made before it) holds replicated weights, one copy per replica."""
    layer = make_layer(OUT) if made == "before-scope" else None
    with strategy.scope():
        if layer is None:
            layer = make_layer(OUT)
        _run_or_fail(lambda: layer(random_array((2, IN))), "first call inside the distribution's scope")
    expect_that(layer.weights != [], "weights of a layer built in scope", "at least a kernel", [])
    for weight in layer.weights:
        expect_that(strategy.is_distributed(weight), f"variable behind {generation.short_name(weight)}",
                    "a replicated variable of the distribution", "a variable on one device", SCOPE_HINT)
        copies = strategy.copies(weight)
        expect_that(len(copies) == devices.REPLICAS, f"copies of {generation.short_name(weight)}",
                    f"{devices.REPLICAS} (one per replica)", len(copies), SCOPE_HINT)


@pytest.mark.seed
def test_custom_training_step_matches_single_device(make_layer, strategy):
    """A custom SGD step on a global batch split over the replicas (gradients all-reduced) equals the one-device step, after 1 step and after 3."""
    x, y = _data()
    initial = [to_numpy(w) for w in kernel_and_bias(_built_layer(make_layer, []))]

    single = _built_layer(make_layer, initial)
    single_opt = keras.optimizers.SGD(LR)
    with strategy.scope():
        replicated = _built_layer(make_layer, initial)
        optimizer = keras.optimizers.SGD(LR)

    for step in range(1, 4):
        seen_loss = _run_or_fail(lambda: strategy.train_step(replicated, optimizer, _mean_squared_error, x, y,
                                                             kernel_and_bias(replicated)),
                                 f"distributed training step {step}")
        expected_loss = backend.train_step(single, single_opt, _mean_squared_error, x, y, kernel_and_bias(single))
        expect_that(np.isclose(seen_loss, expected_loss, rtol=1e-5), f"reduced loss of step {step}",
                    f"{expected_loss:.6g} (one device)", f"{seen_loss:.6g}")
        if step in (1, 3):
            for name, seen, expected in zip(("kernel", "bias"), kernel_and_bias(replicated), kernel_and_bias(single)):
                for replica, copy in enumerate(strategy.copies(seen)):
                    assert_close(copy, to_numpy(expected), f"{name} on replica {replica} after {step} step(s)",
                                 rtol=1e-5, atol=1e-6,
                                 hint="every replica must update the same mirrored variable with the all-reduced "
                                 "gradient; " + SCOPE_HINT)


@pytest.mark.seed
def test_fit_under_strategy_trains(make_layer, strategy):
    """``model.fit`` of a model built under the distribution runs, reports a finite loss and moves the weights."""
    x, y = _data(batch=2 * GLOBAL_BATCH)
    with strategy.scope():
        model = _sequential(make_layer, compiled=True)
    weights = core(model.weights)  # a declared extra weight (quantizer state) need not move
    before = [np.array(to_numpy(w), copy=True) for w in weights]
    history = _run_or_fail(lambda: model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, verbose=0), "model.fit under the distribution")
    losses = history.history["loss"]
    expect_that(all(np.isfinite(losses)), "loss per epoch under the distribution", "finite", losses)
    moved = [not np.array_equal(b, to_numpy(a)) for b, a in zip(before, weights)]
    expect_that(all(moved), "weights after fit under the distribution", "every weight moved", f"moved: {moved}",
                "the weights the optimizer updates must be the ones call uses; " + SCOPE_HINT)


def test_model_saved_under_strategy_loads_without_it(make_layer, strategy, tmp_path):
    """A model built and saved under the distribution loads without it and predicts the same."""
    x, _ = _data()
    with strategy.scope():
        model = _sequential(make_layer)
        expected = to_numpy(model(x))
        path = tmp_path / f"model{generation.MODEL_SUFFIX}"
        _run_or_fail(lambda: model.save(str(path)), "model.save under the distribution")
    loaded = _run_or_fail(lambda: keras.models.load_model(str(path)), "load_model without the distribution",
                          "register the class (register_keras_serializable), return every constructor argument "
                          "from get_config, and create all weights in build")
    for weight in loaded.weights:
        expect_that(not strategy.is_distributed(weight),
                    f"variable behind {generation.short_name(weight)} after loading without the distribution",
                    "a plain variable", "a replicated variable")
    assert_close(loaded(x), expected, "predictions of the model loaded without the distribution", rtol=1e-6, atol=1e-6)
