"""Quantization (capability ``quantize_int8``): ``layer.quantize("int8")`` does what it does to Keras 3's ``Dense``.

Keras 3's ``Dense`` replaces its float kernel by an int8 ``kernel`` and a float32 ``kernel_scale`` of shape
``(units,)``, both frozen, and keeps the bias; its outputs stay within int8 rounding of the float ones; the
quantized layer saves and loads; quantizing it twice, or before it is built, raises ``ValueError`` and changes
nothing. These clauses run only for a layer that claims ``quantize_int8``, where ``Dense`` has it (Keras 3).

The stated tolerance: rounding the kernel and the inputs to int8 moves each output by at most
``input_dim * max|x| * max|W[:, j]| / 127`` (``x`` the input row, ``W[:, j]`` the unit's float kernel column: half
a step of 1/127 for each of the two roundings). On standard-normal data (5 seeds, shapes 8x4->3, 16x32->8,
4x128->16, 8x16->5) Keras 3.15's ``Dense``, which rounds the inputs too, used at most 0.36 of this bound, and
``layers.AdaptableDense``, which rounds only the kernel, 0.23; a scale applied the wrong way round, or forgotten,
is off by a factor near 127.
"""

from __future__ import annotations

import numpy as np
import pytest

from spec_tests import generation
from spec_tests.generation import keras
from spec_tests.helpers import (
    assert_all_bit_identical,
    assert_close,
    assert_weights_unchanged,
    dtype_name,
    expect_raises,
    expect_raises_naming,
    expect_that,
    kernel_of,
    random_array,
    reload_model,
    succeed,
    to_numpy,
    variable_table,
    weight_values,
)

pytestmark = pytest.mark.capability("quantize_int8")

MODE = "int8"
INPUT_DIM, UNITS, BATCH = 16, 5, 8
HINT = (
    "quantize('int8') must replace the float kernel by an int8 variable named kernel and a float32 variable "
    "kernel_scale of shape (units,) (kernel = round(W * scale), scale = 127 / max|W[:, j]|), both trainable=False, "
    "set self._is_quantized = True and the dtype policy int8_from_<policy>, and call must divide by the scale; "
    "see keras.io's guide 'Writing quantization-compatible layers'"
)
SAVE_HINT = (
    "a quantized layer must rebuild its int8 variables when it is loaded: in build, when self.quantization_mode "
    "== 'int8', create kernel (int8) and kernel_scale instead of the float kernel, and save and load kernel_scale "
    "with the others"
)


def _built(make_layer, **kwargs):
    layer = make_layer(UNITS, bias_initializer="random_normal", **kwargs)
    layer(np.zeros((1, INPUT_DIM), "float32"))
    return layer


def _quantize(layer):
    succeed(lambda: layer.quantize(MODE), "layer.quantize('int8')", "the layer quantized", HINT)
    return layer


def _dense_quantized() -> list[tuple]:
    dense = generation.Dense(UNITS)
    dense.build((None, INPUT_DIM))
    dense.quantize(MODE)
    return variable_table(dense)


def int8_bound(x, kernel) -> np.ndarray:
    """How far int8 rounding of the inputs and the kernel may move each output: ``d * max|x_row| * max|W_col| / 127``."""
    x, kernel = np.asarray(x, np.float64), np.asarray(kernel, np.float64)
    return kernel.shape[0] * np.abs(x).max(axis=-1, keepdims=True) * np.abs(kernel).max(axis=0) / 127.0


def test_quantized_variables_are_those_of_dense(make_layer):
    """After ``quantize("int8")`` the layer holds Dense's variables: an int8 ``kernel`` and a float32 ``kernel_scale`` ``(units,)``, frozen, and the float bias."""
    layer = _quantize(_built(make_layer))
    expected, seen = _dense_quantized(), variable_table(layer)
    expect_that(seen == expected, "weights after quantize('int8') as (name, dtype, shape, trainable)", expected, seen, HINT)


