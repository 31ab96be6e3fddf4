"""Layers for the Keras 2 to Keras 3 migration check (``layer-spec migrate``, ``tests/test_compatibility.py``).

``OptimizedDense`` is shaped like the layer of keras-team/keras#19373: a subclass of ``Dense`` whose constructor
fixes ``activation="relu"`` and ``use_bias=True`` and takes an extra ``lora_rank``; it runs on both generations
(``layers._compat`` gives tf_keras under ``TF_USE_LEGACY_KERAS=1``). Like the issue's, it is not registered: the
check loads it with ``custom_objects``. docs/compatibility.md explains what the check finds.
"""

from layers._compat import keras


class OptimizedDense(keras.layers.Dense):
    """``Dense`` with its activation fixed to relu and a bias, as in keras-team/keras#19373."""

    def __init__(self, units, kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 lora_rank=None, **kwargs):
        kwargs.pop("activation", None)  # fixed here; get_config still writes it
        kwargs.pop("use_bias", None)
        super().__init__(units, activation="relu", use_bias=True, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, **kwargs)
        self.lora_rank_option = lora_rank
