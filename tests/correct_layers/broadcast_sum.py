"""``BroadcastSumDense``: ``sum(x[..., :, None] * W, axis=-2)`` in ``keras.ops``, its config written field by field.

``get_config`` does not call the base class: it writes every field itself, each Keras object through
``keras.saving.serialize_keras_object``, and ``from_config`` turns them back with
``deserialize_keras_object``.
"""

import keras
from keras import ops

_OBJECTS = ("activation", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
            "activity_regularizer", "kernel_constraint", "bias_constraint")


@keras.saving.register_keras_serializable(package="correct_layers")
class BroadcastSumDense(keras.layers.Layer):
    """Every output is an explicit sum of products: the inputs broadcast against the kernel, reduced over inputs."""

    layer_spec_backends = ("tensorflow", "jax")

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not (isinstance(units, int) and not isinstance(units, bool) and units > 0):
            raise ValueError(f"BroadcastSumDense: units must be a positive integer (received units={units!r})")
        self.units = units
        self.use_bias = bool(use_bias)
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        width = input_shape[-1]
        if width is None:
            raise ValueError(f"BroadcastSumDense.build({input_shape}): the feature axis has no size")
        self.kernel = self.add_weight(shape=(width, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel")
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        name="bias")
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: width})

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        products = ops.expand_dims(x, -1) * ops.cast(self.kernel, self.compute_dtype)  # (..., in, units)
        y = ops.sum(products, axis=-2)
        if self.bias is not None:
            y = ops.add(y, ops.cast(self.bias, self.compute_dtype))
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.saving.serialize_keras_object(self.dtype_policy),
            "units": self.units,
            "use_bias": self.use_bias,
        }
        for field in _OBJECTS:
            config[field] = keras.saving.serialize_keras_object(getattr(self, field))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for field in _OBJECTS:
            if config.get(field) is not None:
                config[field] = keras.saving.deserialize_keras_object(config[field])
        return cls(**config)
