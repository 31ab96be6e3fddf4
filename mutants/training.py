"""Mutants the training clauses reject: layers that compute the right numbers but cannot be trained as asked.

Each class is the reference ``MyDenseLayer`` with one realistic mistake; the
first line of its docstring names it.
"""

from __future__ import annotations

from layers import MyDenseLayer
from layers._compat import keras, register_serializable, tf


@register_serializable(package="mutants")
class KernelBehindStopGradient(MyDenseLayer):
    """Reads the kernel through tf.stop_gradient in call, so no optimizer can ever move it."""

    KILLED_BY = ("training",)

    def call(self, inputs):
        dtype = tf.as_dtype(self.compute_dtype)
        # The mistake: stop_gradient meant "do not backprop into the inputs" but wraps the kernel.
        outputs = tf.matmul(tf.cast(inputs, dtype), tf.stop_gradient(tf.cast(self.kernel, dtype)))
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, dtype))
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


@register_serializable(package="mutants")
class ActivityRegularizerNotForwarded(MyDenseLayer):
    """Keeps ``activity_regularizer`` for itself instead of passing it to the base layer, so it never adds a loss."""

    KILLED_BY = ("training",)

    def __init__(self, units, activity_regularizer=None, **kwargs):
        super().__init__(units, **kwargs)  # the mistake: activity_regularizer is not forwarded
        self.requested_activity_regularizer = keras.regularizers.get(activity_regularizer)

    def get_config(self):
        config = super().get_config()
        config["activity_regularizer"] = keras.regularizers.serialize(self.requested_activity_regularizer)
        return config


@register_serializable(package="mutants")
class TrainableArgumentSwallowed(MyDenseLayer):
    """Takes ``trainable`` as its own argument and never passes it on, so a layer made frozen still trains."""

    KILLED_BY = ("training",)

    def __init__(self, units, trainable=True, **kwargs):
        super().__init__(units, **kwargs)  # the mistake: trainable stays here
        self.requested_trainable = bool(trainable)

    def get_config(self):
        config = super().get_config()
        config["trainable"] = self.requested_trainable
        return config
