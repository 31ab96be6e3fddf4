"""``FlattenMatmulDense``: leading axes flattened into one batch, a 2-D matmul, then reshaped back."""

from layers._compat import InputSpec, keras, register_serializable, tf


@register_serializable(package="correct_layers")
class FlattenMatmulDense(keras.layers.Layer):
    """``reshape(reshape(x, (-1, d)) @ W + b, x.shape[:-1] + (units,))``: how BLAS-minded code writes Dense."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        if not isinstance(units, int) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Invalid units {units!r}: a FlattenMatmulDense needs a positive int")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units, self.use_bias = units, bool(use_bias)
        self.activation = keras.activations.get(activation)
        self.initializers = [keras.initializers.get(kernel_initializer), keras.initializers.get(bias_initializer)]
        self.regularizers = [keras.regularizers.get(kernel_regularizer), keras.regularizers.get(bias_regularizer)]
        self.constraints = [keras.constraints.get(kernel_constraint), keras.constraints.get(bias_constraint)]
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        depth = tuple(input_shape)[-1] if tf.TensorShape(input_shape).rank else None
        if depth is None:
            raise ValueError(f"cannot build FlattenMatmulDense on input shape {input_shape}: unknown depth")
        shapes = [(int(depth), self.units), (self.units,)]
        made = []
        for name, shape, initializer, regularizer, constraint in zip(
                ("kernel", "bias"), shapes, self.initializers, self.regularizers, self.constraints):
            if name == "bias" and not self.use_bias:
                made.append(None)
                continue
            made.append(self.add_weight(name=name, shape=shape, initializer=initializer, regularizer=regularizer,
                                        constraint=constraint))
        self.kernel, self.bias = made
        self.input_spec = InputSpec(min_ndim=2, axes={-1: int(depth)})
        self.built = True

    def call(self, inputs):
        x = tf.cast(inputs, self.compute_dtype)
        flat = tf.reshape(x, [-1, self.kernel.shape[0]])
        y = tf.matmul(flat, tf.cast(self.kernel, x.dtype))
        if self.bias is not None:
            y = y + tf.cast(self.bias, x.dtype)
        y = tf.reshape(y, tf.concat([tf.shape(x)[:-1], [self.units]], axis=0))
        y.set_shape(x.shape[:-1].concatenate([self.units]))
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        names = ("kernel", "bias")
        config = {**super().get_config(), "units": self.units, "use_bias": self.use_bias,
                  "activation": keras.activations.serialize(self.activation),
                  "activity_regularizer": keras.regularizers.serialize(self.activity_regularizer)}
        for name, initializer, regularizer, constraint in zip(names, self.initializers, self.regularizers,
                                                                self.constraints):
            config[f"{name}_initializer"] = keras.initializers.serialize(initializer)
            config[f"{name}_regularizer"] = keras.regularizers.serialize(regularizer)
            config[f"{name}_constraint"] = keras.constraints.serialize(constraint)
        return config
