"""Mutants the shape clauses reject: layers written for rank-2 inputs only, or that misreport their output shape.

Each class is the reference ``MyDenseLayer`` with one realistic mistake; the
first line of its docstring names it.
"""

from __future__ import annotations

from layers import MyDenseLayer
from layers._compat import register_serializable, tf


@register_serializable(package="mutants")
class EinsumRank2Only(MyDenseLayer):
    """Multiplies with ``einsum("bi,ij->bj")``, so only rank-2 inputs work."""

    KILLED_BY = ("shapes", "bias", "gradients", "differential")

    def call(self, inputs):
        inputs = tf.cast(inputs, self.compute_dtype)
        outputs = tf.einsum("bi,ij->bj", inputs, tf.cast(self.kernel, self.compute_dtype))  # the mistake
        if self.bias is not None:
            outputs = outputs + tf.cast(self.bias, self.compute_dtype)
        return self.activation(outputs) if self.activation is not None else outputs


@register_serializable(package="mutants")
class OutputShapeRank2Only(MyDenseLayer):
    """Reports ``(batch, units)`` from ``compute_output_shape`` whatever the input's rank."""

    KILLED_BY = ("shapes",)

    def compute_output_shape(self, input_shape):
        return (tuple(input_shape)[0], self.units)  # the mistake: drops the middle axes


@register_serializable(package="mutants")
class FlattensLeadingAxes(MyDenseLayer):
    """Flattens every leading axis into the batch and never restores them, so rank-3 inputs come out rank 2."""

    KILLED_BY = ("shapes", "bias", "gradients", "differential")

    def call(self, inputs):
        flat = tf.reshape(inputs, (-1, tf.shape(inputs)[-1]))  # the mistake: no reshape back to inputs' leading axes
        return super().call(flat)


@register_serializable(package="mutants")
class ReshapesWithStaticShape(MyDenseLayer):
    """Reshapes rank-3+ results back with the static ``inputs.shape`` past the batch, so an axis of unknown length (None) breaks it."""

    KILLED_BY = ("shapes",)

    def call(self, inputs):
        if isinstance(inputs, tf.RaggedTensor) or inputs.shape.rank == 2:
            return super().call(inputs)
        outputs = super().call(tf.reshape(inputs, (-1, inputs.shape[-1])))
        batch = tf.shape(inputs)[0]  # dynamic, as it should be; the other axes are the mistake: static, None when unknown
        return tf.reshape(outputs, (batch, *inputs.shape[1:-1], self.units))
