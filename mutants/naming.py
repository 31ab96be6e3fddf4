"""Mutants the naming clauses reject: weights and layers called something Keras users do not expect.

Each class is the reference ``MyDenseLayer`` with one realistic mistake; the
first line of its docstring names it.
"""

from __future__ import annotations

import re

from layers import MyDenseLayer
from layers._compat import InputSpec, register_serializable


@register_serializable(package="mutants")
class WeightsNamedWB(MyDenseLayer):
    """Names its weights ``w`` and ``b`` (the textbook letters) instead of ``kernel`` and ``bias``."""

    KILLED_BY = ("naming", "tutorial")

    def build(self, input_shape):
        input_dim = int(tuple(input_shape)[-1])
        # The mistake: name="w" / name="b"; the shapes, initializers and maths are right.
        self.kernel = self.add_weight(name="w", shape=(input_dim, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = (
            self.add_weight(name="b", shape=(self.units,), initializer=self.bias_initializer,
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
            if self.use_bias
            else None
        )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True


@register_serializable(package="mutants")
class NameFromClassNotUnique(MyDenseLayer):
    """Sets its own name from the class name in ``__init__``, so automatic names are never made unique."""

    KILLED_BY = ("naming", "tutorial")

    def __init__(self, units, name=None, **kwargs):
        # The mistake: Keras makes automatic names unique; a hand-made default is the same for every instance.
        default = re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()
        super().__init__(units, name=name or default, **kwargs)
