"""``OpsOnlyDense``: a dense layer in ``keras.ops`` only, written from scratch for Keras 3."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="correct_layers")
class OpsOnlyDense(keras.layers.Layer):
    """``activation(x @ kernel + bias)`` with backend-neutral ops; the same arguments as ``keras.layers.Dense``."""

    layer_spec_backends = ("tensorflow", "jax")

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if type(units) is not int or units < 1:
            raise ValueError(f"OpsOnlyDense: `units` has to be a whole number of at least 1, not {units!r}")
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        features = input_shape[-1]
        if features is None:
            raise ValueError(f"OpsOnlyDense cannot size its kernel: the input's last dimension is unknown ({input_shape})")
        self.kernel = self._weight("kernel", (features, self.units))
        self.bias = self._weight("bias", (self.units,)) if self.use_bias else None
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: features})

    def _weight(self, part, shape):
        """``add_weight`` with the initializer, regularizer and constraint given for ``part`` (kernel or bias)."""
        return self.add_weight(name=part, shape=shape, **{
            role: getattr(self, f"{part}_{role}") for role in ("initializer", "regularizer", "constraint")})

    def call(self, inputs):
        y = ops.matmul(ops.cast(inputs, self.compute_dtype), ops.cast(self.kernel, self.compute_dtype))
        if self.use_bias:
            y = y + ops.cast(self.bias, self.compute_dtype)
        return y if self.activation is None else self.activation(y)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        options = ("activation", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
                   "activity_regularizer", "kernel_constraint", "bias_constraint")
        config = super().get_config() | {"units": self.units, "use_bias": self.use_bias}
        return config | {option: keras.saving.serialize_keras_object(getattr(self, option)) for option in options}
