"""Reference and alternative dense layers for the executable spec.

* :class:`MyDenseLayer`: the reference, the tutorial's layer finished (``layers/dense.py``).
* :class:`CustomGradientDense`: the same layer with a hand-written backward pass (``tf.custom_gradient``).
* :class:`OpsDense`: the same layer in ``keras.ops`` only; **Keras 3 only**. Under legacy Keras 2
  (``TF_USE_LEGACY_KERAS=1``) ``import layers`` still works, ``OPS_DENSE_AVAILABLE`` is False, and
  ``layers.OpsDense`` raises an ``AttributeError`` that says why.
* The tutorial's layer as published (``layers.tutorial.MyDenseLayer``, exported here as
  :class:`TutorialDenseLayer` so that it does not shadow the reference), and its fixes for Keras 3:
  :class:`PortedTutorialLayer` (keyword ``add_weight``, kernel only) and :class:`FixedTutorialLayer`
  (that plus a bias). These promise the ``seed`` profile (``Cls(num_outputs)``), not ``dense``.
"""

from layers.custom_gradient import CustomGradientDense
from layers.dense import MyDenseLayer
from layers.ops_dense import OPS_DENSE_AVAILABLE, UNAVAILABLE_REASON as _OPS_DENSE_UNAVAILABLE
from layers.tutorial import FixedTutorialLayer, PortedTutorialLayer, TutorialDenseLayer

if OPS_DENSE_AVAILABLE:
    from layers.ops_dense import OpsDense
else:  # pragma: no cover - exercised by the legacy CI leg

    def __getattr__(name):
        if name == "OpsDense":
            raise AttributeError(_OPS_DENSE_UNAVAILABLE)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CustomGradientDense",
    "FixedTutorialLayer",
    "MyDenseLayer",
    "OPS_DENSE_AVAILABLE",
    "PortedTutorialLayer",
    "TutorialDenseLayer",
] + (["OpsDense"] if OPS_DENSE_AVAILABLE else [])
