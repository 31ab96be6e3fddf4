"""``TensordotSpecDense``: ``keras.ops.tensordot`` with no explicit casts, relying on Keras 3's autocasting.

Three Keras 3 idioms the other correct layers do not use: ``supports_masking = True`` as a class attribute,
weights created with ``dtype=self.variable_dtype`` and used as Keras hands them in ``call`` (autocast to
the compute dtype), and symbolic calls answered by its own ``compute_output_spec``.

``compute_output_spec`` alone is not enough: Keras's base ``compute_output_shape`` raises NotImplementedError, and
programs call it (``TimeDistributed(layer)`` does, on every call), so the layer defines both.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="correct_layers")
class TensordotSpecDense(keras.layers.Layer):
    """``activation(tensordot(x, W, axes=1) + b)``."""

    layer_spec_backends = ("tensorflow", "jax")
    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"`units` must be an int >= 1 for TensordotSpecDense, not {units!r}")
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.InputSpec(min_ndim=2)

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError("TensordotSpecDense: the last axis of the input must have a known size")
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units), dtype=self.variable_dtype,
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,), dtype=self.variable_dtype,
                                        initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: input_shape[-1]})

    def call(self, inputs):
        y = ops.tensordot(inputs, self.kernel, axes=1)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(tuple(inputs.shape[:-1]) + (self.units,), dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return self.compute_output_spec(keras.KerasTensor(input_shape)).shape

    def get_config(self):
        return {
            **super().get_config(),
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
