"""``FakeQuantizedDense``: a quantization-aware dense layer that declares its forward contract and its extra weight.

It computes with its kernel rounded to a step (fake quantization, as quantization-aware training does) and passes
the gradient straight through the rounding. The step is quantizer state: a non-trainable weight ``step`` (1/8)
beside the kernel and bias. It declares all three (``spec_tests/forward.py``): the value and gradient clauses
compare with ``inputs @ round(kernel / step) * step + bias`` and the straight-through gradient, and the naming and
count clauses leave ``step`` out. The rest is ``OpsOnlyDense``'s (``keras.ops``, every option of ``Dense``).
"""

import keras
import numpy as np
from keras import ops

from tests.correct_layers.ops_only import OpsOnlyDense

STEP = 0.125


@keras.saving.register_keras_serializable(package="correct_layers")
class FakeQuantizedDense(OpsOnlyDense):
    """``OpsOnlyDense`` whose kernel is rounded to steps of ``step`` in ``call``."""

    layer_spec_weight_gradient = "straight_through"
    layer_spec_extra_weights = ("step",)

    def build(self, input_shape):
        super().build(input_shape)
        self.step = self.add_weight(name="step", shape=(), initializer=keras.initializers.Constant(STEP),
                                    trainable=False)

    def call(self, inputs):
        kernel = ops.cast(self.kernel, self.compute_dtype)
        step = ops.cast(self.step, self.compute_dtype)
        kernel = kernel + ops.stop_gradient(ops.round(kernel / step) * step - kernel)  # straight-through
        y = ops.matmul(ops.cast(inputs, self.compute_dtype), kernel)
        if self.use_bias:
            y = y + ops.cast(self.bias, self.compute_dtype)
        return y if self.activation is None else self.activation(y)

    def layer_spec_effective_weights(self):
        """The weights ``call`` computes with: the kernel in the compute dtype (bfloat16 under a mixed policy), rounded
        to the step, and the bias."""
        def as_computed(weight):  # rounded to the compute dtype, then read back as float32
            return ops.convert_to_numpy(ops.cast(ops.cast(weight, self.compute_dtype), "float32")).astype(np.float64)

        step = float(as_computed(self.step))
        return np.round(as_computed(self.kernel) / step) * step, self.bias
