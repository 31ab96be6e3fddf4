"""``ScaledKernelDense``: a dense layer with an option of its own, ``kernel_scale``, declared for the spec.

Its forward pass multiplies the kernel by ``kernel_scale`` (a constant, 1.0 by default), so it declares its
effective weights (``kernel * kernel_scale``) and their gradient (``dL/dkernel = kernel_scale * dL/dW_effective``),
example configurations of the option (``layer_spec_configurations``, the declaration its golden sets use), values
it refuses (``layer_spec_invalid_configurations``) and its default (``layer_spec_defaults``): the value, gradient,
serialization and refusal clauses run under each, so that the option's code is checked too.
``layer-spec mutate tests/correct_layers/scaled_kernel.py:ScaledKernelDense`` measures it. The rest is
``OpsOnlyDense``'s (``keras.ops``, every option of ``Dense``).
"""

import math

import keras
from keras import ops

from tests.correct_layers.ops_only import OpsOnlyDense


@keras.saving.register_keras_serializable(package="correct_layers")
class ScaledKernelDense(OpsOnlyDense):
    """``activation(x @ (kernel_scale * kernel) + bias)``."""

    layer_spec_configurations = {
        "scaled": {"kernel_scale": 2.5},
        "negative_scale_relu": {"kernel_scale": -0.5, "activation": "relu"},
        "scaled_without_bias": {"kernel_scale": 4.0, "use_bias": False},
    }
    layer_spec_invalid_configurations = {
        "boolean_scale": {"kernel_scale": True},
        "infinite_scale": {"kernel_scale": float("inf")},
        "text_scale": {"kernel_scale": "2"},
    }
    layer_spec_defaults = {"kernel_scale": 1.0}

    def __init__(self, units, kernel_scale=1.0, **kwargs):
        super().__init__(units, **kwargs)
        if isinstance(kernel_scale, bool) or not isinstance(kernel_scale, (int, float)) or not math.isfinite(kernel_scale):
            raise ValueError(f"ScaledKernelDense: `kernel_scale` has to be a finite number, not {kernel_scale!r}")
        self.kernel_scale = float(kernel_scale)

    def call(self, inputs):
        kernel = ops.cast(self.kernel, self.compute_dtype) * self.kernel_scale
        y = ops.matmul(ops.cast(inputs, self.compute_dtype), kernel)
        if self.use_bias:
            y = y + ops.cast(self.bias, self.compute_dtype)
        return y if self.activation is None else self.activation(y)

    def get_config(self):
        return super().get_config() | {"kernel_scale": self.kernel_scale}

    def layer_spec_effective_weights(self):
        """The weights ``call`` computes with: the scaled kernel and the bias."""
        return ops.convert_to_numpy(self.kernel) * self.kernel_scale, self.bias

    def layer_spec_weight_gradient(self):
        """``d(kernel_scale * kernel) / dkernel``: the scale, element-wise; the bias's is 1."""
        return self.kernel_scale, None
