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
* :class:`AdaptableDense`: ``OpsDense`` that can be quantized to int8 and adapted with LoRA, as Keras 3's
  ``Dense`` (``layers/adaptable.py``); **Keras 3 only**, like ``OpsDense`` (``ADAPTABLE_DENSE_AVAILABLE``).

Each class claims the capabilities beyond the core contract that it has in ``layer_spec_capabilities``.
"""

from layers._compat import missing_names
from layers.adaptable import ADAPTABLE_DENSE_AVAILABLE, UNAVAILABLE_REASON as _ADAPTABLE_DENSE_UNAVAILABLE
from layers.custom_gradient import CustomGradientDense
from layers.dense import MyDenseLayer
from layers.ops_dense import OPS_DENSE_AVAILABLE, UNAVAILABLE_REASON as _OPS_DENSE_UNAVAILABLE
from layers.tutorial import FixedTutorialLayer, PortedTutorialLayer, TutorialDenseLayer

if OPS_DENSE_AVAILABLE:
    from layers.ops_dense import OpsDense
if ADAPTABLE_DENSE_AVAILABLE:
    from layers.adaptable import AdaptableDense
# Only reached for names not defined above: under legacy Keras 2, the Keras 3 layers say why they are missing.
__getattr__ = missing_names(__name__, {"OpsDense": _OPS_DENSE_UNAVAILABLE, "AdaptableDense": _ADAPTABLE_DENSE_UNAVAILABLE})


__all__ = [
    "ADAPTABLE_DENSE_AVAILABLE",
    "CustomGradientDense",
    "FixedTutorialLayer",
    "MyDenseLayer",
    "OPS_DENSE_AVAILABLE",
    "PortedTutorialLayer",
    "TutorialDenseLayer",
] + (["AdaptableDense", "OpsDense"] if OPS_DENSE_AVAILABLE else [])
