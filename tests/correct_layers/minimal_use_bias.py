"""``LinearDense``: a linear map with an optional bias, ``units`` and ``use_bias`` only, written with tf ops."""

import tensorflow as tf

import keras


@keras.saving.register_keras_serializable(package="correct_layers")
class LinearDense(keras.layers.Layer):
    """``x @ kernel (+ bias)``; no activation and no initializer options (--profile custom)."""

    def __init__(self, units, use_bias=True, **kwargs):
        if type(units) is not int or units < 1:
            raise ValueError(f"LinearDense: units must be an int >= 1, not {units!r}")
        super().__init__(**kwargs)
        self.units, self.use_bias = units, bool(use_bias)
        self.input_spec = keras.InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        width = int(input_shape[-1])
        self.kernel = self.add_weight(name="kernel", shape=(width, self.units))
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros") if self.use_bias else None
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: width})

    def call(self, inputs):
        inputs = tf.cast(inputs, self.compute_dtype)
        outputs = tf.tensordot(inputs, tf.cast(self.kernel, self.compute_dtype), axes=1)
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, self.compute_dtype))
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, use_bias=self.use_bias)
        return config
