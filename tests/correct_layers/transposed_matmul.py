"""``TransposedMatmulDense``: ``y = (Wᵀ xᵀ)ᵀ``, one broadcasting ``tf.linalg.matmul`` with both operands transposed.

Its ``input_spec`` appears only in ``build`` (``super().build`` marks it built); before that ``build`` refuses a
rank-1 shape in its own words. Weights are created with ``dtype=self.variable_dtype``.
"""

from layers._compat import InputSpec, keras, register_serializable, tf


@register_serializable(package="correct_layers")
class TransposedMatmulDense(keras.layers.Layer):
    """The kernel is stored ``(input_dim, units)``; the product is taken as ``matmul(W, x, transpose_a, transpose_b)``."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"TransposedMatmulDense(units={units!r}): units is the output width, a positive int")
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        dims = tf.TensorShape(input_shape).as_list()
        if len(dims) < 2:
            raise ValueError(f"{self.name} maps the last axis of a batch; an input of shape {dims} has no batch axis")
        if dims[-1] is None:
            raise ValueError(f"{self.name}: the size of the last axis must be known to create the kernel, got {dims}")
        self.kernel = self.add_weight(name="kernel", shape=(dims[-1], self.units), dtype=self.variable_dtype,
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, trainable=True)
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,), dtype=self.variable_dtype,
                                        initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, trainable=True)
        else:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: dims[-1]})
        super().build(input_shape)

    def call(self, inputs):
        x = tf.cast(inputs, self.compute_dtype)
        kernel = tf.cast(self.kernel, self.compute_dtype)
        # (units, in) @ (..., in, rows) -> (..., units, rows); transposed back to (..., rows, units)
        y = tf.linalg.matrix_transpose(tf.linalg.matmul(kernel, x, transpose_a=True, transpose_b=True))
        if self.bias is not None:
            y = y + tf.cast(self.bias, self.compute_dtype)
        return self.activation(y) if self.activation is not None else y

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)[:-1].concatenate([self.units])

    def get_config(self):
        config = super().get_config()
        config.update({
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
        })
        return config
