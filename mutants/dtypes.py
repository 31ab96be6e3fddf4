"""Dense layers that get dtypes wrong: each passes the float32 core spec and breaks under float64 or mixed precision."""

from __future__ import annotations

from layers import MyDenseLayer
from layers._compat import register_serializable, tf
from mutants._ops import OpsBase, activate, ops


@register_serializable(package="mutants")
class InputsCastToFloat32(MyDenseLayer):
    """Casts the inputs to float32 in call, ignoring the compute dtype, so float16/float64 weights do not match."""

    KILLED_BY = ("dtypes",)

    def call(self, inputs):
        outputs = tf.matmul(tf.cast(inputs, tf.float32), self.kernel)
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, self.bias)
        return self.activation(outputs) if self.activation is not None else outputs


@register_serializable(package="mutants")
class WeightsInComputeDtype(MyDenseLayer):
    """Creates its weights with dtype=self.compute_dtype, so mixed precision makes them float16 variables."""

    KILLED_BY = ("dtypes",)

    def add_weight(self, *args, **kwargs):
        kwargs["dtype"] = self.compute_dtype
        return super().add_weight(*args, **kwargs)


@register_serializable(package="mutants")
class ComputesInFloat32(MyDenseLayer):
    """Does the matmul in float32 and casts the result back, so a float64 layer has only float32 precision."""

    KILLED_BY = ("dtypes",)

    def call(self, inputs):
        dtype = tf.as_dtype(self.compute_dtype)
        outputs = tf.matmul(tf.cast(inputs, tf.float32), tf.cast(self.kernel, tf.float32))
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, tf.float32))
        outputs = tf.cast(outputs, dtype)
        return self.activation(outputs) if self.activation is not None else outputs


@register_serializable(package="mutants")
class OpsComputesInFloat32(OpsBase):
    """keras.ops only: casts inputs and weights to a hard-coded "float32", ignoring the compute dtype."""

    KILLED_BY = ("dtypes",)
    GENERATIONS = (3,)  # keras.ops

    def call(self, inputs):
        outputs = ops.matmul(ops.cast(inputs, "float32"), ops.cast(self.kernel, "float32"))
        if self.bias is not None:
            outputs = ops.add(outputs, ops.cast(self.bias, "float32"))
        return activate(self, outputs)
