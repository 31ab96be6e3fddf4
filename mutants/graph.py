"""Mutants the graph and XLA clauses reject: a ``call`` that works eagerly and breaks under tf.function.

Each class is the reference ``MyDenseLayer`` with one realistic mistake; the
first line of its docstring names it.
"""

from __future__ import annotations

import numpy as np

from layers import MyDenseLayer
from layers._compat import register_serializable, tf
from mutants._ops import OpsBase, activate, ops


@register_serializable(package="mutants")
class NumpyMatmulInCall(MyDenseLayer):
    """Computes the matmul in numpy (``inputs.numpy()``), which only exists eagerly and is invisible to the tape."""

    KILLED_BY = ("graph", "training")

    def call(self, inputs):
        # The mistake: .numpy() needs an eager tensor; in a graph there is no value yet.
        outputs = tf.convert_to_tensor(np.dot(inputs.numpy(), self.kernel.numpy()))
        if self.bias is not None:
            outputs = outputs + self.bias
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


@register_serializable(package="mutants")
class PythonIfOnTensor(MyDenseLayer):
    """Guards its input with a Python ``if`` on a tensor value, which Keras 3 does not autograph."""

    KILLED_BY = ("graph", "training")
    # Keras 2 runs call through autograph, which turns the if into tf.cond.
    GENERATIONS = (3,)

    def call(self, inputs):
        inputs = tf.convert_to_tensor(inputs)
        if tf.reduce_max(tf.abs(inputs)) > 1e6:  # the mistake: a Python bool of a tensor
            inputs = tf.clip_by_value(inputs, -1e6, 1e6)
        return super().call(inputs)


@register_serializable(package="mutants")
class NewVariableEveryCall(MyDenseLayer):
    """Caches each output in a new tf.Variable created in call, which tf.function refuses after the first trace."""

    KILLED_BY = ("graph",)

    def call(self, inputs):
        outputs = super().call(inputs)
        # The mistake: a tf.Variable per call, "to inspect the last output later".
        self.last_outputs = tf.Variable(outputs, trainable=False, shape=tf.TensorShape(None))
        return outputs


@register_serializable(package="mutants")
class StaticBatchSizeInCall(MyDenseLayer):
    """Tiles the bias with the static batch size ``inputs.shape[0]``, which is None in a graph traced for any batch."""

    KILLED_BY = ("graph",)

    def call(self, inputs):
        outputs = tf.matmul(tf.cast(inputs, self.compute_dtype), self.kernel)
        if self.bias is not None:
            # The mistake: inputs.shape[0] is a Python int only when the batch size is known while tracing.
            outputs = outputs + tf.tile(self.bias[tf.newaxis, :], [inputs.shape[0], 1])
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


@register_serializable(package="mutants")
class MatmulInNumpyFunction(MyDenseLayer):
    """Wraps a numpy matmul in tf.numpy_function to make it "graph-safe", which XLA cannot compile and the tape cannot see."""

    KILLED_BY = ("graph", "training")

    def call(self, inputs):
        inputs = tf.cast(inputs, self.compute_dtype)
        # The mistake: numpy_function runs Python at each step; it has no XLA kernel and no gradient.
        outputs = tf.numpy_function(np.dot, [inputs, tf.convert_to_tensor(self.kernel)], tf.float32, stateful=False)
        outputs = tf.ensure_shape(outputs, [None, self.units])
        if self.bias is not None:
            outputs = outputs + self.bias
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


@register_serializable(package="mutants")
class OpsNumpyMatmulInCall(OpsBase):
    """keras.ops otherwise, but the matmul runs in numpy on np.asarray(inputs): fine eagerly, impossible when compiled."""

    KILLED_BY = ("graph",)
    GENERATIONS = (3,)  # keras.ops

    def call(self, inputs):
        # The mistake: a traced input (tf.function, jax.jit) has no value for numpy to read.
        outputs = ops.convert_to_tensor(np.matmul(np.asarray(inputs, "float32"), ops.convert_to_numpy(self.kernel)))
        if self.bias is not None:
            outputs = ops.add(outputs, self.bias)
        return activate(self, outputs)
