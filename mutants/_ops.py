"""The base of the ``keras.ops`` mutants: ``layers.OpsDense`` and ``keras.ops``, which run on every Keras 3 backend.

The mutants written on it run on TensorFlow and JAX alike (their class inherits
``OpsDense``'s ``layer_spec_backends``), so the meta test shows each one rejected
on both. Legacy Keras 2 has no ``keras.ops``: there ``OpsBase`` is a stand-in and
``ops`` is None, so that the area modules still import; the mutants say
``GENERATIONS = (3,)`` and never run there.
"""

from __future__ import annotations

from layers import OPS_DENSE_AVAILABLE, MyDenseLayer

if OPS_DENSE_AVAILABLE:
    from keras import ops

    from layers import OpsDense as OpsBase
else:  # pragma: no cover - legacy Keras 2
    ops = None
    OpsBase = MyDenseLayer


def affine(layer, inputs, bias=True):
    """``inputs @ kernel (+ bias)`` in the layer's compute dtype, with keras.ops only."""
    dtype = layer.compute_dtype
    outputs = ops.matmul(ops.cast(inputs, dtype), ops.cast(layer.kernel, dtype))
    if bias and layer.bias is not None:
        outputs = ops.add(outputs, ops.cast(layer.bias, dtype))
    return outputs


def activate(layer, outputs):
    return layer.activation(outputs) if layer.activation is not None else outputs


__all__ = ["OPS_DENSE_AVAILABLE", "OpsBase", "activate", "affine", "ops"]
