"""Mutants the bias clauses reject: a bias that is created but misused.

Each class is the reference ``MyDenseLayer`` with one realistic mistake; the
first line of its docstring names it. The last one makes two independent
mistakes at once, so the report must show two causes (``tests/test_causes.py``).
"""

from __future__ import annotations

from layers import MyDenseLayer
from layers._compat import register_serializable, tf
from mutants._ops import OpsBase, activate, affine


def _linear(layer, inputs):
    """``inputs @ kernel`` over the last axis, in the layer's compute dtype (no bias, no activation)."""
    dtype = tf.as_dtype(layer.compute_dtype)
    inputs = tf.cast(inputs, dtype)
    return tf.tensordot(inputs, tf.cast(layer.kernel, dtype), [[inputs.shape.rank - 1], [0]])


def _activate(layer, outputs):
    return layer.activation(outputs) if layer.activation is not None else outputs


@register_serializable(package="mutants")
class BiasNeverAdded(MyDenseLayer):
    """Creates the bias but never adds it in call."""

    KILLED_BY = ("bias", "gradients", "differential")

    def call(self, inputs):
        return _activate(self, _linear(self, inputs))  # the mistake: self.bias is never used


@register_serializable(package="mutants")
class BiasSubtracted(MyDenseLayer):
    """Subtracts the bias instead of adding it."""

    KILLED_BY = ("bias", "gradients", "differential")

    def call(self, inputs):
        outputs = _linear(self, inputs)
        if self.bias is not None:
            outputs = outputs - tf.cast(self.bias, outputs.dtype)  # the mistake: minus
        return _activate(self, outputs)


@register_serializable(package="mutants")
class DefaultBiasOnes(MyDenseLayer):
    """Defaults ``bias_initializer`` to ``"ones"`` instead of ``"zeros"``."""

    KILLED_BY = ("bias", "tutorial")

    def __init__(self, units, bias_initializer="ones", **kwargs):  # the mistake: Dense's default is "zeros"
        super().__init__(units, bias_initializer=bias_initializer, **kwargs)


@register_serializable(package="mutants")
class BiasNeverAddedConfigDropsUnits(MyDenseLayer):
    """Two independent mistakes: never adds the bias in call, and leaves ``units`` out of get_config."""

    KILLED_BY = ("bias", "serialization")

    def call(self, inputs):
        return _activate(self, _linear(self, inputs))  # mistake 1: self.bias is never used

    def get_config(self):
        config = super().get_config()
        del config["units"]  # mistake 2: "units is in the weights' shapes anyway"
        return config


@register_serializable(package="mutants")
class OpsBiasNeverAdded(OpsBase):
    """keras.ops only: creates the bias but never adds it in call (rejected on TensorFlow and JAX alike)."""

    KILLED_BY = ("bias", "differential")
    GENERATIONS = (3,)  # keras.ops

    def call(self, inputs):
        return activate(self, affine(self, inputs, bias=False))
