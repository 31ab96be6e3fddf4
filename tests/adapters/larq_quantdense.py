"""larq's ``QuantDense`` with ``ste_sign`` binarized kernels (legacy Keras 2), declared for the spec in an adapter.

``QuantDense`` computes ``activation(inputs @ sign(kernel) + bias)`` (``ste_sign``: sign, with sign(0) = 1), and
its gradient is the *clipped* straight-through estimator: ``dL/dkernel = dL/dsign(kernel)`` where
``|kernel| <= 1``, zero elsewhere. ``kernel_constraint="weight_clip"`` keeps the kernel in [-1, 1], as larq's
guides do, by default: run it with
``TF_USE_LEGACY_KERAS=1 pytest --impl tests/adapters/larq_quantdense.py:quant_dense --profile custom``.
Install larq without its dependencies (it pins numpy < 2): ``pip install --no-deps larq==0.14.0 terminaltables``.
"""

import numpy as np
from larq.layers import QuantDense

CLIP = 1.0


def quant_dense(units, kernel_constraint="weight_clip", **options):
    """A ``QuantDense`` with an ``ste_sign`` kernel quantizer, clipped to [-1, 1] by default (the factory the spec
    calls; the default constraint is its own, so it runs under ``--profile custom``)."""
    return QuantDense(units, kernel_quantizer="ste_sign", kernel_constraint=kernel_constraint, **options)


def _latent(variable):
    """The float value larq keeps under its quantized variable."""
    return np.asarray(getattr(variable, "latent_variable", variable).numpy())


def effective_weights(layer):
    """The weights ``QuantDense.call`` computes with: ``sign(kernel)`` (sign(0) = 1) and the float bias."""
    kernel = _latent(layer.kernel)
    bias = None if layer.bias is None else _latent(layer.bias)
    return np.where(kernel >= 0, 1.0, -1.0).astype(kernel.dtype), bias


def weight_gradient(layer):
    """``ste_sign``'s gradient: the straight-through estimator, cut to zero where ``|kernel| > 1``."""
    return (np.abs(_latent(layer.kernel)) <= CLIP).astype(np.float64), None


quant_dense.layer_spec_effective_weights = effective_weights
quant_dense.layer_spec_weight_gradient = weight_gradient


def quant_dense_undeclared(units, **options):
    """The same layer, declaring nothing: the spec compares it with ``inputs @ kernel + bias`` (one cause)."""
    return quant_dense(units, **options)