@pytest.mark.parametrize("shape", [(BATCH, INPUT_DIM), (2, 3, INPUT_DIM)], ids=["rank2", "rank3"])
def test_quantized_outputs_stay_within_int8_rounding(make_layer, shape):
    """After ``quantize("int8")`` every output is within ``input_dim * max|x| * max|W[:, j]| / 127`` of the float output, in the float dtype."""
    layer = _built(make_layer)
    x = random_array(shape, seed=61)
    kernel, expected = to_numpy(kernel_of(layer)).copy(), to_numpy(layer(x))
    seen = to_numpy(_quantize(layer)(x))
    expect_that(dtype_name(seen.dtype) == dtype_name(expected.dtype), "dtype of the quantized layer's output",
                dtype_name(expected.dtype), dtype_name(seen.dtype), HINT)
    expect_that(seen.shape == expected.shape, "shape of the quantized layer's output", expected.shape, seen.shape, HINT)
    error, bound = np.abs(seen.astype(np.float64) - expected), int8_bound(x, kernel)
    worst = np.unravel_index(np.argmax(error / bound), error.shape)
    expect_that(bool((error <= bound).all()), "quantized output minus float output",
                f"|difference| <= {bound[worst]:.3g} at index {tuple(map(int, worst))} (int8 rounding)",
                f"{error[worst]:.3g} ({int((error > bound).sum())} of {error.size} outputs beyond the bound)", HINT)


def test_quantized_layer_saves_and_loads(make_layer, layer_cls, tmp_path):
    """A model holding a quantized layer saves to ``.keras`` and loads back quantized, with the same variables and predictions."""
    layer = _quantize(_built(make_layer))
    model = keras.Sequential([keras.Input((INPUT_DIM,)), layer])
    x = random_array((BATCH, INPUT_DIM), seed=62)
    expected = model.predict(x, verbose=0)
    loaded = reload_model(model, tmp_path / "quantized.keras", layer_cls, "a model with a quantized layer", SAVE_HINT)
    reloaded = loaded.layers[-1]
    expect_that(variable_table(reloaded) == variable_table(layer), "weights of the reloaded quantized layer",
                variable_table(layer), variable_table(reloaded), SAVE_HINT)
    assert_all_bit_identical(weight_values(reloaded), weight_values(layer), "values of the reloaded weights", SAVE_HINT)
    assert_close(loaded.predict(x, verbose=0), expected, "predictions of the reloaded quantized model", rtol=1e-6,
                 atol=1e-6, hint=SAVE_HINT)


def _unbuilt(make_layer):
    return make_layer(UNITS), None


def _already_quantized(make_layer):
    layer = _quantize(_built(make_layer))
    return layer, random_array((BATCH, INPUT_DIM), seed=63)


REFUSALS = {"before build": _unbuilt, "a second time": _already_quantized}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_quantize_is_refused_before_build_and_a_second_time(make_layer, case):
    """``quantize("int8")`` before build, or a second time, raises and leaves the layer as it was."""
    layer, x = REFUSALS[case](make_layer)
    before = weight_values(layer)
    outputs = None if x is None else to_numpy(layer(x))
    expect_raises(lambda: layer.quantize(MODE), f"quantize('int8') {case}",
                  "Keras's quantize wrapper refuses both when the layer defines quantize() and sets "
                  "self._is_quantized = True")
    assert_weights_unchanged(layer, before, f"weights after quantize('int8') {case} was refused")
    if outputs is not None:
        assert_close(layer(x), outputs, f"outputs after quantize('int8') {case} was refused", rtol=0, atol=0)


@pytest.mark.should
@pytest.mark.parametrize("case", list(REFUSALS))
def test_quantize_refusal_is_a_value_error(make_layer, case):
    """``quantize("int8")`` before build, or a second time, raises ``ValueError``, as Dense does."""
    layer = REFUSALS[case](make_layer)[0]
    expect_raises_naming(lambda: layer.quantize(MODE), ValueError, what=f"quantize('int8') {case}",
                         hint="let Keras's quantize wrapper refuse it (it raises ValueError), or raise ValueError yourself")
