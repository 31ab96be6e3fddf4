"""A wrapper as a dense layer: tensorflow-model-optimization's ``prune_low_magnitude`` around ``Dense`` (Keras 2).

The wrapper keeps its kernel and bias inside the layer it wraps (``wrapper.layer.kernel``), owns three weights of
its own (``mask``, ``threshold``, ``pruning_step``) and computes with ``kernel * mask``. This adapter declares all
of that (docs/forward-contract.md), so the spec judges the wrapper without editing it:
``TF_USE_LEGACY_KERAS=1 pytest --impl tests/adapters/pruned_dense.py:pruned_dense --profile custom``. The wrapper
does not conform: it drops masks, names itself ``prune_low_magnitude_<layer>``, needs the ``UpdatePruningStep``
callback in ``fit``, keeps ``units`` and ``use_bias`` on the layer it wraps (docs/forward-contract.md). Install it
without its dependencies (it pins old ones): ``pip install --no-deps tensorflow-model-optimization==0.8.1 dm-tree``.
"""

import numpy as np
import tensorflow_model_optimization as tfmot

from spec_tests.generation import keras


def pruned_dense(units, **options):
    """``prune_low_magnitude(Dense(units, **options))``, pruning half of the kernel from the first training step."""
    schedule = tfmot.sparsity.keras.ConstantSparsity(0.5, begin_step=0)
    return tfmot.sparsity.keras.prune_low_magnitude(keras.layers.Dense(units, **options), pruning_schedule=schedule)


def _mask(wrapper):
    return np.asarray(wrapper.pruning_vars[0][1].numpy())


def weights(wrapper):
    """The kernel and bias variables: the wrapped ``Dense``'s."""
    return wrapper.layer.kernel, wrapper.layer.bias


def effective_weights(wrapper):
    """What the wrapper computes with: the kernel times the pruning mask, and the bias."""
    return np.asarray(wrapper.layer.kernel.numpy()) * _mask(wrapper), \
        None if wrapper.layer.bias is None else wrapper.layer.bias.numpy()


def weight_gradient(wrapper):
    """``d(kernel * mask) / dkernel``: the mask (a pruned entry gets no gradient); the bias's is 1."""
    return _mask(wrapper), None


pruned_dense.layer_spec_weights = weights
pruned_dense.layer_spec_effective_weights = effective_weights
pruned_dense.layer_spec_weight_gradient = weight_gradient
pruned_dense.layer_spec_extra_weights = ("mask", "threshold", "pruning_step")
