"""``VariablesGradientDense``: the affine map under ``tf.custom_gradient``, reading the variables inside it.

Unlike ``layers.CustomGradientDense`` (which passes the weights in as tensors), the function closes over the
layer and reads ``self.kernel`` and ``self.bias`` itself, so TensorFlow hands the variables it saw to the
gradient function (``variables=``), in an order it does not promise: each variable's gradient is picked by
its rank (the kernel is the matrix, the bias the vector).
"""

from layers._compat import InputSpec, keras, register_serializable, tf

_OPTIONS = {
    "kernel_initializer": (keras.initializers, "glorot_uniform"),
    "bias_initializer": (keras.initializers, "zeros"),
    "kernel_regularizer": (keras.regularizers, None),
    "bias_regularizer": (keras.regularizers, None),
    "kernel_constraint": (keras.constraints, None),
    "bias_constraint": (keras.constraints, None),
}


@register_serializable(package="correct_layers")
class VariablesGradientDense(keras.layers.Layer):
    """``activation(x W + b)`` with ``dL/dx = g Wᵀ``, ``dL/dW = Xᵀ G``, ``dL/db = Σ G`` written by hand."""

    def __init__(self, units, activation=None, use_bias=True, activity_regularizer=None, **kwargs):
        options = {name: kwargs.pop(name, default) for name, (_, default) in _OPTIONS.items()}
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if type(units) is not int or units < 1:
            raise ValueError(f"VariablesGradientDense needs units >= 1, an int; units={units!r} is not")
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        for name, (module, _) in _OPTIONS.items():
            setattr(self, name, module.get(options[name]))
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        depth = tf.TensorShape(input_shape)[-1]
        if depth is None:
            raise ValueError(f"VariablesGradientDense: unknown input depth in {input_shape}")
        self.kernel = self.add_weight(name="kernel", shape=(depth, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = (self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer,
                                     regularizer=self.bias_regularizer, constraint=self.bias_constraint)
                     if self.use_bias else None)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: depth})
        self.built = True

    def _affine(self, x):
        """``x W + b`` over the last axis; its gradient function returns ``dL/dx`` and one gradient per variable."""

        @tf.custom_gradient
        def affine(x):
            dtype = x.dtype
            kernel = tf.cast(self.kernel, dtype)
            flat = tf.reshape(x, [-1, tf.shape(kernel)[0]])
            y = tf.matmul(flat, kernel)
            if self.bias is not None:
                y = y + tf.cast(self.bias, dtype)
            y = tf.reshape(y, tf.concat([tf.shape(x)[:-1], [self.units]], 0))

            def grad(upstream, variables=None):
                g = tf.reshape(upstream, [-1, self.units])
                grad_x = tf.reshape(tf.matmul(g, kernel, transpose_b=True), tf.shape(x))
                by_rank = {2: tf.matmul(flat, g, transpose_a=True), 1: tf.reduce_sum(g, axis=0)}
                return grad_x, [tf.cast(by_rank[v.shape.rank], v.dtype) for v in variables or []]

            return y, grad

        y = affine(x)
        y.set_shape(x.shape[:-1].concatenate([self.units]))
        return y

    def call(self, inputs):
        y = self._affine(tf.cast(inputs, self.compute_dtype))
        return y if self.activation is None else self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=keras.activations.serialize(self.activation),
                      use_bias=self.use_bias,
                      activity_regularizer=keras.regularizers.serialize(self.activity_regularizer))
        config.update({name: module.serialize(getattr(self, name)) for name, (module, _) in _OPTIONS.items()})
        return config
