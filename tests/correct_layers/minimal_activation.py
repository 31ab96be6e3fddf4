"""``SimpleDense``: what people write after the tutorial: ``units`` and ``activation``, an always-on bias."""

import keras


@keras.saving.register_keras_serializable(package="correct_layers")
class SimpleDense(keras.layers.Layer):
    """``activation(x @ kernel + bias)``; no initializer, regularizer or constraint options (--profile custom)."""

    layer_spec_backends = ("tensorflow", "jax")

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"SimpleDense needs a positive int number of units, got {units!r}")
        self.units = units
        self.activation = keras.activations.get(activation)
        self.supports_masking = True

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        return self.activation(keras.ops.matmul(inputs, self.kernel) + self.bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": keras.activations.serialize(self.activation)}
