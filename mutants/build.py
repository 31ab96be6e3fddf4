"""Mutants the lazy-build clauses reject: mistakes in ``build`` and in what ``call`` does to the layer's state.

Each class is the reference ``MyDenseLayer`` with one realistic mistake; the
first line of its docstring names it.
"""

from __future__ import annotations

from layers import MyDenseLayer
from layers._compat import InputSpec, register_serializable, tf


def _add_kernel_and_bias(layer, kernel_shape):
    """What the reference's build does, for a kernel of ``kernel_shape``."""
    layer.kernel = layer.add_weight(
        name="kernel", shape=kernel_shape, initializer=layer.kernel_initializer,
        regularizer=layer.kernel_regularizer, constraint=layer.kernel_constraint, trainable=True,
    )
    layer.bias = (
        layer.add_weight(
            name="bias", shape=(layer.units,), initializer=layer.bias_initializer,
            regularizer=layer.bias_regularizer, constraint=layer.bias_constraint, trainable=True,
        )
        if layer.use_bias
        else None
    )


@register_serializable(package="mutants")
class HardCodedInputDim(MyDenseLayer):
    """Builds the kernel for a hard-coded input dimension (4) instead of the input's last dimension."""

    KILLED_BY = ("build",)
    INPUT_DIM = 4  # the dataset the author had in mind

    def build(self, input_shape):
        super().build((None, self.INPUT_DIM))  # the mistake: input_shape is ignored


@register_serializable(package="mutants")
class NoInputSpec(MyDenseLayer):
    """Never records the built input dimension in ``input_spec``, so a wrong last dimension fails inside matmul."""

    KILLED_BY = ("build",)
    # a wrong width is still refused (InvalidArgumentError from matmul) and nothing changes: only the form is wrong
    ADVISORY_ONLY = True

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=2)  # the mistake: no axes={-1: input_dim}


@register_serializable(package="mutants")
class InputsSlicedToKernel(MyDenseLayer):
    """Slices inputs to the kernel's input size, so a wider input is silently truncated instead of refused."""

    KILLED_BY = ("build",)

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=2)

    def call(self, inputs):
        # The mistake: "fixes" a shape error by dropping the extra features.
        return super().call(inputs[..., : self.kernel.shape[0]])


@register_serializable(package="mutants")
class CallMutatesWeights(MyDenseLayer):
    """Applies a hand-written weight decay to the kernel inside call, so every forward pass changes the weights."""

    KILLED_BY = ("build",)
    DECAY = 0.01

    def call(self, inputs):
        outputs = super().call(inputs)
        self.kernel.assign(self.kernel * (1.0 - self.DECAY))  # the mistake: call must not touch state
        return outputs


@register_serializable(package="mutants")
class DropoutAlwaysOn(MyDenseLayer):
    """Applies dropout to its inputs on every call, ignoring ``training``, so inference is random."""

    KILLED_BY = ("build",)
    RATE = 0.2

    def call(self, inputs):
        inputs = tf.nn.dropout(tf.cast(inputs, self.compute_dtype), rate=self.RATE)  # the mistake: no training flag
        return super().call(inputs)


@register_serializable(package="mutants")
class TransposedKernel(MyDenseLayer):
    """Stores the kernel as ``(units, input_dim)``, PyTorch's layout, and multiplies by its transpose."""

    KILLED_BY = ("build",)

    def build(self, input_shape):
        input_dim = tuple(input_shape)[-1]
        if input_dim is None:
            raise ValueError(f"{type(self).__name__} needs a known last input dimension; got {tuple(input_shape)}")
        _add_kernel_and_bias(self, (self.units, int(input_dim)))  # the mistake: (out, in) instead of (in, out)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: int(input_dim)})
        self.built = True

    def call(self, inputs):
        dtype = tf.as_dtype(self.compute_dtype)
        inputs = tf.cast(inputs, dtype)
        outputs = tf.tensordot(inputs, tf.cast(self.kernel, dtype), [[inputs.shape.rank - 1], [1]])
        if self.bias is not None:
            outputs = outputs + tf.cast(self.bias, dtype)
        return self.activation(outputs) if self.activation is not None else outputs


@register_serializable(package="mutants")
class StepCounterWeight(MyDenseLayer):
    """Counts its calls in an extra non-trainable weight, so the layer owns more than kernel and bias and changes on call."""

    KILLED_BY = ("build",)

    def build(self, input_shape):
        super().build(input_shape)
        self.calls = self.add_weight(name="calls", shape=(), initializer="zeros", dtype="int64", trainable=False)

    def call(self, inputs):
        self.calls.assign_add(1)  # the mistake: bookkeeping state inside a dense layer
        return super().call(inputs)


@register_serializable(package="mutants")
class UnknownDimensionSkipsBuild(MyDenseLayer):
    """Returns from build without error when the last dimension is unknown, leaving a layer with no weights."""

    KILLED_BY = ("build",)

    def build(self, input_shape):
        if tuple(input_shape)[-1] is None:
            return  # the mistake: "wait for a known shape" instead of raising ValueError
        super().build(input_shape)


@register_serializable(package="mutants")
class BuildNeverSetsBuilt(MyDenseLayer):
    """Creates the weights in build but never sets ``self.built``, so an explicit build() leaves the layer unbuilt."""

    KILLED_BY = ("build",)
    # Keras 3 wraps every build() and sets built itself; Keras 2 trusts the layer to do it.
    GENERATIONS = (2,)

    def build(self, input_shape):
        input_dim = tuple(input_shape)[-1]
        if input_dim is None:
            raise ValueError(f"{type(self).__name__} needs a known last input dimension; got {tuple(input_shape)}")
        _add_kernel_and_bias(self, (int(input_dim), self.units))
        self.input_spec = InputSpec(min_ndim=2, axes={-1: int(input_dim)})
        # the mistake: no `self.built = True` (or super().build(input_shape))


@register_serializable(package="mutants")
class WeightsCreatedInCall(MyDenseLayer):
    """Creates its weights in call on first use instead of in build, so build() alone creates nothing."""

    KILLED_BY = ("build",)
    # Keras 3 refuses new variables in call once the layer is built: the first call raises.
    GENERATIONS = (2,)

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.kernel = None
        self.bias = None

    def build(self, input_shape):
        pass  # the mistake: weights are made in call instead

    def call(self, inputs):
        if self.kernel is None:
            _add_kernel_and_bias(self, (int(inputs.shape[-1]), self.units))
        return super().call(inputs)


@register_serializable(package="mutants")
class WeightsRecreatedEveryCall(MyDenseLayer):
    """Calls build from call "to be safe", so every call creates fresh, re-initialised weights."""

    KILLED_BY = ("build",)
    # Keras 3 refuses new variables in call once the layer is built: the first call raises.
    GENERATIONS = (2,)

    def call(self, inputs):
        self.build(inputs.shape)  # the mistake: build is Keras's job, and only once
        return super().call(inputs)

