"""Mutants the serialization clauses reject: configs that lose arguments, and weights Keras cannot see.

Each class is the reference ``MyDenseLayer`` with one realistic mistake; the
first line of its docstring names it.
"""

from __future__ import annotations

import types

from layers import MyDenseLayer
from layers._compat import keras, register_serializable, tf
from mutants._fake_quantized import ScaledBase
from mutants._minimal import MinimalDense


@register_serializable(package="mutants")
class ConfigForgetsActivation(MyDenseLayer):
    """Leaves the activation out of get_config, so a reloaded layer is linear."""

    KILLED_BY = ("serialization",)

    def get_config(self):
        config = super().get_config()
        del config["activation"]  # the mistake: "activation is not a weight, it needs no saving"
        return config


@register_serializable(package="mutants")
class ConfigSkipsSuper(MyDenseLayer):
    """Builds get_config from its own arguments without super().get_config(), losing name, dtype and trainable."""

    KILLED_BY = ("serialization",)

    def get_config(self):
        # The mistake: no super().get_config(), so the base layer's arguments are lost.
        return {
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": keras.regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
        }


@register_serializable(package="mutants")
class ConfigRenamesUnits(MyDenseLayer):
    """Saves ``units`` under another key in get_config, so from_config cannot rebuild the layer."""

    KILLED_BY = ("serialization",)

    def get_config(self):
        config = super().get_config()
        config["output_dim"] = config.pop("units")  # the mistake: the key is not the constructor's argument
        return config


@register_serializable(package="mutants")
class ConfigKeepsInitializerObject(MyDenseLayer):
    """Puts the kernel initializer object itself in get_config instead of its serialized form, so the config is not JSON."""

    KILLED_BY = ("serialization",)

    def get_config(self):
        config = super().get_config()
        config["kernel_initializer"] = self.kernel_initializer  # the mistake: keras.initializers.serialize is missing
        return config


@register_serializable(package="mutants")
class KernelInHelperObject(MyDenseLayer):
    """Keeps its weights in a plain helper object, so Keras never tracks them: nothing is saved, restored or trained."""

    KILLED_BY = ("serialization", "training")

    def build(self, input_shape):
        input_dim = int(tuple(input_shape)[-1])
        kernel = tf.Variable(self.kernel_initializer((input_dim, self.units)), name="kernel")
        bias = tf.Variable(self.bias_initializer((self.units,)), name="bias") if self.use_bias else None
        # The mistake: a SimpleNamespace is opaque to Keras's and TensorFlow's tracking.
        self.params = types.SimpleNamespace(kernel=kernel, bias=bias)
        self.built = True

    @property
    def kernel(self):
        return self.params.kernel

    @property
    def bias(self):
        return self.params.bias


@register_serializable(package="mutants")
class KernelAsRawTfVariable(MyDenseLayer):
    """Creates its weights with tf.Variable instead of add_weight, which Keras 3 does not track as layer weights."""

    KILLED_BY = ("serialization", "training")
    # Keras 2 tracks a tf.Variable assigned to a layer attribute as a weight; Keras 3 does not.
    GENERATIONS = (3,)

    def build(self, input_shape):
        input_dim = int(tuple(input_shape)[-1])
        # The mistake: tf.Variable, not self.add_weight(...).
        self.kernel = tf.Variable(self.kernel_initializer((input_dim, self.units)), name="kernel")
        self.bias = tf.Variable(self.bias_initializer((self.units,)), name="bias") if self.use_bias else None
        self.built = True


@register_serializable(package="mutants")
class ConfigConstraintsByClassName(MyDenseLayer):
    """Writes the constraints to get_config by class name alone, so MaxNorm(0.5) comes back as MaxNorm() (max_value 2)."""

    KILLED_BY = ("serialization",)

    def get_config(self):
        config = super().get_config()
        for key in ("kernel_constraint", "bias_constraint"):
            constraint = getattr(self, key)
            config[key] = None if constraint is None else type(constraint).__name__  # the mistake: no arguments
        return config


@register_serializable(package="mutants")
class ConfigDtypeIsVariableDtype(MyDenseLayer):
    """Writes ``dtype=self.dtype`` to get_config, the variable dtype, so a mixed_float16 layer comes back float32."""

    KILLED_BY = ("serialization",)

    def get_config(self):
        config = super().get_config()
        config["dtype"] = self.dtype  # the mistake: the policy super().get_config() wrote is replaced by "float32"
        return config


@register_serializable(package="mutants")
class ConfigActivationByFunctionName(MyDenseLayer):
    """Writes ``activation.__name__`` to get_config, so a registered custom activation loses its package and cannot load."""

    KILLED_BY = ("serialization",)

    def get_config(self):
        config = super().get_config()
        config["activation"] = self.activation.__name__  # the mistake: keras.activations.serialize is missing
        return config


@register_serializable(package="mutants")
class MinimalDenseConfigDropsActivation(MinimalDense):
    """A minimal custom layer whose get_config leaves ``activation`` out: from_config rebuilds a linear layer."""

    KILLED_BY = ("serialization",)
    PROFILE = "custom"
    GENERATIONS = (3,)

    def get_config(self):
        config = super().get_config()
        del config["activation"]
        return config


@register_serializable(package="mutants")
class ScaleLeftOutOfConfig(ScaledBase):
    """Leaves its own option ``kernel_scale`` out of ``get_config``, so a rebuilt layer scales by 1."""

    KILLED_BY = ("serialization",)

    def get_config(self):
        return super(ScaledBase, self).get_config()  # the mistake: Dense's config only
