"""``EinsumDense``: one ``tf.einsum`` over any leading axes, and its options kept in one table."""

from layers._compat import InputSpec, keras, register_serializable, tf

#: option -> the Keras module that resolves and serializes it
_OPTIONS = {
    "activation": keras.activations,
    "kernel_initializer": keras.initializers,
    "bias_initializer": keras.initializers,
    "kernel_regularizer": keras.regularizers,
    "bias_regularizer": keras.regularizers,
    "kernel_constraint": keras.constraints,
    "bias_constraint": keras.constraints,
}
_DEFAULTS = {"kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"}


@register_serializable(package="correct_layers")
class EinsumDense(keras.layers.Layer):
    """``y[..., j] = sum_i x[..., i] W[i, j] + b[j]``, then the activation."""

    def __init__(self, units, activation=None, use_bias=True, activity_regularizer=None, **kwargs):
        kwargs["activation"] = activation
        options = {name: kwargs.pop(name, _DEFAULTS.get(name)) for name in _OPTIONS}
        super().__init__(activity_regularizer=keras.regularizers.get(activity_regularizer), **kwargs)
        if isinstance(units, bool) or not isinstance(units, int):
            raise TypeError(f"units should be an int, received {type(units).__name__} {units!r}")
        if units <= 0:
            raise ValueError(f"units should be positive, received {units}")
        self.units = units
        self.use_bias = bool(use_bias)
        for name, module in _OPTIONS.items():
            setattr(self, name, module.get(options[name]))
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank is None or input_shape[-1] is None:
            raise ValueError("the last dimension of the input must be known")
        width = int(input_shape[-1])
        self.kernel = self.add_weight(name="kernel", shape=[width, self.units], initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = (self.add_weight(name="bias", shape=[self.units], initializer=self.bias_initializer,
                                     regularizer=self.bias_regularizer, constraint=self.bias_constraint)
                     if self.use_bias else None)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: width})
        self.built = True

    def call(self, inputs):
        dtype = self.compute_dtype
        outputs = tf.einsum("...i,ij->...j", tf.cast(inputs, dtype), tf.cast(self.kernel, dtype))
        if self.bias is not None:
            outputs += tf.cast(self.bias, dtype)
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)[:-1].concatenate([self.units])

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        config["use_bias"] = self.use_bias
        config["activity_regularizer"] = keras.regularizers.serialize(self.activity_regularizer)
        for name, module in _OPTIONS.items():
            config[name] = module.serialize(getattr(self, name))
        return config
