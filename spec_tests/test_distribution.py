"""Distribution: under a two-replica ``MirroredStrategy`` the layer trains exactly as it does on one device.

The two replicas are the two logical CPU devices that ``spec_tests/devices.py`` splits off at session start.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from spec_tests import devices, generation
from spec_tests.helpers import (
    assert_close,
    check,
    error_text,
    fail,
    kernel_and_bias,
    random_array,
    to_numpy,
    weight_values,
)

keras = generation.keras

GLOBAL_BATCH, IN, OUT, LR = 8, 4, 3, 0.1

SCOPE_HINT = ("create every weight with self.add_weight in build: Keras builds the layer inside strategy.scope(), "
              "so the variables become MirroredVariables; a variable made in __init__, or a tf.Variable made in "
              "call, is not (\"was not created in the distribution strategy scope\")")


@pytest.fixture
def strategy():
    """A ``MirroredStrategy`` over two logical CPU devices."""
    cpus = devices.logical_cpus()
    if len(cpus) < devices.REPLICAS:
        pytest.skip(f"needs {devices.REPLICAS} logical CPU devices, found {cpus}: TensorFlow started its runtime "
                    "before spec_tests/devices.py:split_cpu() could split the CPU (call it before any TF op)")
    return tf.distribute.MirroredStrategy(cpus[: devices.REPLICAS])


def _data(seed=0, batch=GLOBAL_BATCH):
    """A regression batch ``(x, y)`` with ``y = x @ W* + noise``."""
    x = random_array((batch, IN), seed)
    y = (x @ random_array((IN, OUT), seed + 1) + 0.1 * random_array((batch, OUT), seed + 2)).astype("float32")
    return x, y


def _built_layer(make_layer, initial):
    """A fresh layer, built by a first call (as a training loop builds it), with ``initial`` assigned to its weights."""
    layer = make_layer(OUT)
    _run_or_fail(lambda: layer(tf.zeros((1, IN))), "first call")
    check(getattr(layer, "kernel", None) is not None, "layer.kernel after the first call", "a variable",
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

    return _run_or_fail(make, "building a Sequential model under the strategy")


def _mse_sum(layer, x, y):
    return tf.reduce_sum(tf.square(layer(x) - y))


def _run_or_fail(action, what, hint=SCOPE_HINT):
    try:
        return action()
    except (AssertionError, TypeError, ValueError, RuntimeError, tf.errors.OpError) as exc:
        fail(what, "it to run", f"{type(exc).__name__}: {' '.join(error_text(exc).split())[:400]}", hint)


@pytest.mark.seed
@pytest.mark.parametrize("made", ["in-scope", "before-scope"], ids=lambda m: f"layer-made-{m}")
def test_weights_built_in_strategy_scope_are_mirrored(make_layer, strategy, made):
    """A layer built inside ``MirroredStrategy.scope()`` (even one made before it) holds mirrored weights, one copy per replica."""
    layer = make_layer(OUT) if made == "before-scope" else None
    with strategy.scope():
        if layer is None:
            layer = make_layer(OUT)
        _run_or_fail(lambda: layer(random_array((2, IN))), "first call inside strategy.scope()")
    check(layer.weights != [], "weights of a layer built in scope", "at least a kernel", [])
    for weight in layer.weights:
        variable = generation.as_tf_variable(weight)
        mirrored = isinstance(variable, tf.distribute.DistributedValues) and strategy.extended.variable_created_in_scope(
            variable)
        check(mirrored, f"variable behind {generation.short_name(weight)}", "a mirrored variable of the strategy",
              type(variable).__name__, SCOPE_HINT)
        copies = strategy.experimental_local_results(variable)
        check(len(copies) == devices.REPLICAS, f"copies of {generation.short_name(weight)}",
              f"{devices.REPLICAS} (one per replica)", len(copies), SCOPE_HINT)


@pytest.mark.seed
def test_custom_training_step_matches_single_device(make_layer, strategy):
    """A custom step (``strategy.run`` + ``reduce``, SGD) on a split global batch equals the one-device step, after 1 step and after 3."""
    x, y = _data()
    initial = [to_numpy(w) for w in kernel_and_bias(_built_layer(make_layer, []))]

    single = _built_layer(make_layer, initial)
    single_opt = keras.optimizers.SGD(LR)

    def single_step():
        with tf.GradientTape() as tape:
            loss = _mse_sum(single, x, y) / GLOBAL_BATCH
        variables = kernel_and_bias(single)
        single_opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return float(loss)

    with strategy.scope():
        replicated = _built_layer(make_layer, initial)
        optimizer = keras.optimizers.SGD(LR)
    per_replica = GLOBAL_BATCH // devices.REPLICAS

    def shard(array):
        return strategy.experimental_distribute_values_from_function(
            lambda context: tf.constant(array[context.replica_id_in_sync_group * per_replica:][:per_replica]))

    x_shards, y_shards = shard(x), shard(y)

    def replica_step(xb, yb):
        with tf.GradientTape() as tape:
            loss = _mse_sum(replicated, xb, yb) / GLOBAL_BATCH  # scaled by the global batch: the replicas' sum is the mean
        variables = kernel_and_bias(replicated)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    @tf.function
    def distributed_step():
        losses = strategy.run(replica_step, args=(x_shards, y_shards))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)

    for step in range(1, 4):
        seen_loss = float(_run_or_fail(distributed_step, f"distributed training step {step}"))
        expected_loss = single_step()
        check(np.isclose(seen_loss, expected_loss, rtol=1e-5), f"reduced loss of step {step}",
              f"{expected_loss:.6g} (one device)", f"{seen_loss:.6g}")
        if step in (1, 3):
            for name, seen, expected in zip(("kernel", "bias"), kernel_and_bias(replicated), kernel_and_bias(single)):
                for replica, copy in enumerate(strategy.experimental_local_results(generation.as_tf_variable(seen))):
                    assert_close(copy, to_numpy(expected), f"{name} on replica {replica} after {step} step(s)",
                                 rtol=1e-5, atol=1e-6,
                                 hint="every replica must update the same mirrored variable with the all-reduced "
                                 "gradient; " + SCOPE_HINT)


@pytest.mark.seed
def test_fit_under_strategy_trains(make_layer, strategy):
    """``model.fit`` of a model built under the strategy runs, reports a finite loss and moves the weights."""
    x, y = _data(batch=2 * GLOBAL_BATCH)
    with strategy.scope():
        model = _sequential(make_layer, compiled=True)
    before = weight_values(model)
    history = _run_or_fail(lambda: model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, verbose=0), "model.fit under the strategy")
    losses = history.history["loss"]
    check(all(np.isfinite(losses)), "loss per epoch under the strategy", "finite", losses)
    moved = [not np.array_equal(b, a) for b, a in zip(before, weight_values(model))]
    check(all(moved), "weights after fit under the strategy", "every weight moved", f"moved: {moved}",
          "the weights the optimizer updates must be the ones call uses; " + SCOPE_HINT)


def test_model_saved_under_strategy_loads_without_it(make_layer, strategy, tmp_path):
    """A model built and saved under the strategy loads without it and predicts the same."""
    x, _ = _data()
    with strategy.scope():
        model = _sequential(make_layer)
        expected = to_numpy(model(x))
        path = tmp_path / f"model{generation.MODEL_SUFFIX}"
        _run_or_fail(lambda: model.save(str(path)), "model.save under the strategy")
    loaded = _run_or_fail(lambda: keras.models.load_model(str(path)), "load_model without the strategy",
                          "register the class (register_keras_serializable), return every constructor argument "
                          "from get_config, and create all weights in build")
    for weight in loaded.weights:
        variable = generation.as_tf_variable(weight)
        check(not isinstance(variable, tf.distribute.DistributedValues),
              f"variable behind {generation.short_name(weight)} after loading without the strategy",
              "a plain variable", type(variable).__name__)
    assert_close(loaded(x), expected, "predictions of the model loaded without the strategy", rtol=1e-6, atol=1e-6)
