"""``TfKerasApiDense``: written against ``tf.keras`` alone, so one file serves both generations.

``tf.keras`` is Keras 3 on TensorFlow 2.16+ and tf-keras under ``TF_USE_LEGACY_KERAS=1``: what a lot of
TensorFlow code in the wild imports. The product is a plain ``tf.matmul``, which broadcasts a rank-2 kernel
over every leading axis of the input; the layer casts for itself (``autocast=False``).
"""

import tensorflow as tf

_KINDS = {"initializer": tf.keras.initializers, "regularizer": tf.keras.regularizers,
          "constraint": tf.keras.constraints}


@tf.keras.utils.register_keras_serializable(package="correct_layers")
class TfKerasApiDense(tf.keras.layers.Layer):
    """``activation(tf.matmul(x, W) + b)`` for inputs of any rank >= 2."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        kwargs["autocast"] = False
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"TfKerasApiDense: invalid units={units!r}; expected a positive integer")
        self.units = units
        self.activation = tf.keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        given = {"kernel_initializer": kernel_initializer, "bias_initializer": bias_initializer,
                 "kernel_regularizer": kernel_regularizer, "bias_regularizer": bias_regularizer,
                 "kernel_constraint": kernel_constraint, "bias_constraint": bias_constraint}
        for name, value in given.items():
            setattr(self, name, _KINDS[name.split("_")[1]].get(value))
        self.input_spec = tf.keras.layers.InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        last = tf.TensorShape(input_shape)[-1]
        if last is None:
            raise ValueError(f"TfKerasApiDense: the last dimension of {input_shape} must be defined")
        self.kernel = self.add_weight(name="kernel", shape=[last, self.units], initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=[self.units], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.input_spec = tf.keras.layers.InputSpec(min_ndim=2, axes={-1: last})
        self.built = True

    def call(self, inputs):
        dtype = tf.as_dtype(self.compute_dtype)
        x = tf.cast(inputs, dtype)
        y = tf.matmul(x, tf.cast(self.kernel, dtype))
        if self.bias is not None:
            y = y + tf.cast(self.bias, dtype)
        return y if self.activation is None else self.activation(y)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)[:-1].concatenate([self.units])

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        config["activation"] = tf.keras.activations.serialize(self.activation)
        config["use_bias"] = self.use_bias
        config["activity_regularizer"] = tf.keras.regularizers.serialize(self.activity_regularizer)
        for name in ("kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
                     "kernel_constraint", "bias_constraint"):
            config[name] = _KINDS[name.split("_")[1]].serialize(getattr(self, name))
        return config
