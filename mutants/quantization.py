"""Mutants the quantization clauses reject: layers that claim ``quantize_int8`` and quantize wrongly.

Each class is ``AdaptableDense`` (which claims ``quantize_int8``) with one realistic mistake; the first line of its
docstring names it. Quantization is a Keras 3 feature of ``Dense``, so these mutants run on Keras 3 only; under
legacy Keras 2 they are made from the reference instead, and never run (``mutants/_adaptable.py``).
"""

from __future__ import annotations

from layers._compat import register_serializable, tf
from mutants._adaptable import Base


@register_serializable(package="mutants")
class QuantizeKeepsFloatKernel(Base):
    """Fake-quantizes: rounds the kernel to int8 steps but keeps it a float32 variable, with no kernel_scale."""

    KILLED_BY = ("quantization",)
    GENERATIONS = (3,)

    def quantize(self, mode=None, type_check=True, config=None):
        scale = 127.0 / tf.reduce_max(tf.abs(self._kernel), axis=0)
        self._kernel.assign(tf.round(self._kernel * scale) / scale)  # the mistake: still float32, still 4 bytes
        self._is_quantized = True


@register_serializable(package="mutants")
class QuantizedScaleInverted(Base):
    """Multiplies the int8 matmul by ``kernel_scale`` instead of dividing by it."""

    KILLED_BY = ("quantization",)
    GENERATIONS = (3,)

    def _int8_call(self, inputs, training=None):
        outputs = tf.matmul(tf.cast(inputs, self.compute_dtype), tf.cast(self._kernel, self.compute_dtype))
        outputs = outputs * self.kernel_scale  # the mistake: scale = 127 / max|W|, so dequantizing divides
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs


@register_serializable(package="mutants")
class QuantizedScaleNotSaved(Base):
    """Saves and loads ``kernel`` and ``bias`` only, so a reloaded quantized layer keeps a kernel_scale of ones."""

    KILLED_BY = ("quantization",)
    GENERATIONS = (3,)

    # The mistake: hooks written for the float layer; kernel_scale is neither written nor read.
    def save_own_variables(self, store):
        store["0"], store["1"] = self._kernel, self.bias

    def load_own_variables(self, store):
        self._kernel.assign(store["0"])
        self.bias.assign(store["1"])


@register_serializable(package="mutants")
class QuantizeTwiceIgnored(Base):
    """Returns silently when quantized a second time instead of refusing (it never sets ``_is_quantized``)."""

    KILLED_BY = ("quantization",)
    GENERATIONS = (3,)

    def quantize(self, mode=None, type_check=True, config=None):
        if self.quantization_mode == mode:
            return  # the mistake: Dense raises ValueError; a caller cannot tell that nothing happened
        super().quantize(mode, type_check, config)

    def _int8_build(self, kernel_shape):
        super()._int8_build(kernel_shape)
        self._is_quantized = False  # so Keras's quantize wrapper does not refuse the second call itself
