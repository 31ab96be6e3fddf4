r"""``CustomGradientDense``: a dense layer whose backward pass is written by hand.

The tutorial asks how backpropagation works. For a dense layer the answer fits
on a page, and this module is that page: the forward pass and its derivatives
are computed by explicit TensorFlow ops inside :func:`tf.custom_gradient`, so
TensorFlow's automatic differentiation never looks inside the affine map.

The derivation
--------------

Write the forward pass for a batch of ``n`` rows (inputs of rank 2)::

    y = x W + b        x: (n, d)   W: (d, u)   b: (u,)   y: (n, u)

that is, element by element, ``y[i, j] = sum_k x[i, k] W[k, j] + b[j]``.
Backpropagation receives the upstream gradient ``g = dL/dy`` (shape
``(n, u)``, one number per output element) and must return the gradient of the
scalar loss ``L`` with respect to every input of the op. By the chain rule,
``dL/dz = sum_{i,j} g[i, j] * dy[i, j]/dz`` for any quantity ``z``:

* **Kernel.** ``dy[i, j]/dW[k, l] = x[i, k]`` if ``j == l``, else 0. So
  ``dL/dW[k, l] = sum_i x[i, k] g[i, l]``, which is the matrix product

      dL/dW = x^T g                      shape (d, n) @ (n, u) = (d, u)

  Every row of the batch contributes its outer product ``x[i]^T g[i]``.
* **Bias.** ``dy[i, j]/db[l] = 1`` if ``j == l``, else 0. So
  ``dL/db[l] = sum_i g[i, l]``: the upstream gradient summed over the batch,

      dL/db = sum_i g[i, :]              shape (u,)

  (``b`` is broadcast over the batch in the forward pass, and the adjoint of a
  broadcast is a sum.)
* **Input.** ``dy[i, j]/dx[m, k] = W[k, j]`` if ``i == m``, else 0. So
  ``dL/dx[m, k] = sum_j g[m, j] W[k, j]``:

      dL/dx = g W^T                      shape (n, u) @ (u, d) = (n, d)

  This is what the layer hands to the layer below it.

Inputs of rank greater than 2
-----------------------------

``Dense`` applies the same map to the last axis of an input of any rank
``r >= 2``: for ``x`` of shape ``(a1, ..., a_{r-1}, d)``,
``y[a, :] = x[a, :] W + b`` for every multi-index ``a`` over the leading axes.
Those leading axes behave exactly like one long batch, so the layer reshapes
``x`` to ``X`` of shape ``(N, d)`` with ``N = a1 * ... * a_{r-1}`` (a reshape
is a relabelling of elements, so its gradient is the inverse reshape) and
``g`` to ``G`` of shape ``(N, u)``. Then:

* ``dL/dW = X^T G``: the sum of ``x[a]^T g[a]`` over every leading index ``a``;
* ``dL/db = sum_a g[a, :]``: ``g`` summed over the batch **and all other
  leading axes**;
* ``dL/dx = reshape(G W^T, shape(x))``: the same shape as ``x``.

Precision and graphs
--------------------

The kernel and the bias enter the custom-gradient function as **tensors**
(values read from the variables, then cast to the compute dtype), not as
captured variables. So no variable is read inside the function, and its
gradient function needs no ``variables=`` argument (TensorFlow demands one,
``grad_fn must accept keyword argument 'variables'``, as soon as a variable is
read inside). The reading and the cast stay outside, where TensorFlow
differentiates them itself: under ``mixed_float16`` the hand-written gradients
are float16, and the gradient of the cast turns them back into float32 for the
float32 variables. Everything is made of ordinary TensorFlow ops with dynamic
shapes, so the layer runs eagerly, inside ``tf.function`` and under XLA
(``jit_compile=True``).
"""

from __future__ import annotations

from layers._compat import register_serializable, tf
from layers.dense import MyDenseLayer


def _flatten_leading_axes(x):
    """``(a1, ..., a_{r-1}, d)`` -> ``(a1 * ... * a_{r-1}, d)``."""
    return tf.reshape(x, tf.stack([-1, tf.shape(x)[-1]]))


def _restore_leading_axes(y2, like, last_dim):
    """``(N, last_dim)`` -> ``like``'s leading axes + ``(last_dim,)``, with the static shape kept."""
    shape = tf.concat([tf.shape(like)[:-1], tf.shape(y2)[-1:]], axis=0)
    y = tf.reshape(y2, shape)
    y.set_shape(like.shape[:-1].concatenate([last_dim]))
    return y


def _affine_forward(x, kernel):
    x2 = _flatten_leading_axes(x)
    return x2, _restore_leading_axes(tf.matmul(x2, kernel), x, kernel.shape[-1])


def _input_and_kernel_grads(x, x2, kernel, upstream):
    """``dL/dx = g W^T`` and ``dL/dW = X^T G`` (see the module docstring)."""
    g2 = _flatten_leading_axes(upstream)
    grad_x = _restore_leading_axes(tf.matmul(g2, kernel, transpose_b=True), x, x.shape[-1])
    grad_kernel = tf.matmul(x2, g2, transpose_a=True)
    return g2, grad_x, grad_kernel


@tf.custom_gradient
def affine_without_bias(x, kernel):
    """``x @ kernel`` over the last axis of ``x``, with a hand-written gradient."""
    x2, y = _affine_forward(x, kernel)

    def grad(upstream):
        _, grad_x, grad_kernel = _input_and_kernel_grads(x, x2, kernel, upstream)
        return grad_x, grad_kernel

    return y, grad


@tf.custom_gradient
def affine(x, kernel, bias):
    """``x @ kernel + bias`` over the last axis of ``x``, with a hand-written gradient."""
    x2, y = _affine_forward(x, kernel)
    y = y + bias

    def grad(upstream):
        g2, grad_x, grad_kernel = _input_and_kernel_grads(x, x2, kernel, upstream)
        grad_bias = tf.reduce_sum(g2, axis=0)  # sum over the batch and every other leading axis
        return grad_x, grad_kernel, grad_bias

    return y, grad


def _read(weight, dtype):
    """The weight's value as a tensor of ``dtype``, read outside the custom-gradient function.

    ``tf.convert_to_tensor`` comes first because ``tf.cast`` returns a
    ``tf.Variable`` itself when the dtype already matches, and a variable
    passed into ``tf.custom_gradient`` counts as one read inside it.
    """
    return tf.cast(tf.convert_to_tensor(weight), dtype)


@register_serializable(package="layers")
class CustomGradientDense(MyDenseLayer):
    """``MyDenseLayer`` whose affine part ``inputs @ kernel + bias`` backpropagates by hand.

    Same constructor, weights, config and shapes as :class:`layers.MyDenseLayer`
    (and ``keras.layers.Dense``); only ``call`` differs. The derivation of the
    gradients is in this module's docstring.
    """

    #: The hand-written gradient covers dense inputs only: no sparse or ragged inputs, unlike MyDenseLayer.
    layer_spec_capabilities = ()

    def call(self, inputs):
        inputs, dtype = self._cast_inputs(inputs)
        kernel = _read(self.kernel, dtype)
        if self.bias is None:
            outputs = affine_without_bias(inputs, kernel)
        else:
            outputs = affine(inputs, kernel, _read(self.bias, dtype))
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs
