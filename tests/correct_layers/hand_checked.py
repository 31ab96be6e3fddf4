"""``HandCheckedDense``: no InputSpec; ``call`` checks dtype, rank and width itself (``tf.debugging``), in its own words."""

from layers._compat import keras, register_serializable, tf


def _resolver(option):
    return getattr(keras, option.rsplit("_", 1)[-1] + "s")


def _positive_units(units):
    if isinstance(units, bool) or not isinstance(units, int) or units < 1:
        raise ValueError(f"HandCheckedDense: expected units >= 1 (an int), got {units!r}")
    return units


@register_serializable(package="correct_layers")
class HandCheckedDense(keras.layers.Layer):
    """A dense layer that validates its own inputs instead of declaring an ``input_spec``."""

    #: every option Dense takes besides units and use_bias, with its default; resolved by the Keras module named
    #: after its last word (``kernel_initializer`` -> ``keras.initializers``)
    OPTIONS = {"activation": None, "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
               "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
               "kernel_constraint": None, "bias_constraint": None}

    def __init__(self, units, activation=None, use_bias=True, **kwargs):
        kwargs["activation"] = activation  # Dense's positional order: units, activation, use_bias
        options = {name: _resolver(name).get(kwargs.pop(name, default)) for name, default in self.OPTIONS.items()}
        super().__init__(activity_regularizer=options.pop("activity_regularizer"), **kwargs)
        self.units = _positive_units(units)
        self.use_bias = bool(use_bias)
        for name, value in options.items():
            setattr(self, name, value)
        self.supports_masking = True

    def build(self, input_shape):
        shape = tf.TensorShape(input_shape)
        if shape.rank is None or shape.rank < 1 or shape[-1] is None:
            raise ValueError(f"HandCheckedDense.build: how many features? The shape {shape} does not say")
        if shape.rank < 2:  # before any weight: a refused first call must not build the layer for its width
            raise ValueError(f"HandCheckedDense needs a batch of feature vectors (ndim >= 2), got ndim {shape.rank}")
        self.kernel = self.add_weight(name="kernel", shape=(int(shape[-1]), self.units),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def _checked(self, inputs):
        inputs = tf.convert_to_tensor(inputs)
        if not (inputs.dtype.is_floating or inputs.dtype.is_integer or inputs.dtype.is_bool):
            raise TypeError(f"HandCheckedDense multiplies numbers only; this input holds {inputs.dtype.name}")
        if inputs.shape.rank is not None and inputs.shape.rank < 2:
            raise ValueError(f"HandCheckedDense needs a batch of feature vectors (ndim >= 2), got ndim "
                             f"{inputs.shape.rank}")
        width = self.kernel.shape[0]
        tf.debugging.assert_equal(tf.shape(inputs)[-1], width,
                                  message=f"HandCheckedDense was built for inputs of width {width}")
        return tf.cast(inputs, self.compute_dtype)

    def call(self, inputs):
        inputs = self._checked(inputs)
        outputs = tf.tensordot(inputs, tf.cast(self.kernel, inputs.dtype), axes=1)
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, inputs.dtype))
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, use_bias=self.use_bias)
        config.update({name: _resolver(name).serialize(getattr(self, name)) for name in self.OPTIONS})
        return config
