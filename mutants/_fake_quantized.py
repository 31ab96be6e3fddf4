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


class TransformedKernelDense(keras.layers.Dense):
    """``activation(inputs @ transformed(kernel) + bias)`` in the compute dtype; :meth:`transformed` is the subclass's."""

    def transformed(self, kernel):
        raise NotImplementedError

    def call(self, inputs):
        inputs = tf.cast(inputs, self.compute_dtype)
        kernel = self.transformed(tf.cast(self.kernel, self.compute_dtype))
        outputs = tf.tensordot(inputs, kernel, [[inputs.shape.rank - 1], [0]])
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, self.compute_dtype))
        return self.activation(outputs) if self.activation is not None else outputs


class FakeQuantizedBase(TransformedKernelDense):
    """``keras.layers.Dense`` whose kernel is rounded to steps of 1/8 in ``call`` (straight-through gradient)."""

    layer_spec_weight_gradient = "straight_through"

    def quantized(self, kernel):
        """``round(w / STEP) * STEP`` forward, the identity backward."""
        return kernel + tf.stop_gradient(tf.round(kernel / STEP) * STEP - kernel)

    def transformed(self, kernel):
        return self.quantized(kernel)

    def layer_spec_effective_weights(self):
        """What :meth:`call` computes with: the kernel in the compute dtype (bfloat16 under a mixed policy) rounded to
        steps of 1/8, and the bias."""
        kernel = to_numpy(tf.cast(tf.cast(self.kernel, self.compute_dtype), "float32")).astype(np.float64)
        return np.round(kernel / STEP) * STEP, None if self.bias is None else to_numpy(self.bias)


class ScaledBase(TransformedKernelDense):
    """``keras.layers.Dense`` with an option of its own, ``kernel_scale`` (the kernel times a constant), declared:
    its effective weights and their gradient, example and invalid configurations, its default. It conforms; the
    mutants of the declared-configuration clauses each break one of these."""

    layer_spec_configurations = {"scaled": {"kernel_scale": 2.5}, "scaled_relu": {"kernel_scale": -0.5,
                                                                                  "activation": "relu"}}
    layer_spec_invalid_configurations = {"infinite_scale": {"kernel_scale": float("inf")}}
    layer_spec_defaults = {"kernel_scale": 1.0}

    def __init__(self, units, kernel_scale=1.0, **kwargs):
        super().__init__(units, **kwargs)
        if isinstance(kernel_scale, bool) or not isinstance(kernel_scale, (int, float)) or not np.isfinite(kernel_scale):
            raise ValueError(f"kernel_scale must be a finite number, got {kernel_scale!r}")
        self.kernel_scale = float(kernel_scale)

    def transformed(self, kernel):
        return kernel * self.kernel_scale

    def get_config(self):
        return {**super().get_config(), "kernel_scale": self.kernel_scale}

    def layer_spec_effective_weights(self):
        """The weights :meth:`call` computes with: the scaled kernel, and the bias."""
        return to_numpy(self.kernel) * self.kernel_scale, None if self.bias is None else to_numpy(self.bias)

    def layer_spec_weight_gradient(self):
        """``d(kernel_scale * kernel) / dkernel``: the scale."""
        return self.kernel_scale, None
