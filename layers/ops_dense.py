"""``OpsDense``: the dense layer written with ``keras.ops`` only (Keras 3).

``keras.ops`` is Keras 3's backend-neutral array API: the same ``call`` runs
on TensorFlow, JAX, PyTorch or NumPy tensors. ``OpsDense`` keeps
:class:`layers.MyDenseLayer`'s constructor, ``build`` (``add_weight`` with
keyword arguments, an ``InputSpec``), ``get_config`` and
``compute_output_shape``, none of which touches TensorFlow, and replaces its
``call`` by one that uses ``keras.ops`` only. ``ops.matmul`` contracts the
last axis of an input of any rank >= 2 with the kernel and promotes integer
and bool inputs to the float compute dtype, as ``keras.layers.Dense`` does.

**Keras 3 only.** Legacy Keras 2 (``tf_keras``, chosen with
``TF_USE_LEGACY_KERAS=1``) has no ``keras.ops``, and mixing Keras 3's ops into
a ``tf_keras`` layer would no longer be backend-neutral code. Under legacy
Keras this module still imports, so ``import layers`` works in both
generations, but it defines no ``OpsDense``: asking for it raises an
``AttributeError`` that says why. ``OPS_DENSE_AVAILABLE`` tells which case
holds.
"""

from __future__ import annotations

from layers._compat import GENERATION, LEGACY, keras, missing_names, register_serializable
from layers.dense import MyDenseLayer

OPS_DENSE_AVAILABLE = not LEGACY
UNAVAILABLE_REASON = (
    "OpsDense is Keras 3 only: it is written with keras.ops, which legacy Keras 2 (tf_keras) lacks; "
    f"this process runs Keras {GENERATION} (TF_USE_LEGACY_KERAS is set). Unset TF_USE_LEGACY_KERAS to use it."
)

if OPS_DENSE_AVAILABLE:
    from keras import ops

    @register_serializable(package="layers")
    class OpsDense(MyDenseLayer):
        """A densely connected layer, ``activation(inputs @ kernel + bias)``, in ``keras.ops`` only.

        Same arguments as :class:`layers.MyDenseLayer` and ``keras.layers.Dense``.
        """

        #: Unlike MyDenseLayer's TensorFlow ops, keras.ops run on every backend.
        layer_spec_backends = ("tensorflow", "jax", "torch", "numpy")

        def call(self, inputs):
            if keras.backend.standardize_dtype(inputs.dtype) == "string":
                raise TypeError(
                    f"{type(self).__name__} expects numeric inputs; received a tensor of dtype string."
                )
            inputs = ops.cast(inputs, self.compute_dtype)
            outputs = ops.matmul(inputs, ops.cast(self.kernel, self.compute_dtype))
            if self.bias is not None:
                outputs = ops.add(outputs, ops.cast(self.bias, self.compute_dtype))
            if self.activation is not None:
                outputs = self.activation(outputs)
            return outputs

else:  # pragma: no cover - exercised by the legacy CI leg
    __getattr__ = missing_names(__name__, {"OpsDense": UNAVAILABLE_REASON})


__all__ = ["OPS_DENSE_AVAILABLE", "UNAVAILABLE_REASON"] + (["OpsDense"] if OPS_DENSE_AVAILABLE else [])
