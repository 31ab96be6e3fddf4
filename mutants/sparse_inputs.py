"""Mutants the sparse-input clauses reject: layers that claim ``sparse_inputs`` and mishandle a ``tf.SparseTensor``.

Each class is the reference ``MyDenseLayer`` (which claims ``sparse_inputs``) with one realistic mistake in its
sparse path; the first line of its docstring names it.
"""

from __future__ import annotations

import numpy as np

from layers import MyDenseLayer
from layers._compat import register_serializable, tf


@register_serializable(package="mutants")
class SparseDuplicatesDropped(MyDenseLayer):
    """Densifies with ``tf.sparse.to_dense(validate_indices=False)``, which keeps one value of repeated indices."""

    KILLED_BY = ("sparse_inputs",)

    def call(self, inputs):
        if isinstance(inputs, tf.SparseTensor):
            # The mistake: to_dense writes repeated indices over each other; Dense adds them up.
            inputs = tf.sparse.to_dense(tf.sparse.reorder(inputs), validate_indices=False)
        return super().call(inputs)


@register_serializable(package="mutants")
class SparseBiasForgotten(MyDenseLayer):
    """Its sparse path returns ``sparse_dense_matmul(inputs, kernel)`` and forgets the bias."""

    KILLED_BY = ("sparse_inputs",)

    def call(self, inputs):
        if isinstance(inputs, tf.SparseTensor):
            outputs = tf.sparse.sparse_dense_matmul(tf.cast(inputs, self.compute_dtype), self.kernel)
            # The mistake: no bias here, unlike the dense path.
            return self.activation(outputs) if self.activation is not None else outputs
        return super().call(inputs)


@register_serializable(package="mutants")
class SparseDensifiedInNumpy(MyDenseLayer):
    """Densifies a SparseTensor in numpy (``indices.numpy()``), which works eagerly and fails in any graph."""

    KILLED_BY = ("sparse_inputs",)

    def call(self, inputs):
        if isinstance(inputs, tf.SparseTensor):
            # The mistake: .numpy() needs eager values; tf.function and model.fit/predict trace call.
            dense = np.zeros(inputs.dense_shape.numpy(), "float32")
            np.add.at(dense, tuple(inputs.indices.numpy().T), inputs.values.numpy())
            inputs = tf.constant(dense)
        return super().call(inputs)
