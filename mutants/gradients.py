"""Mutants the gradient clauses reject: forward passes that are right, backward passes that are not.

Three of them write the dense layer's backprop by hand with ``tf.custom_gradient``
(correctly wired: the weights enter as tensors, so no variable is closed over)
and get one derivative wrong; one hides the bias from the tape.
"""

from __future__ import annotations

from layers import MyDenseLayer
from layers._compat import register_serializable, tf
from mutants._fake_quantized import STEP, FakeQuantizedBase, ScaledBase
from mutants._ops import OpsBase, activate, ops


@register_serializable(package="mutants")
class HandWrittenBackprop(MyDenseLayer):
    """``activation(x @ W + b)`` with the affine map's gradients written by hand, correctly.

    Not a mutant (no ``KILLED_BY``): the control that passes the gradient clauses, and
    the base whose one derivative each mutant below gets wrong.
    """

    def call(self, inputs):
        dtype = tf.as_dtype(self.compute_dtype)
        x = tf.cast(inputs, dtype)
        kernel = tf.cast(self.kernel, dtype)
        bias = tf.cast(self.bias, dtype) if self.bias is not None else tf.zeros((self.units,), dtype)
        outputs = self._affine(x, kernel, bias)
        return self.activation(outputs) if self.activation is not None else outputs

    def _affine(self, x, kernel, bias):
        layer = self

        @tf.custom_gradient
        def affine(x, kernel, bias):
            outputs = tf.tensordot(x, kernel, [[x.shape.rank - 1], [0]]) + bias

            def grad(upstream):
                flat_x = tf.reshape(x, (-1, tf.shape(kernel)[0]))
                flat_g = tf.reshape(upstream, (-1, tf.shape(kernel)[1]))
                return layer._input_grad(upstream, kernel, x), layer._kernel_grad(flat_x, flat_g), tf.reduce_sum(
                    flat_g, axis=0)

            return outputs, grad

        return affine(x, kernel, bias)

    def _input_grad(self, upstream, kernel, x):
        return tf.matmul(upstream, kernel, transpose_b=True)  # dL/dx = g W^T

    def _kernel_grad(self, flat_x, flat_g):
        return tf.matmul(flat_x, flat_g, transpose_a=True)  # dL/dW = x^T g


@register_serializable(package="mutants")
class KernelGradientAveraged(HandWrittenBackprop):
    """Divides its hand-written kernel gradient by the batch size, as if every loss were a mean."""

    KILLED_BY = ("gradients", "differential")

    def _kernel_grad(self, flat_x, flat_g):
        batch = tf.cast(tf.shape(flat_x)[0], flat_x.dtype)
        return tf.matmul(flat_x, flat_g, transpose_a=True) / batch  # the mistake: x^T g / n


@register_serializable(package="mutants")
class KernelGradientDoubled(HandWrittenBackprop):
    """Returns ``2 x^T g`` as the kernel gradient, a derivative of ``x W`` taken as if it were quadratic."""

    KILLED_BY = ("gradients", "differential")

    def _kernel_grad(self, flat_x, flat_g):
        return 2.0 * tf.matmul(flat_x, flat_g, transpose_a=True)  # the mistake: the factor 2


@register_serializable(package="mutants")
class InputGradientZeroed(HandWrittenBackprop):
    """Returns a zero input gradient from its hand-written backprop ("inputs are data"), so layers below never learn."""

    KILLED_BY = ("gradients", "differential")

    def _input_grad(self, upstream, kernel, x):
        return tf.zeros_like(x)  # the mistake: dL/dx is g W^T, not zero


@register_serializable(package="mutants")
class BiasBehindStopGradient(MyDenseLayer):
    """Adds the bias through ``tf.stop_gradient``, so the bias never receives a gradient."""

    KILLED_BY = ("gradients", "differential")

    def call(self, inputs):
        dtype = tf.as_dtype(self.compute_dtype)
        inputs = tf.cast(inputs, dtype)
        outputs = tf.tensordot(inputs, tf.cast(self.kernel, dtype), [[inputs.shape.rank - 1], [0]])
        if self.bias is not None:
            outputs = outputs + tf.stop_gradient(tf.cast(self.bias, dtype))  # the mistake
        return self.activation(outputs) if self.activation is not None else outputs


@register_serializable(package="mutants")
class OpsBiasGradientAveraged(OpsBase):
    """keras.ops only: a hand-written gradient (keras.ops.custom_gradient) that averages the bias gradient over the batch."""

    KILLED_BY = ("gradients", "differential")
    GENERATIONS = (3,)  # keras.ops

    def call(self, inputs):
        dtype = self.compute_dtype
        x, kernel = ops.cast(inputs, dtype), ops.cast(self.kernel, dtype)
        bias = ops.cast(self.bias, dtype) if self.bias is not None else ops.zeros((self.units,), dtype)

        @ops.custom_gradient
        def affine_map(x, kernel, bias):
            def grad(*args, upstream=None):
                upstream = args[0] if upstream is None else upstream
                flat_x = ops.reshape(x, (-1, ops.shape(kernel)[0]))
                flat_g = ops.reshape(upstream, (-1, ops.shape(kernel)[1]))
                # The mistake: the bias is broadcast over the batch, so its gradient is a sum, not a mean.
                return (ops.matmul(upstream, ops.transpose(kernel)), ops.matmul(ops.transpose(flat_x), flat_g),
                        ops.mean(flat_g, axis=0))

            return ops.add(ops.matmul(x, kernel), bias), grad

        return activate(self, affine_map(x, kernel, bias))


@register_serializable(package="mutants")
class OpsKernelStopGradient(OpsBase):
    """keras.ops only: reads the kernel through ops.stop_gradient, so no gradient reaches it."""

    KILLED_BY = ("gradients", "training")
    GENERATIONS = (3,)  # keras.ops

    def call(self, inputs):
        dtype = self.compute_dtype
        outputs = ops.matmul(ops.cast(inputs, dtype), ops.stop_gradient(ops.cast(self.kernel, dtype)))
        if self.bias is not None:
            outputs = ops.add(outputs, ops.cast(self.bias, dtype))
        return activate(self, outputs)


@register_serializable(package="mutants")
class RoundingBlocksTheGradient(FakeQuantizedBase):
    """Declares a straight-through gradient, but rounds without one: the kernel's gradient is zero."""

    KILLED_BY = ("gradients",)

    def quantized(self, kernel):
        return tf.round(kernel / STEP) * STEP  # the mistake: no kernel + stop_gradient(q - kernel)


@register_serializable(package="mutants")
class ScaleGradientStopped(ScaledBase):
    """Scales the kernel by ``kernel_scale`` through a stop_gradient, so the kernel's gradient is lost under any scale."""

    KILLED_BY = ("gradients",)

    def transformed(self, kernel):
        return kernel + tf.stop_gradient(kernel * (self.kernel_scale - 1.0))  # the mistake: d/dkernel is 1, not the scale
