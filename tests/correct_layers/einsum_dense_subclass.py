"""``UnitsEinsumDense``: Keras's own ``EinsumDense`` (``...a,ab->...b``) behind Dense's constructor and config.

A drop-in made by adapting another Keras layer: ``units`` becomes ``output_shape``, ``use_bias`` becomes
``bias_axes``, and ``get_config`` speaks Dense's arguments again so that ``from_config`` round-trips.

Two things ``EinsumDense`` does differently from ``Dense``, which the adapter undoes: it builds for the rank of
the first input (its ``input_spec`` fixes ``ndim``, so a layer built on ``(batch, 4)`` refuses ``(batch, 3, 4)``,
which ``Dense`` takes), and its ``compute_output_shape`` for an ellipsis equation is wrong for inputs of rank 4
(``(1, 2, 1, 3)`` -> ``(1, 1, 2, units)`` on Keras 3.15). And two that tf-keras's ``EinsumDense`` (Keras 2) adds:
it accepts ``activity_regularizer`` and never applies it, and it does not cast integer or bool inputs (the
einsum then fails), where Keras 2's ``Dense`` casts them to the compute dtype.
"""

from layers._compat import InputSpec, keras, register_serializable, tf

_EQUATION = "...a,ab->...b"


@register_serializable(package="correct_layers")
class UnitsEinsumDense(keras.layers.EinsumDense):
    """``EinsumDense`` with a ``(input_dim, units)`` kernel and a ``(units,)`` bias over the last axis."""

    def __init__(self, units, activation=None, use_bias=True, activity_regularizer=None, **kwargs):
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"UnitsEinsumDense: units must be a positive int, got units={units!r}")
        super().__init__(_EQUATION, output_shape=units, activation=activation, bias_axes="b" if use_bias else None,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.activity_regularizer = keras.regularizers.get(activity_regularizer)  # tf-keras's EinsumDense drops it
        self.units = units
        self.use_bias = bool(use_bias)
        self.supports_masking = True
        # EinsumDense declares no input_spec before build, so its first call would build from a rank-1 input
        # and only then refuse it; Dense's spec refuses it before any weight exists.
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_shape[-1]})

    def call(self, inputs):
        return super().call(tf.cast(inputs, self.compute_dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        for einsum_only in ("equation", "output_shape", "bias_axes"):
            config.pop(einsum_only, None)
        config.update(units=self.units, use_bias=self.use_bias)
        return config
