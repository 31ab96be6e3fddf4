"""The TensorFlow tutorial's custom layer, as published, and the smallest fixes for Keras 3.

The "Custom layers" tutorial implements a layer by subclassing ``Layer``::

    class MyDenseLayer(tf.keras.layers.Layer):
      def __init__(self, num_outputs):
        super(MyDenseLayer, self).__init__()
        self.num_outputs = num_outputs

      def build(self, input_shape):
        self.kernel = self.add_variable("kernel",
                                        shape=[int(input_shape[-1]),
                                               self.num_outputs])

      def call(self, inputs):
        return tf.matmul(inputs, self.kernel)

:class:`MyDenseLayer` below is that code, unchanged except that its base class
is the running generation's ``Layer`` (``tf.keras.layers.Layer`` was that
until TensorFlow 2.16). It keeps the tutorial's class name, so the fourth
instance in a session owns ``my_dense_layer_3/kernel:0``, as the tutorial
printed. It is deliberately not registered as serializable: the tutorial did
not register it, and the name ``layers>MyDenseLayer`` belongs to the reference
:class:`layers.MyDenseLayer`.

* On legacy Keras 2 it works: ``add_variable`` is a deprecated alias of
  ``add_weight(name, shape, ...)``, so ``"kernel"`` is the name.
* On Keras 3 it fails at the first call with ``TypeError:
  Layer.add_variable() got multiple values for argument 'shape'``: Keras 3's
  ``add_variable(shape, initializer, ...)`` takes ``shape`` first, so
  ``"kernel"`` lands in ``shape`` and ``shape=`` collides with it.

The fixes, each the smallest step from the one before:

* :class:`PortedTutorialLayer`: ``self.add_weight(name="kernel", shape=...)``
  with every argument by keyword. Nothing else changes: still
  ``Cls(num_outputs)``, a kernel and no bias. It runs on both generations and
  passes the ``seed`` profile of the spec there.
* :class:`FixedTutorialLayer`: the port plus the bias that the tutorial left
  out (``y = x @ kernel + bias``), still constructed as ``Cls(num_outputs)``.
  It has one more weight than the seed contract's "kernel only".

Both fixes are registered as serializable in the package ``layers``.
"""

from __future__ import annotations

from layers._compat import keras, register_serializable, tf


class MyDenseLayer(keras.layers.Layer):
    """The tutorial's layer exactly as published (Keras 2 API: ``add_variable`` with a positional name)."""

    def __init__(self, num_outputs):
        super(MyDenseLayer, self).__init__()
        self.num_outputs = num_outputs

    def build(self, input_shape):
        self.kernel = self.add_variable("kernel",
                                        shape=[int(input_shape[-1]),
                                               self.num_outputs])

    def call(self, inputs):
        return tf.matmul(inputs, self.kernel)


#: The published layer under a name that does not shadow :class:`layers.MyDenseLayer`.
TutorialDenseLayer = MyDenseLayer


@register_serializable(package="layers")
class PortedTutorialLayer(keras.layers.Layer):
    """The tutorial's layer with the one change Keras 3 needs: ``add_weight`` with keyword arguments."""

    def __init__(self, num_outputs):
        super().__init__()
        self.num_outputs = num_outputs

    def build(self, input_shape):
        # Keras 3: every argument by keyword; `name=` in particular.
        self.kernel = self.add_weight(name="kernel", shape=[int(input_shape[-1]), self.num_outputs])

    def call(self, inputs):
        return tf.matmul(inputs, self.kernel)


@register_serializable(package="layers")
class FixedTutorialLayer(PortedTutorialLayer):
    """The ported tutorial layer plus the bias it left out: ``inputs @ kernel + bias``."""

    def build(self, input_shape):
        super().build(input_shape)
        self.bias = self.add_weight(name="bias", shape=[self.num_outputs], initializer="zeros")

    def call(self, inputs):
        return tf.matmul(inputs, self.kernel) + self.bias
