"""``Keras2MatvecDense``: a tf-keras layer in older Keras 2 idioms, computing with ``tf.linalg.matvec``.

``add_variable`` (Keras 2's alias of ``add_weight``) with a positional name and shape, the config merged the
way Keras 2's own layers did (``dict(list(base.items()) + list(config.items()))``), the dtype read from
``self.dtype``.

Masks are supported by ``self.supports_masking = True`` in ``__init__``. A class attribute
``supports_masking = True`` (which works on Keras 3, see ``tensordot_spec.py``) does nothing on Keras 2: it hides
the property, and tf-keras reads ``self._supports_masking``, so a masked input raises ``TypeError: Layer ... does
not support masking``.
"""

import tensorflow as tf
import tf_keras


@tf_keras.utils.register_keras_serializable(package="correct_layers")
class Keras2MatvecDense(tf_keras.layers.Layer):
    """``y[..., :] = Wᵀ x[..., :] + b``: one matrix-vector product per position, broadcast over the leading axes."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super(Keras2MatvecDense, self).__init__(activity_regularizer=activity_regularizer, **kwargs)
        if int(units) < 0:
            raise ValueError("Keras2MatvecDense received units=%r; units must not be negative" % (units,))
        self.units = int(units)
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
        if input_shape[-1] is None:
            raise ValueError("The last dimension of the inputs to `Keras2MatvecDense` should be defined. Found `None`.")
        last_dim = input_shape[-1]
        self.kernel = self.add_variable("kernel", [last_dim, self.units], self.dtype, self.kernel_initializer,
                                        self.kernel_regularizer, True, self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_variable("bias", [self.units], self.dtype, self.bias_initializer,
                                          self.bias_regularizer, True, self.bias_constraint)
        else:
            self.bias = None
        self.input_spec = tf_keras.layers.InputSpec(min_ndim=2, axes={-1: last_dim})
        self.built = True

    def call(self, inputs):
        inputs = tf.cast(inputs, self._compute_dtype_object)
        kernel = tf.cast(self.kernel, inputs.dtype)
        outputs = tf.linalg.matvec(kernel, inputs, transpose_a=True)
        if self.use_bias:
            outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, inputs.dtype))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        return input_shape[:-1].concatenate(self.units)

    def get_config(self):
        config = {
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
        }
        base_config = super(Keras2MatvecDense, self).get_config()
        return dict(list(base_config.items()) + list(config.items()))
