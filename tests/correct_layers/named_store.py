"""``NamedStoreDense``: its own save/load of variables (by name) and build config, its weights behind properties.

Keras 3 only, ``keras.ops`` only. ``save_own_variables`` writes ``kernel`` and ``bias`` under their names
(Keras's default writes ``0``, ``1``) and ``load_own_variables`` refuses a store that does not hold exactly
those entries before it assigns any. ``get_build_config`` keeps the input width alone. ``kernel`` and
``bias`` are read-only properties over ``_kernel`` and ``_bias``, as Keras's own ``Dense`` has them.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="correct_layers")
class NamedStoreDense(keras.layers.Layer):
    """``activation(x @ W + b)`` with named weight storage."""

    layer_spec_backends = ("tensorflow", "jax")

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if type(units) is not int or units <= 0:
            raise ValueError(f"NamedStoreDense: `units` must be a positive int, got {units!r}")
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.InputSpec(min_ndim=2)
        self.supports_masking = True
        self._bias = None

    @property
    def kernel(self):
        return self._kernel

    @property
    def bias(self):
        return self._bias

    def build(self, input_shape):
        width = input_shape[-1]
        if width is None:
            raise ValueError(f"NamedStoreDense: input width unknown in {input_shape}")
        self._kernel = self.add_weight(name="kernel", shape=(width, self.units), initializer=self.kernel_initializer,
                                       regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self._bias = self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer,
                                         regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: width})

    def get_build_config(self):
        return {"input_dim": int(self._kernel.shape[0])} if self.built else None

    def build_from_config(self, config):
        if config:
            self.build((None, config["input_dim"]))

    def _variables_by_name(self):
        return {"kernel": self._kernel, **({"bias": self._bias} if self._bias is not None else {})}

    def save_own_variables(self, store):
        for name, variable in self._variables_by_name().items():
            store[name] = variable

    def load_own_variables(self, store):
        variables = self._variables_by_name()
        if sorted(store.keys()) != sorted(variables):
            raise ValueError(f"NamedStoreDense '{self.name}' holds variables {sorted(variables)}; the file has "
                             f"{sorted(store.keys())}")
        for name, variable in variables.items():
            if tuple(store[name].shape) != tuple(variable.shape):
                raise ValueError(f"NamedStoreDense '{self.name}': {name} has shape {tuple(variable.shape)}, the "
                                 f"file's has shape {tuple(store[name].shape)}")
        for name, variable in variables.items():
            variable.assign(store[name])

    def call(self, inputs):
        y = ops.matmul(ops.cast(inputs, self.compute_dtype), ops.cast(self._kernel, self.compute_dtype))
        if self._bias is not None:
            y = ops.add(y, ops.cast(self._bias, self.compute_dtype))
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units, "use_bias": self.use_bias,
            "activation": keras.activations.serialize(self.activation),
            **{name: keras.saving.serialize_keras_object(getattr(self, name)) for name in (
                "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "bias_constraint")},
        })
        return config
