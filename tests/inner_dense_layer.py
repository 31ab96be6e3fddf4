"""A layer that delegates to an inner ``keras.layers.Dense`` (tests/test_causes.py), otherwise written with care
(registered, a complete get_config, compute_output_shape): its weights' paths read ``name/dense/kernel``, one
mistake that fails a dozen naming and tutorial clauses under as many layer names, and one cause."""

import keras

_ARGUMENTS = ("activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
              "bias_regularizer", "kernel_constraint", "bias_constraint")


@keras.saving.register_keras_serializable(package="layer_spec_tests")
class InnerDense(keras.layers.Layer):
    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.supports_masking = True
        self.input_spec = keras.layers.InputSpec(min_ndim=2)
        self.dense = keras.layers.Dense(
            units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
            dtype=self.dtype_policy, trainable=self.trainable)
        for name in _ARGUMENTS:  # stored, as Dense stores them (activation, initializers... resolved by Dense)
            setattr(self, name, getattr(self.dense, name))

    def build(self, input_shape):
        self.dense.build(input_shape)
        self.built = True

    @property
    def kernel(self):
        return self.dense.kernel

    @property
    def bias(self):
        return self.dense.bias

    def call(self, inputs):
        return self.dense(inputs)

    def compute_output_shape(self, input_shape):
        return self.dense.compute_output_shape(input_shape)

    def get_config(self):
        inner = self.dense.get_config()
        return {**super().get_config(), "units": self.units, **{name: inner[name] for name in _ARGUMENTS}}
