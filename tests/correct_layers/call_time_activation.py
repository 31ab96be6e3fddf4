"""``CallTimeActivationDense``: ``keras.ops.einsum``, its options kept as given and resolved when used.

The activation identifier is checked in ``__init__`` (an unknown name is refused there) but kept as given and
looked up with ``keras.activations.get`` on every call; initializers, regularizers and constraints are kept
in one dict of options and resolved where ``build`` needs them.
"""

import keras
from keras import ops

_RESOLVERS = {"initializer": keras.initializers.get, "regularizer": keras.regularizers.get,
              "constraint": keras.constraints.get}
_DEFAULTS = {"kernel_initializer": "glorot_uniform", "bias_initializer": "zeros", "kernel_regularizer": None,
             "bias_regularizer": None, "kernel_constraint": None, "bias_constraint": None}


def _resolve(option, value):
    return _RESOLVERS[option.split("_", 1)[1]](value)


@keras.saving.register_keras_serializable(package="correct_layers")
class CallTimeActivationDense(keras.layers.Layer):
    """``einsum('...i,ij->...j', x, W) + b``, then the activation named at construction."""

    layer_spec_backends = ("tensorflow", "jax")

    def __init__(self, units, activation=None, use_bias=True, activity_regularizer=None, **kwargs):
        options = {key: kwargs.pop(key, default) for key, default in _DEFAULTS.items()}
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"Expected `units` to be a positive int, got {units!r}")
        keras.activations.get(activation)  # refuse an unknown name now; it is looked up again in call
        self.units = units
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.options = {key: _resolve(key, value) for key, value in options.items()}
        self.input_spec = keras.InputSpec(min_ndim=2)
        self.supports_masking = True

    def _weight(self, role, shape):
        return self.add_weight(name=role, shape=shape, **{
            part: self.options[f"{role}_{part}"] for part in ("initializer", "regularizer", "constraint")})

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(f"Cannot build CallTimeActivationDense for input_shape={input_shape}")
        self.kernel = self._weight("kernel", (input_shape[-1], self.units))
        self.bias = self._weight("bias", (self.units,)) if self.use_bias else None
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: input_shape[-1]})

    def call(self, inputs):
        dtype = self.compute_dtype
        y = ops.einsum("...i,ij->...j", ops.cast(inputs, dtype), ops.convert_to_tensor(self.kernel, dtype=dtype))
        if self.bias is not None:
            y = y + ops.convert_to_tensor(self.bias, dtype=dtype)
        return keras.activations.get(self.activation)(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        serialized = {key: keras.saving.serialize_keras_object(value) for key, value in self.options.items()}
        return {**super().get_config(), **serialized, "units": self.units, "use_bias": self.use_bias,
                "activation": keras.activations.serialize(keras.activations.get(self.activation)),
                "activity_regularizer": keras.regularizers.serialize(self.activity_regularizer)}
