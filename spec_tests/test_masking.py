"""Masks: the layer passes the mask it receives on, unchanged, and computes every position as usual.

Keras carries a boolean mask with a tensor (``Embedding(mask_zero=True)``, ``Masking``) so that later
layers (LSTM, masked pooling, losses) skip the padding. ``keras.layers.Dense`` hands the incoming mask on
unchanged, for inputs of rank 3 and 4, eagerly, symbolically and in a functional model, and its outputs
do not depend on the mask (measured on Keras 3.15 and tf-keras 2.21). A layer that drops the mask makes
every later layer run over the padding in silence: Keras 3 warns only that the layer "will therefore
destroy the mask information"; Keras 2 says nothing. Dense accepts no ``mask=`` argument of its own, so
the clauses attach masks the way programs do: through ``Embedding`` and ``Masking``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from spec_tests import forward
from spec_tests.generation import keras
from spec_tests.helpers import (
    assert_close,
    expect_that,
    keras_mask,
    random_array,
    set_dense_weights,
    to_numpy,
)

UNITS = 3
FEATURES = 4
VOCABULARY = 10
#: Token ids, padded with 0 at the end: the mask is True for the tokens, False for the padding.
TOKENS = np.array([[1, 2, 0, 0], [3, 4, 5, 0], [6, 0, 0, 0]], dtype="int32")

MASK_HINT = ("set self.supports_masking = True in __init__ (a custom layer's default is False) and do not "
             "override compute_mask, or return the incoming mask from it unchanged, as Dense does")
VALUES_HINT = "compute every position as usual: Dense ignores the mask in call (it has no mask argument)"


def _embedded(tokens):
    """Rank 3: ``Embedding(mask_zero=True)`` of the tokens, with a mask of shape (batch, steps)."""
    return keras.layers.Embedding(VOCABULARY, FEATURES, mask_zero=True)(tokens)


def _rank4_values() -> np.ndarray:
    """A (2, 3, 4, FEATURES) input whose rows [0, 1, 2] and [1, 0, :] are all zeros, so ``Masking(0.0)`` masks them."""
    x = random_array((2, 3, 4, FEATURES), seed=5)
    x[0, 1, 2, :] = 0.0
    x[1, 0, :, :] = 0.0
    return x


def _masked_rank4(values):
    """Rank 4: ``Masking(0.0)`` of the values, with a mask of shape (batch, 3, 4)."""
    return keras.layers.Masking(0.0)(values)


#: kind -> (masked eager input, its expected mask, keras.Input, the masking layer applied to that Input)
KINDS = {
    "rank-3 Embedding(mask_zero=True)": (
        lambda: _embedded(TOKENS), lambda: TOKENS != 0,
        lambda: keras.Input((TOKENS.shape[1],), dtype="int32"), _embedded,
    ),
    "rank-4 Masking(0.0)": (
        lambda: _masked_rank4(_rank4_values()), lambda: np.any(_rank4_values() != 0.0, axis=-1),
        lambda: keras.Input(_rank4_values().shape[1:]), _masked_rank4,
    ),
}


def _eager(kind):
    make_input, expected_mask, _, _ = KINDS[kind]
    x = make_input()
    expect_that(np.array_equal(to_numpy(keras_mask(x)), expected_mask()), f"mask of the {kind} input",
                "the padding masked", "another mask (clause bug)")
    return x, expected_mask()


def _check_mask(seen, expected, what):
    expect_that(seen is not None, what, f"a boolean mask of shape {expected.shape}, the input's", "no mask", MASK_HINT)
    seen = to_numpy(seen)
    expect_that(seen.shape == expected.shape and np.array_equal(seen, expected), what, f"the input's mask {expected.tolist()}",
                f"{seen.tolist()}", MASK_HINT)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_mask_passes_through_an_eager_call(make_layer, kind):
    """Called eagerly on a masked input, the layer returns outputs that carry the input's mask, unchanged."""
    x, expected = _eager(kind)
    y = make_layer(UNITS)(x)
    expect_that(tuple(y.shape) == tuple(x.shape)[:-1] + (UNITS,), "output shape", tuple(x.shape)[:-1] + (UNITS,),
                tuple(y.shape))
    _check_mask(keras_mask(y), expected, "mask of the output")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_mask_passes_through_a_symbolic_call(make_layer, kind):
    """Called on a masked ``keras.Input``, the layer's symbolic output carries a mask of the input mask's shape."""
    _, expected_mask, make_symbolic, apply_masking = KINDS[kind]
    masked = apply_masking(make_symbolic())
    out = make_layer(UNITS)(masked)
    seen = keras_mask(out)
    expected_shape = tuple(keras_mask(masked).shape)
    expect_that(seen is not None and tuple(seen.shape) == expected_shape, "mask of the symbolic output",
                f"a mask of shape {expected_shape}", "no mask" if seen is None else f"a mask of shape {tuple(seen.shape)}",
                MASK_HINT)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_functional_model_output_carries_the_mask(make_layer, kind):
    """A functional model ``Input -> masking layer -> layer`` returns outputs that carry the input's mask."""
    make_input, expected_mask, make_symbolic, apply_masking = KINDS[kind]
    inputs = make_symbolic()
    model = keras.Model(inputs, make_layer(UNITS)(apply_masking(inputs)))
    data = TOKENS if kind.startswith("rank-3") else _rank4_values()
    _check_mask(keras_mask(model(data)), expected_mask(), "mask of the functional model's output")


