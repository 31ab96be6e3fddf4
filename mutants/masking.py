"""Mutants the masking clauses reject: layers that drop, replace or act on the mask Dense passes on unchanged.

Each class is the reference ``MyDenseLayer`` with one realistic mistake; the first line of its docstring
names it.
"""

from __future__ import annotations

from layers import MyDenseLayer
from layers._compat import LEGACY, keras, register_serializable, tf
from mutants._minimal import MinimalDense



def _any_nonzero_feature(inputs):
    """What ``keras.layers.Masking(0.0)`` computes, with the generation's ops, so it runs on symbolic inputs too."""
    if LEGACY:
        return tf.reduce_any(tf.not_equal(inputs, 0), axis=-1)
    return keras.ops.any(keras.ops.not_equal(inputs, 0), axis=-1)


@register_serializable(package="mutants")
class MaskingNotSupported(MyDenseLayer):
    """Leaves ``supports_masking`` at a custom layer's default (False), so the mask of its input is dropped."""

    KILLED_BY = ("masking",)

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.supports_masking = False  # the mistake: what a layer written from scratch gets without the line


@register_serializable(package="mutants")
class ComputeMaskReturnsNone(MyDenseLayer):
    """Overrides compute_mask to return None ("a dense layer makes no mask"), so the mask is dropped without a warning."""

    KILLED_BY = ("masking",)

    def compute_mask(self, inputs, mask=None):
        return None  # the mistake: Dense returns the incoming mask


@register_serializable(package="mutants")
class MaskFromOwnInputs(MyDenseLayer):
    """Derives its output mask from its inputs, like ``Masking(0.0)``, instead of passing the incoming mask on."""

    KILLED_BY = ("masking",)

    def compute_mask(self, inputs, mask=None):
        # the mistake: a non-zero embedding of the padding token is not padding to this test
        return _any_nonzero_feature(inputs)


@register_serializable(package="mutants")
class MaskZeroesPaddedSteps(MyDenseLayer):
    """Multiplies its outputs by the mask "to respect padding", so masked positions give 0 instead of Dense's value."""

    KILLED_BY = ("masking",)

    def call(self, inputs, mask=None):
        outputs = super().call(inputs)
        if mask is not None:  # the mistake: Dense computes every position and leaves the mask to later layers
            outputs = outputs * tf.cast(mask, outputs.dtype)[..., None]
        return outputs


@register_serializable(package="mutants")
class MinimalDenseDropsMask(MinimalDense):
    """A minimal custom layer that never says it supports masking: Keras drops the mask after it."""

    KILLED_BY = ("masking",)
    PROFILE = "custom"
    GENERATIONS = (3,)

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.supports_masking = False
