"""qkeras-v3's ``QDense`` with 4-bit quantizers, declared for the spec: an adapter file, qkeras left unedited.

``QDense`` computes ``activation(inputs @ q(kernel) + q(bias))`` with ``q = quantized_bits(4, 0, 1)``, and its
quantizers pass the gradient straight through (``x + stop_gradient(q(x) - x)``). Run it with
``pytest --impl tests/adapters/qkeras_qdense.py:qdense_4bit --profile custom`` (its default kernel initializer is
``he_normal``, by design). Install qkeras-v3 without its dependencies, whose pins clash with TensorFlow's:
``pip install --no-deps qkeras-v3==1.2.1 networkx``.
"""

from qkeras import QDense, quantized_bits

BITS, INTEGER, KEEP_NEGATIVE = 4, 0, 1


def qdense_4bit(units, **options):
    """A ``QDense`` whose kernel and bias are quantized to 4 bits (the factory the spec calls)."""
    return QDense(units, kernel_quantizer=quantized_bits(BITS, INTEGER, KEEP_NEGATIVE),
                  bias_quantizer=quantized_bits(BITS, INTEGER, KEEP_NEGATIVE), **options)


def effective_weights(layer):
    """The weights ``QDense.call`` computes with: its quantizers applied to the float kernel and bias."""
    bias = None if layer.bias is None else layer.bias_quantizer_internal(layer.bias)
    return layer.kernel_quantizer_internal(layer.kernel), bias


qdense_4bit.layer_spec_effective_weights = effective_weights
qdense_4bit.layer_spec_weight_gradient = "straight_through"


def qdense_4bit_undeclared(units, **options):
    """The same layer, declaring nothing: the spec compares it with ``inputs @ kernel + bias`` (one cause)."""
    return qdense_4bit(units, **options)
