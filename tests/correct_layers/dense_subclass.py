"""``CheckedDense``: ``keras.layers.Dense`` itself, subclassed to refuse an unknown input width in its own words."""

from layers._compat import keras, register_serializable


@register_serializable(package="correct_layers")
class CheckedDense(keras.layers.Dense):
    """Dense, with a build that says plainly why it cannot size the kernel."""

    def build(self, input_shape):
        if input_shape is None or not input_shape or list(input_shape)[-1] is None:
            raise ValueError(f"{self.name}: cannot create a kernel for inputs of unknown width {input_shape}")
        super().build(input_shape)
