"""The base of the forward-contract mutants: a quantization-aware ``Dense`` that declares its forward contract.

``FakeQuantizedBase`` computes with its kernel rounded to steps of 1/8 and passes the gradient straight through
the rounding; it declares both (``spec_tests/forward.py``), so the spec compares it with
``activation(inputs @ round(8 kernel) / 8 + bias)`` and the straight-through gradient, and it conforms. The
mutants (in ``differential``, ``gradients`` and ``trainable_variables``) each change :meth:`quantized` or the
weights, one mistake each, which the declaration must not hide. TensorFlow ops: both generations.
"""

from __future__ import annotations

import numpy as np

from layers._compat import keras, tf
from spec_tests.helpers import to_numpy

STEP = 0.125


class FakeQuantizedBase(keras.layers.Dense):
    """``keras.layers.Dense`` whose kernel is rounded to steps of 1/8 in ``call`` (straight-through gradient)."""

    layer_spec_weight_gradient = "straight_through"

    def quantized(self, kernel):
        """``round(w / STEP) * STEP`` forward, the identity backward."""
        return kernel + tf.stop_gradient(tf.round(kernel / STEP) * STEP - kernel)

    def call(self, inputs):
        inputs = tf.cast(inputs, self.compute_dtype)
        kernel = self.quantized(tf.cast(self.kernel, self.compute_dtype))
        outputs = tf.tensordot(inputs, kernel, [[inputs.shape.rank - 1], [0]])
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, self.compute_dtype))
        return self.activation(outputs) if self.activation is not None else outputs

    def layer_spec_effective_weights(self):
        """What :meth:`call` computes with: the kernel in the compute dtype (bfloat16 under a mixed policy) rounded to
        steps of 1/8, and the bias."""
        kernel = to_numpy(tf.cast(tf.cast(self.kernel, self.compute_dtype), "float32")).astype(np.float64)
        return np.round(kernel / STEP) * STEP, None if self.bias is None else to_numpy(self.bias)
