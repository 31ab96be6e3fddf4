"""LoRA (capability ``lora``): ``layer.enable_lora(rank)`` does what it does to Keras 3's ``Dense``.

Keras 3's ``Dense.enable_lora(rank, lora_alpha=None)`` freezes ``kernel`` and adds two trainable weights,
``lora_kernel_a`` ``(input_dim, rank)`` and ``lora_kernel_b`` ``(rank, units)`` (zeros), so that the effective
kernel is ``kernel + (lora_alpha / rank) * lora_kernel_a @ lora_kernel_b`` (``lora_alpha`` defaults to ``rank``):
right after it the layer computes what it computed before, and training moves the adapters, never ``kernel``.
A model holding the adapted layer saves and loads with its predictions, and the reloaded layer still trains only
the adapters. Enabling LoRA before build, or twice, raises ``ValueError``. These clauses run only for a layer
that claims ``lora``, where ``Dense`` has it (Keras 3).
"""

from __future__ import annotations

import numpy as np
import pytest

from spec_tests import generation
from spec_tests.generation import keras, short_name
from spec_tests.helpers import (
    assert_all_bit_identical,
    assert_close,
    assert_weights_unchanged,
    expect_raises,
    expect_raises_naming,
    expect_that,
    random_array,
    reload_model,
    succeed,
    to_numpy,
    variable_table,
    weight_named,
    weight_values,
)

pytestmark = pytest.mark.capability("lora")

INPUT_DIM, UNITS, BATCH, RANK = 6, 4, 8, 2
TOL = {"rtol": 1e-5, "atol": 1e-6}
HINT = (
    "enable_lora(rank, lora_alpha=None) must add trainable weights lora_kernel_a (input_dim, rank) and "
    "lora_kernel_b (rank, units, zeros), set kernel.trainable = False, and compute with "
    "kernel + (lora_alpha / rank) * lora_kernel_a @ lora_kernel_b (lora_alpha defaults to rank)"
)
SAVE_HINT = (
    "put lora_rank and lora_alpha in get_config and call enable_lora(lora_rank) at the end of build, so that a "
    "reloaded layer has the adapters (Keras's Dense saves the kernel with the adapters merged into it)"
)


def _built(make_layer):
    layer = make_layer(UNITS, bias_initializer="random_normal")
    layer(np.zeros((1, INPUT_DIM), "float32"))
    return layer


def _enable_lora(layer, *args):
    succeed(lambda: layer.enable_lora(*args), f"layer.enable_lora{args}", "LoRA enabled", HINT)
    return layer


def _adapted(make_layer):
    return _enable_lora(_built(make_layer), RANK)


def weight(layer, name: str):
    return weight_named(layer, name, HINT)


def _dense_adapted(*args, **kwargs):
    dense = generation.Dense(UNITS)
    dense.build((None, INPUT_DIM))
    dense.enable_lora(*args, **kwargs)
    return dense


def _names(weights) -> list[str]:
    return sorted(short_name(w) for w in weights)


def test_lora_trains_the_adapters_of_dense_and_freezes_kernel(make_layer):
    """After ``enable_lora(rank)`` the weights are Dense's: trainable ``bias``, ``lora_kernel_a``, ``lora_kernel_b``; frozen ``kernel``."""
    layer, dense = _adapted(make_layer), _dense_adapted(RANK)
    expect_that(variable_table(layer) == variable_table(dense), "weights after enable_lora as (name, dtype, shape, trainable)",
                variable_table(dense), variable_table(layer), HINT)
    expect_that(_names(layer.trainable_weights) == _names(dense.trainable_weights), "trainable_weights after enable_lora",
                _names(dense.trainable_weights), _names(layer.trainable_weights), HINT)


def test_lora_starts_from_the_unadapted_outputs(make_layer):
    """Right after ``enable_lora(rank)`` the layer computes what it computed before."""
    layer = _built(make_layer)
    x = random_array((BATCH, INPUT_DIM), seed=71)
    before = to_numpy(layer(x))
    assert_close(_enable_lora(layer, RANK)(x), before, "outputs right after enable_lora versus before", **TOL,
                 hint="initialise lora_kernel_b with zeros, so that lora_kernel_a @ lora_kernel_b starts at zero")


