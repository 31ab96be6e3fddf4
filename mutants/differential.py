"""Mutants the differential clauses reject: layers that run, build and train, but compute something else than Dense.

Each class is the reference ``MyDenseLayer`` with one realistic mistake; the
first line of its docstring names it.
"""

from __future__ import annotations

from layers import MyDenseLayer
from layers._compat import register_serializable, tf
from mutants._fake_quantized import STEP, FakeQuantizedBase, ScaledBase


@register_serializable(package="mutants")
class ActivationIgnored(MyDenseLayer):
    """Stores ``activation`` (and serializes it) but never applies it in call."""

    KILLED_BY = ("differential", "bias", "gradients")

    def call(self, inputs):
        dtype = tf.as_dtype(self.compute_dtype)
        inputs = tf.cast(inputs, dtype)
        outputs = tf.tensordot(inputs, tf.cast(self.kernel, dtype), [[inputs.shape.rank - 1], [0]])
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, dtype))
        return outputs  # the mistake: self.activation is never called


@register_serializable(package="mutants")
class MatmulInBfloat16(MyDenseLayer):
    """Multiplies in bfloat16 "for speed" and casts back, losing the precision Dense keeps in float32."""

    KILLED_BY = ("differential", "gradients", "bias")

    def call(self, inputs):
        dtype = tf.as_dtype(self.compute_dtype)
        low = tf.bfloat16  # the mistake: a silent precision downgrade inside a float32 layer
        x = tf.cast(inputs, low)
        outputs = tf.cast(tf.tensordot(x, tf.cast(self.kernel, low), [[x.shape.rank - 1], [0]]), dtype)
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, dtype))
        return self.activation(outputs) if self.activation is not None else outputs


@register_serializable(package="mutants")
class DeclaredRoundComputesFloor(FakeQuantizedBase):
    """Declares its kernel rounded to the nearest 1/8 as its effective weights, but computes with it rounded down."""

    KILLED_BY = ("differential",)

    def quantized(self, kernel):
        return kernel + tf.stop_gradient(tf.floor(kernel / STEP) * STEP - kernel)  # the mistake: floor, not round


@register_serializable(package="mutants")
class ScaleIgnoredInCall(ScaledBase):
    """Declares its kernel times ``kernel_scale`` as its effective weights, but computes with the kernel alone."""

    KILLED_BY = ("differential",)

    def transformed(self, kernel):
        return kernel  # the mistake: kernel_scale never applied


@register_serializable(package="mutants")
class ScaleDefaultChanged(ScaledBase):
    """Uses a ``kernel_scale`` of 2 when the option is left out, where it declares a default of 1."""

    KILLED_BY = ("differential",)

    def __init__(self, units, kernel_scale=2.0, **kwargs):  # the mistake: the declared default is 1.0
        super().__init__(units, kernel_scale=kernel_scale, **kwargs)
