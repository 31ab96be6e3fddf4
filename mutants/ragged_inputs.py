"""Mutants the ragged-input clauses reject: layers that claim ``ragged_inputs`` and lose the rows of a RaggedTensor.

Each class is the reference ``MyDenseLayer`` (which claims ``ragged_inputs``) with one realistic mistake in its
ragged path; the first line of its docstring names it. Only legacy Keras 2's ``Dense`` takes ragged inputs, so
the clauses, and these mutants, run on Keras 2 only.
"""

from __future__ import annotations

from layers import MyDenseLayer
from layers._compat import register_serializable, tf


@register_serializable(package="mutants")
class RaggedPaddedOutput(MyDenseLayer):
    """Pads a RaggedTensor with ``to_tensor()`` and returns the padded dense output."""

    KILLED_BY = ("ragged_inputs",)
    GENERATIONS = (2,)

    def call(self, inputs):
        if isinstance(inputs, tf.RaggedTensor):
            inputs = inputs.to_tensor()  # the mistake: the rows' lengths are gone, padding rows get outputs
        return super().call(inputs)


@register_serializable(package="mutants")
class RaggedRowLengthsLost(MyDenseLayer):
    """Computes on the padded tensor and converts back with ``RaggedTensor.from_tensor`` without the row lengths."""

    KILLED_BY = ("ragged_inputs",)
    GENERATIONS = (2,)

    def call(self, inputs):
        if isinstance(inputs, tf.RaggedTensor):
            # The mistake: from_tensor without lengths= makes every row as long as the longest one.
            return tf.RaggedTensor.from_tensor(super().call(inputs.to_tensor()), ragged_rank=inputs.ragged_rank)
        return super().call(inputs)
