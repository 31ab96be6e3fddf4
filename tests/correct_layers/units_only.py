"""``UnitsOnlyDense``: the tutorial's layer finished the short way: ``units`` only, a bias, a one-key config."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="correct_layers")
class UnitsOnlyDense(keras.layers.Layer):
    """``x @ kernel + bias``: nothing to configure but the width (--profile custom)."""

    layer_spec_backends = ("tensorflow", "jax")

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"units: expected a positive int, received {units!r}")
        self.units = units
        self.supports_masking = True

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs):
        return ops.add(ops.matmul(inputs, self.kernel), self.bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
