"""``MyDenseLayer``: the tutorial's layer, finished.

The tutorial's layer has a lazy ``build`` that creates a ``kernel`` and a
``call`` that is one ``tf.matmul``. This one keeps that shape and adds what a
Keras citizen needs: a bias, an activation, initializers, regularizers and
constraints, a complete ``get_config``, ``compute_output_shape``, inputs of any
rank >= 2, and the same constructor contract as ``keras.layers.Dense``.

Like ``Dense``, it also takes a rank-2 ``tf.SparseTensor`` (sparse features:
``tf.sparse.sparse_dense_matmul``) and a ``tf.RaggedTensor`` of shape
``(batch, None, input_dim)`` (the dense computation on its flat values, the row
lengths kept), and says so in ``layer_spec_capabilities``.
"""

from __future__ import annotations

from layers._compat import InputSpec, keras, register_serializable, tf, validate_units


@register_serializable(package="layers")
class MyDenseLayer(keras.layers.Layer):
    """A densely connected layer: ``activation(inputs @ kernel + bias)``.

    Args:
        units: positive int, the size of the last output dimension.
        activation: activation identifier or callable; ``None`` is linear.
        use_bias: whether to create and add a bias vector.
        kernel_initializer, bias_initializer: initializer identifiers or objects.
        kernel_regularizer, bias_regularizer, activity_regularizer: regularizers.
        kernel_constraint, bias_constraint: constraints applied after updates.
        **kwargs: the base layer's arguments (``name``, ``dtype``, ``trainable``).

    TensorFlow-only: ``call`` uses TensorFlow ops (``tf.matmul``, ``tf.nn.bias_add``), so the spec runs it
    on the TensorFlow backend only (``layer_spec_backends``); :class:`layers.OpsDense` is the same layer
    for every Keras 3 backend.
    """

    #: What it does beyond the core contract, as keras.layers.Dense does (the spec checks ragged inputs against
    #: legacy Keras 2's Dense; Keras 3's Dense has none).
    layer_spec_capabilities = ("sparse_inputs", "ragged_inputs")
    #: The Keras backends this layer runs on: read by the spec, which refuses to run it on any other.
    layer_spec_backends = ("tensorflow",)

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = validate_units(units)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        input_dim = tuple(input_shape)[-1]
        if input_dim is None:
            raise ValueError(
                f"{type(self).__name__} needs a known last input dimension to build its "
                f"kernel; received input_shape={tuple(input_shape)}."
            )
        input_dim = int(input_dim)
        # Keras 3's add_weight takes every argument by keyword; the tutorial's
        # positional add_variable("kernel", shape=...) fails there.
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            trainable=True,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                trainable=True,
            )
        else:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    def _cast_inputs(self, inputs):
        """Cast numeric inputs to the compute dtype (int, bool, float64 -> float32), as Dense does; refuse strings."""
        dtype = tf.as_dtype(self.compute_dtype)
        if inputs.dtype != dtype:
            if inputs.dtype == tf.string:
                raise TypeError(
                    f"{type(self).__name__} expects numeric inputs; received a tensor of "
                    f"dtype {inputs.dtype.name}."
                )
            inputs = tf.cast(inputs, dtype)
        return inputs, dtype

    def call(self, inputs):
        if isinstance(inputs, tf.RaggedTensor):  # (batch, None, input_dim): compute on the values, keep the rows
            return tf.ragged.map_flat_values(self.call, inputs)
        inputs, dtype = self._cast_inputs(inputs)
        kernel = tf.cast(self.kernel, dtype)
        if isinstance(inputs, tf.SparseTensor):  # sums repeated indices, takes them in any order
            outputs = tf.sparse.sparse_dense_matmul(inputs, kernel)
        elif inputs.shape.rank == 2:
            outputs = tf.matmul(inputs, kernel)
        else:
            outputs = tf.tensordot(inputs, kernel, [[inputs.shape.rank - 1], [0]])
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, dtype))
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            activation=keras.activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=keras.regularizers.serialize(self.bias_regularizer),
            activity_regularizer=keras.regularizers.serialize(self.activity_regularizer),
            kernel_constraint=keras.constraints.serialize(self.kernel_constraint),
            bias_constraint=keras.constraints.serialize(self.bias_constraint),
        )
        return config
