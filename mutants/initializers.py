"""Dense layers that mishandle initializers, regularizers, constraints or the activation, each in one realistic way."""

from __future__ import annotations

import math

import numpy as np

from layers import MyDenseLayer
from layers._compat import keras, register_serializable, tf


@register_serializable(package="mutants")
class DefaultKernelRandomNormal(MyDenseLayer):
    """Defaults kernel_initializer to "random_normal" instead of Dense's "glorot_uniform"."""

    KILLED_BY = ("initializers",)

    def __init__(self, units, kernel_initializer="random_normal", **kwargs):
        super().__init__(units, kernel_initializer=kernel_initializer, **kwargs)


@register_serializable(package="mutants")
class KernelInitializerArgumentIgnored(MyDenseLayer):
    """Stores kernel_initializer but always builds the kernel with glorot_uniform."""

    KILLED_BY = ("initializers",)

    def add_weight(self, *args, **kwargs):
        if kwargs.get("name") == "kernel":
            kwargs["initializer"] = "glorot_uniform"
        return super().add_weight(*args, **kwargs)


@register_serializable(package="mutants")
class KernelFromUnseededNumpy(MyDenseLayer):
    """Draws the glorot-uniform kernel from an unseeded np.random.default_rng(), so set_random_seed cannot reproduce it."""

    KILLED_BY = ("initializers",)

    def add_weight(self, *args, **kwargs):
        if kwargs.get("name") == "kernel" and isinstance(kwargs.get("initializer"), keras.initializers.GlorotUniform):
            kwargs["initializer"] = _unseeded_glorot_uniform
        return super().add_weight(*args, **kwargs)


def _unseeded_glorot_uniform(shape, dtype=None, **kwargs):
    limit = math.sqrt(6.0 / (int(shape[0]) + int(shape[1])))
    # The mistake: a fresh generator seeded from the OS; np.random.seed and set_random_seed never reach it.
    values = np.random.default_rng().uniform(-limit, limit, size=tuple(int(d) for d in shape))
    return tf.constant(values, dtype=dtype or "float32")


@register_serializable(package="mutants")
class RegularizersNotPassedToAddWeight(MyDenseLayer):
    """Stores kernel_regularizer and bias_regularizer but never hands them to add_weight, so no penalty is added."""

    KILLED_BY = ("initializers",)

    def add_weight(self, *args, **kwargs):
        kwargs.pop("regularizer", None)
        return super().add_weight(*args, **kwargs)


@register_serializable(package="mutants")
class KernelPenaltyAddedTwice(MyDenseLayer):
    """Passes the kernel regularizer to add_weight and also adds its penalty again with add_loss in call."""

    KILLED_BY = ("initializers",)

    def call(self, inputs):
        if self.kernel_regularizer is not None:
            self.add_loss(self.kernel_regularizer(self.kernel))
        return super().call(inputs)


@register_serializable(package="mutants")
class ConstraintAppliedOnlyInBuild(MyDenseLayer):
    """Projects the initial weights onto the constraints in build but never gives them to the optimizer."""

    KILLED_BY = ("initializers",)

    def add_weight(self, *args, **kwargs):
        constraint = kwargs.pop("constraint", None)
        weight = super().add_weight(*args, **kwargs)
        if constraint is not None:
            weight.assign(constraint(weight))
        return weight


@register_serializable(package="mutants")
class ActivationAppliedBeforeBias(MyDenseLayer):
    """Applies the activation to x @ W and adds the bias afterwards."""

    KILLED_BY = ("initializers",)

    def call(self, inputs):
        dtype = tf.as_dtype(self.compute_dtype)
        outputs = tf.tensordot(tf.cast(inputs, dtype), tf.cast(self.kernel, dtype), [[inputs.shape.rank - 1], [0]])
        if self.activation is not None:
            outputs = self.activation(outputs)
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, dtype))
        return outputs
