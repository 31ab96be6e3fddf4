"""The base of the minimal-layer mutants: ``MinimalDense(units, activation=None)``, as people write after the tutorial.

It offers ``units`` and ``activation`` only (an always-on bias, a config of those two), so its mutants declare
``PROFILE = "custom"``: the spec judges them on what they offer, and each must still be rejected there for its
own mistake. Written in ``keras.ops`` (Keras 3, every backend); on legacy Keras 2 it is a stand-in and its mutants
say ``GENERATIONS = (3,)``.
"""

from __future__ import annotations

from layers import OPS_DENSE_AVAILABLE, MyDenseLayer
from layers._compat import keras, register_serializable

if OPS_DENSE_AVAILABLE:
    from keras import ops

    @register_serializable(package="mutants")
    class MinimalDense(keras.layers.Layer):
        """``activation(x @ kernel + bias)``: units and activation only (correct: the mutants break one thing)."""

        layer_spec_backends = ("tensorflow", "jax")

        def __init__(self, units, activation=None, **kwargs):
            super().__init__(**kwargs)
            self.units = self.checked_units(units)
            self.activation = keras.activations.get(activation)
            self.supports_masking = True

        @staticmethod
        def checked_units(units):
            if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
                raise ValueError(f"units must be a positive int, got {units!r}")
            return units

        def build(self, input_shape):
            self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units),
                                          initializer="glorot_uniform")
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

        def call(self, inputs):
            return self.activation(ops.matmul(inputs, self.kernel) + self.bias)

        def compute_output_shape(self, input_shape):
            return (*input_shape[:-1], self.units)

        def get_config(self):
            return {**super().get_config(), "units": self.units,
                    "activation": keras.activations.serialize(self.activation)}
else:  # pragma: no cover - legacy Keras 2
    MinimalDense = MyDenseLayer
