"""``ReshapeDotDense``: ``keras.ops.dot`` on the input flattened to 2-D with a dynamic batch, then reshaped back.

Also: an extra, optional constructor argument (``input_dim``, as Keras 1's ``Dense`` took it), the weights
made by a helper that ``build`` calls before ``super().build``, and masks passed on by a ``compute_mask``
of its own with a ``call`` that takes ``mask=`` (and ignores it).
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="correct_layers")
class ReshapeDotDense(keras.layers.Layer):
    """``reshape(dot(reshape(x, (-1, d)), W) + b, x.shape[:-1] + (units,))``."""

    layer_spec_backends = ("tensorflow", "jax")

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, input_dim=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for argument, value, optional in (("units", units, False), ("input_dim", input_dim, True)):
            if value is None and optional:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"ReshapeDotDense: {argument} should be a positive integer, received {value!r}")
        self.units = units
        self.input_dim = input_dim
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.InputSpec(min_ndim=2, axes=None if input_dim is None else {-1: input_dim})

    def _create_state(self, features):
        self.kernel = self.add_weight(name="kernel", shape=(features, self.units),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def build(self, input_shape):
        features = input_shape[-1]
        if features is None:
            raise ValueError(f"ReshapeDotDense got input_shape={input_shape}: the number of features is unknown")
        if self.input_dim is not None and features != self.input_dim:
            raise ValueError(f"ReshapeDotDense was declared with input_dim={self.input_dim}, got inputs of {features}")
        self._create_state(features)
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: features})
        super().build(input_shape)

    def call(self, inputs, mask=None):
        x = ops.cast(inputs, self.compute_dtype)
        leading = ops.shape(x)[:-1]
        flat = ops.reshape(x, (-1, ops.shape(self.kernel)[0]))
        y = ops.dot(flat, ops.cast(self.kernel, self.compute_dtype))
        if self.use_bias:
            y = y + ops.cast(self.bias, self.compute_dtype)
        y = ops.reshape(y, (*leading, self.units))
        return y if self.activation is None else self.activation(y)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        config["input_dim"] = self.input_dim
        config["use_bias"] = self.use_bias
        for kind, names in (("activations", ["activation"]),
                            ("initializers", ["kernel_initializer", "bias_initializer"]),
                            ("regularizers", ["kernel_regularizer", "bias_regularizer", "activity_regularizer"]),
                            ("constraints", ["kernel_constraint", "bias_constraint"])):
            for name in names:
                config[name] = getattr(keras, kind).serialize(getattr(self, name))
        return config