@pytest.mark.parametrize("alpha", [None, 4.0], ids=["lora_alpha=rank", "lora_alpha=4"])
def test_lora_outputs_match_dense_with_the_same_adapters(make_layer, alpha):
    """With the same kernel, bias and adapters, the output equals Dense's: ``x @ (kernel + alpha / rank * a @ b) + bias``."""
    layer, dense = _enable_lora(_built(make_layer), RANK, alpha), _dense_adapted(RANK, alpha)
    for seed, name in enumerate(("kernel", "bias", "lora_kernel_a", "lora_kernel_b"), start=72):
        value = random_array(tuple(weight(dense, name).shape), seed=seed)
        for target in (layer, dense):
            weight(target, name).assign(value)
    x = random_array((BATCH, INPUT_DIM), seed=76)
    assert_close(layer(x), dense(x), f"outputs versus Dense with the same adapters (lora_alpha={alpha})", **TOL,
                 hint=HINT)


def _model(layer):
    model = keras.Sequential([keras.Input((INPUT_DIM,)), layer])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def _train(model, seed: int) -> None:
    x, y = random_array((BATCH, INPUT_DIM), seed=seed), random_array((BATCH, UNITS), seed=seed + 1)
    model.fit(x, y, epochs=2, batch_size=BATCH, verbose=0)


def test_lora_training_moves_the_adapters_and_not_kernel(make_layer):
    """Training after ``enable_lora(rank)`` leaves ``kernel`` bit-identical and changes ``lora_kernel_b``."""
    layer = _adapted(make_layer)
    kernel, adapter = to_numpy(weight(layer, "kernel")).copy(), to_numpy(weight(layer, "lora_kernel_b")).copy()
    _train(_model(layer), seed=77)
    assert_all_bit_identical([to_numpy(weight(layer, "kernel"))], [kernel], "kernel after training with LoRA",
                             "set kernel.trainable = False in enable_lora, so that the optimizer leaves it alone")
    expect_that(not np.array_equal(to_numpy(weight(layer, "lora_kernel_b")), adapter), "lora_kernel_b after training",
                "changed", "unchanged", "use lora_kernel_a @ lora_kernel_b in call, so that the adapters get gradients")


def test_lora_layer_saves_and_loads(make_layer, layer_cls, tmp_path):
    """A model holding a trained LoRA layer saves to ``.keras`` and loads back with its predictions, still training only the adapters."""
    layer = _adapted(make_layer)
    model = _model(layer)
    _train(model, seed=78)
    x = random_array((BATCH, INPUT_DIM), seed=80)
    expected = model.predict(x, verbose=0)
    loaded = reload_model(model, tmp_path / "lora.keras", layer_cls, "a model with a LoRA layer", SAVE_HINT)
    assert_close(loaded.predict(x, verbose=0), expected, "predictions of the reloaded LoRA model", **TOL,
                 hint=SAVE_HINT)
    reloaded = loaded.layers[-1]
    expect_that(_names(reloaded.trainable_weights) == _names(layer.trainable_weights),
                "trainable_weights of the reloaded LoRA layer", _names(layer.trainable_weights),
                _names(reloaded.trainable_weights), SAVE_HINT)


REFUSALS = {"before build": lambda make_layer: make_layer(UNITS), "a second time": _adapted}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_enable_lora_is_refused_before_build_and_a_second_time(make_layer, case):
    """``enable_lora(rank)`` before build, or a second time, raises and adds or changes no weight."""
    layer = REFUSALS[case](make_layer)
    before = weight_values(layer)
    expect_raises(lambda: layer.enable_lora(RANK), f"enable_lora {case}",
                  "check self.built and a lora_enabled flag at the top of enable_lora")
    assert_weights_unchanged(layer, before, f"weights after enable_lora {case} was refused")


@pytest.mark.should
@pytest.mark.parametrize("case", list(REFUSALS))
def test_enable_lora_refusal_is_a_value_error(make_layer, case):
    """``enable_lora(rank)`` before build, or a second time, raises ``ValueError``, as Dense does."""
    layer = REFUSALS[case](make_layer)
    expect_raises_naming(lambda: layer.enable_lora(RANK), ValueError, what=f"enable_lora {case}",
                         hint="raise ValueError naming the reason (not built yet; LoRA already enabled)")
