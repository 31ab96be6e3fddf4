"""``HeDense``: a ``Dense`` subclass whose kernel starts ``he_normal`` by design, as qkeras-v3's ``QDense`` does."""

from layers._compat import keras, register_serializable


@register_serializable(package="correct_layers")
class HeDense(keras.layers.Dense):
    """Dense with another default kernel initializer: correct, not a drop-in (judged under --profile custom)."""

    def __init__(self, units, kernel_initializer="he_normal", **kwargs):
        super().__init__(units, kernel_initializer=kernel_initializer, **kwargs)
