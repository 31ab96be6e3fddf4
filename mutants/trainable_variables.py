"""Mutants the trainable_variables clauses reject: the wrong weights reach the optimizer, or freezing is ignored.

Each class is the reference ``MyDenseLayer`` with one realistic mistake; the
first line of its docstring names it.
"""

from __future__ import annotations

from layers import MyDenseLayer
from layers._compat import InputSpec, register_serializable, tf
from mutants._fake_quantized import FakeQuantizedBase


@register_serializable(package="mutants")
class BiasNotTrainable(MyDenseLayer):
    """Creates the bias with ``trainable=False``, so the optimizer never updates it."""

    KILLED_BY = ("trainable_variables", "gradients", "differential")

    def build(self, input_shape):
        input_dim = int(tuple(input_shape)[-1])
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      trainable=True)
        self.bias = (
            self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer,
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                            trainable=False)  # the mistake
            if self.use_bias
            else None
        )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True


@register_serializable(package="mutants")
class LearnableOutputScale(MyDenseLayer):
    """Adds a trainable scalar ``scale`` multiplying the output, so the layer owns more than kernel and bias."""

    KILLED_BY = ("trainable_variables", "naming", "differential")

    def build(self, input_shape):
        super().build(input_shape)
        self.scale = self.add_weight(name="scale", shape=(), initializer="ones", trainable=True)  # the mistake

    def call(self, inputs):
        return super().call(inputs) * self.scale


@register_serializable(package="mutants")
class TrainableWeightsOverridden(MyDenseLayer):
    """Overrides ``trainable_weights`` to list kernel and bias unconditionally, so freezing the layer has no effect."""

    KILLED_BY = ("trainable_variables",)

    @property
    def trainable_weights(self):
        # The mistake: "make sure the optimizer sees my weights", whatever layer.trainable says.
        if not self.built:
            return []
        return [self.kernel] + ([self.bias] if self.bias is not None else [])

    @property
    def trainable_variables(self):
        return self.trainable_weights


@register_serializable(package="mutants")
class WeightsBuiltWithLayerTrainable(MyDenseLayer):
    """Creates its weights with ``add_weight(..., trainable=self.trainable)``, so weights built while frozen stay frozen."""

    KILLED_BY = ("trainable_variables",)

    def add_weight(self, *args, **kwargs):
        kwargs["trainable"] = self.trainable  # the mistake: layer.trainable = True later never reaches these weights
        return super().add_weight(*args, **kwargs)


@register_serializable(package="mutants")
class UndeclaredLearnedStep(FakeQuantizedBase):
    """Learns its quantization step as an extra trainable weight that it does not declare."""

    KILLED_BY = ("trainable_variables",)

    def build(self, input_shape):
        super().build(input_shape)
        self.step = self.add_weight(name="step", shape=(), initializer="ones")  # the mistake: an undeclared weight

    def quantized(self, kernel):
        return super().quantized(kernel) * tf.cast(self.step, kernel.dtype)
