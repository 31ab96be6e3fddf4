"""``Keras2StyleDense``: written for legacy Keras 2 (``tf_keras``) the way Keras 2 code was written."""

import tensorflow as tf
import tf_keras
from tf_keras import backend as K


@tf_keras.utils.register_keras_serializable(package="correct_layers")
class Keras2StyleDense(tf_keras.layers.Layer):
    """``K.dot`` and ``K.bias_add``, ``add_weight`` with a positional name, Keras 2's loose ``units`` cast."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super(Keras2StyleDense, self).__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units) if not isinstance(units, int) else units
        if self.units < 0:
            raise ValueError("Keras2StyleDense: the number of units cannot be negative, got units=%d" % self.units)
        self.activation = tf_keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = tf_keras.initializers.get(kernel_initializer)
        self.bias_initializer = tf_keras.initializers.get(bias_initializer)
        self.kernel_regularizer = tf_keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = tf_keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = tf_keras.constraints.get(kernel_constraint)
        self.bias_constraint = tf_keras.constraints.get(bias_constraint)
        self.input_spec = tf_keras.layers.InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        last_dim = tf.compat.dimension_value(input_shape[-1]) if input_shape.rank else None
        if last_dim is None:
            raise ValueError("Keras2StyleDense: the inputs' last dimension should be defined, found None")
        self.kernel = self.add_weight("kernel", shape=[last_dim, self.units], initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      dtype=self.dtype, trainable=True)
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=[self.units], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        dtype=self.dtype, trainable=True)
        else:
            self.bias = None
        self.input_spec = tf_keras.layers.InputSpec(min_ndim=2, axes={-1: last_dim})
        self.built = True

    def call(self, inputs):
        if inputs.dtype.base_dtype != self._compute_dtype_object.base_dtype:
            inputs = K.cast(inputs, self._compute_dtype_object)
        outputs = K.dot(inputs, K.cast(self.kernel, inputs.dtype))
        if self.use_bias:
            outputs = K.bias_add(outputs, K.cast(self.bias, inputs.dtype))
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)[:-1].concatenate(self.units)

    def get_config(self):
        config = super(Keras2StyleDense, self).get_config()
        config.update({
            "units": self.units,
            "activation": tf_keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": tf_keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": tf_keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": tf_keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": tf_keras.regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": tf_keras.regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": tf_keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": tf_keras.constraints.serialize(self.bias_constraint),
        })
        return config