def test_compute_mask_returns_the_input_mask(make_layer):
    """``compute_mask(inputs, mask)`` returns ``mask`` unchanged, and None when there is no mask."""
    x, expected = _eager("rank-3 Embedding(mask_zero=True)")
    layer = make_layer(UNITS)
    layer(x)
    _check_mask(layer.compute_mask(x, keras_mask(x)), expected, "compute_mask(inputs, mask)")
    seen = layer.compute_mask(x, None)
    expect_that(seen is None, "compute_mask(inputs, None)", None, f"a {type(seen).__name__}", MASK_HINT)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_masked_call_raises_no_mask_warning(make_layer, kind):
    """Calling the layer on a masked input, eagerly and symbolically, raises no warning that the mask is lost."""
    x, _ = _eager(kind)
    _, _, make_symbolic, apply_masking = KINDS[kind]
    masked = apply_masking(make_symbolic())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_layer(UNITS)(x)
        make_layer(UNITS)(masked)
    about_masks = [str(w.message)[:200] for w in caught if "mask" in str(w.message).lower()]
    expect_that(not about_masks, "warnings about masks", "none", about_masks, MASK_HINT)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_mask_changes_no_output_value(make_layer, kind):
    """The outputs on a masked input equal the outputs on the same values without a mask, padding included."""
    x, _ = _eager(kind)
    layer = make_layer(UNITS)
    masked = to_numpy(layer(x))
    plain = to_numpy(layer(np.array(to_numpy(x))))  # the same values, with no mask attached
    assert_close(masked, plain, "outputs on the masked input vs the same values unmasked", rtol=1e-6, atol=1e-7,
                 hint=VALUES_HINT)


#: Layers that read the mask after the dense layer: what a program that pads its sequences runs next.
DOWNSTREAM = {
    "LSTM(2)": lambda: keras.layers.LSTM(2),
    "GlobalAveragePooling1D": lambda: keras.layers.GlobalAveragePooling1D(),
}


def _sequence_model(layer, downstream):
    keras.utils.set_random_seed(7)
    inputs = keras.Input((TOKENS.shape[1],), dtype="int32")
    return keras.Model(inputs, DOWNSTREAM[downstream]()(layer(_embedded(inputs))))


@pytest.mark.parametrize("downstream", sorted(DOWNSTREAM))
def test_masked_sequence_model_matches_dense(make_layer, downstream):
    """``Embedding(mask_zero=True) -> layer -> LSTM`` (or masked average pooling) gives the outputs of the same model with ``keras.layers.Dense`` at the same weights: the padding is skipped."""
    dense, layer = keras.layers.Dense(UNITS), make_layer(UNITS)
    reference = _sequence_model(dense, downstream)
    model = _sequence_model(layer, downstream)
    for theirs, ours in zip(reference.layers, model.layers):
        if ours is layer and forward.current().extra:  # Dense's weight list is not a layer's with extra weights
            set_dense_weights(layer, to_numpy(dense.kernel), to_numpy(dense.bias))
        else:
            ours.set_weights(theirs.get_weights())
    if forward.current().declared:  # Dense computes with the weights the layer declares it computes with
        set_dense_weights(dense, *forward.effective_weights(layer))
    assert_close(model(TOKENS), reference(TOKENS), f"outputs of Embedding(mask_zero=True) -> layer -> {downstream}",
                 rtol=1e-5, atol=1e-6, hint=MASK_HINT)
