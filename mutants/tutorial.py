"""Mutants the tutorial-transcript clauses reject: the tutorial's own layer, and small departures from what it printed.

They implement the seed contract only (``Cls(num_outputs)``, a kernel, no bias).
"""

from __future__ import annotations

from layers._compat import register_serializable, tf
from layers.tutorial import PortedTutorialLayer, TutorialDenseLayer


@register_serializable(package="mutants")
class PublishedTutorialLayer(TutorialDenseLayer):
    """The tutorial's layer as published: ``add_variable("kernel", shape=...)`` with a positional name."""

    KILLED_BY = ("tutorial", "naming", "shapes", "trainable_variables", "gradients", "differential")
    PROFILE = "seed"
    # Keras 2 accepts the call (a deprecated alias of add_weight(name, shape)); Keras 3 raises
    # "TypeError: Layer.add_variable() got multiple values for argument 'shape'" at the first call.
    GENERATIONS = (3,)


@register_serializable(package="mutants")
class TutorialKernelRandomNormal(PortedTutorialLayer):
    """Initializes the kernel with ``"random_normal"`` (stddev 0.05) instead of the default glorot uniform."""

    KILLED_BY = ("tutorial",)
    PROFILE = "seed"

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=[int(input_shape[-1]), self.num_outputs],
                                      initializer="random_normal")  # the mistake


@register_serializable(package="mutants")
class TutorialComputesInFloat64(PortedTutorialLayer):
    """Casts inputs and kernel to float64 "for accuracy", so a float32 layer returns float64 tensors."""

    KILLED_BY = ("tutorial",)
    PROFILE = "seed"

    def call(self, inputs):
        return tf.matmul(tf.cast(inputs, tf.float64), tf.cast(self.kernel, tf.float64))  # the mistake
