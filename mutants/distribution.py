"""Dense layers whose weights a MirroredStrategy cannot mirror or train: each is made somewhere the strategy does not see."""

from __future__ import annotations

from layers import MyDenseLayer
from layers._compat import InputSpec, register_serializable, tf
from mutants._ops import OpsBase


@register_serializable(package="mutants")
class BiasCreatedInInit(MyDenseLayer):
    """Creates the bias in __init__ (its shape is known there), so a layer made before strategy.scope() has a plain bias."""

    KILLED_BY = ("distribution", "construction")

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        if self.use_bias:
            # The mistake: a weight made at construction lives wherever the constructor ran.
            self.bias = self.add_weight(
                name="bias", shape=(self.units,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )

    def build(self, input_shape):
        input_dim = int(tuple(input_shape)[-1])
        self.kernel = self.add_weight(
            name="kernel", shape=(input_dim, self.units), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )
        if not self.use_bias:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True


@register_serializable(package="mutants")
class KernelAsLazyTfVariable(MyDenseLayer):
    """Creates its kernel and bias as plain tf.Variables on the first call, outside build and add_weight."""

    KILLED_BY = ("distribution", "build")

    def build(self, input_shape):
        self.kernel = None
        self.bias = None
        self._input_dim = int(tuple(input_shape)[-1])
        self.built = True

    def call(self, inputs):
        if self.kernel is None:
            self.kernel = tf.Variable(self.kernel_initializer((self._input_dim, self.units)), name="kernel")
            if self.use_bias:
                self.bias = tf.Variable(self.bias_initializer((self.units,)), name="bias")
        return super().call(inputs)


@register_serializable(package="mutants")
class OpsBiasCreatedInInit(OpsBase):
    """keras.ops only: creates the bias in __init__, so a layer made before the distribution's scope has a one-device bias."""

    KILLED_BY = ("distribution", "construction")
    GENERATIONS = (3,)  # keras.ops

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        if self.use_bias:
            # The mistake: a weight made at construction lives wherever the constructor ran.
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer)

    def build(self, input_shape):
        input_dim = int(tuple(input_shape)[-1])
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, self.units),
                                      initializer=self.kernel_initializer)
        if not self.use_bias:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True
