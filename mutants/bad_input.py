"""Mutants the bad-input table rejects: layers that accept what Dense refuses, or refuse or mangle what it accepts.

Each class is the reference ``MyDenseLayer`` with one realistic mistake; the first line of its docstring
names it.
"""

from __future__ import annotations

import numpy as np

from layers import MyDenseLayer
from layers._compat import InputSpec, keras, register_serializable, tf
from mutants._fake_quantized import ScaledBase
from mutants._ops import OpsBase, activate, affine


@register_serializable(package="mutants")
class AcceptsAnyRank(MyDenseLayer):
    """Declares no input_spec, so a rank-1 input to a layer without bias is silently contracted (with a bias, bias_add fails)."""

    KILLED_BY = ("bad_input",)

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.input_spec = None  # the mistake: "call checks shapes anyway"

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = None


@register_serializable(package="mutants")
class InputSpecFromBuildOnly(MyDenseLayer):
    """Declares its input_spec in build only, so the first call, which builds, takes a rank-1 input unchecked."""

    KILLED_BY = ("bad_input",)

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.input_spec = None  # the mistake: "build sets the spec, with the input dimension it learns there"


@register_serializable(package="mutants")
class KernelCastToInputDtype(MyDenseLayer):
    """Casts the kernel to the input's dtype instead of the input to the compute dtype, so int and float64 inputs leak through."""

    KILLED_BY = ("bad_input",)

    def call(self, inputs):
        inputs = tf.convert_to_tensor(inputs)
        # the mistake: the input decides the dtype (int inputs even truncate the kernel)
        outputs = tf.matmul(inputs, tf.cast(self.kernel, inputs.dtype))
        if self.bias is not None:
            outputs = outputs + tf.cast(self.bias, inputs.dtype)
        return self.activation(outputs) if self.activation is not None else outputs


@register_serializable(package="mutants")
class NonFiniteInputsZeroed(MyDenseLayer):
    """Replaces NaN and Inf inputs by zero "for safety", so bad data is hidden instead of propagated."""

    KILLED_BY = ("bad_input",)

    def call(self, inputs):
        inputs = tf.cast(inputs, self.compute_dtype)
        inputs = tf.where(tf.math.is_finite(inputs), inputs, tf.zeros_like(inputs))  # the mistake
        return super().call(inputs)


@register_serializable(package="mutants")
class UnknownKwargsIgnored(MyDenseLayer):
    """Drops keyword arguments the base Layer does not know, so a typo such as ``kernel_size=3`` passes silently."""

    KILLED_BY = ("bad_input",)
    KNOWN = ("activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
             "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
             "name", "dtype", "trainable", "input_shape", "batch_input_shape", "input_dim")

    def __init__(self, units, **kwargs):
        known = {key: value for key, value in kwargs.items() if key in self.KNOWN}
        super().__init__(units, **known)  # the mistake: "forward compatible" configs hide typos


@register_serializable(package="mutants")
class BiasBuiltBeforeKernel(MyDenseLayer):
    """Creates the bias before the kernel, so a build that fails on an unknown last dimension leaves a stray bias behind."""

    KILLED_BY = ("bad_input",)

    def build(self, input_shape):
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        input_dim = tf.TensorShape(input_shape)[-1]  # the mistake: the shape is checked only by the kernel's add_weight
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: int(input_dim)})
        self.built = True


@register_serializable(package="mutants")
class SetWeightsAssignsAsItGoes(MyDenseLayer):
    """Overrides set_weights to check and assign one weight at a time, so a wrong bias shape fails after the kernel changed."""

    KILLED_BY = ("bad_input",)
    # Keras 3's own Layer.set_weights assigns weight by weight too, so the spec only demands atomicity on Keras 2.
    GENERATIONS = (2,)

    def set_weights(self, weights):
        if len(weights) != len(self.weights):
            raise ValueError(f"set_weights expected {len(self.weights)} weights, received {len(weights)}")
        for variable, value in zip(self.weights, weights):
            value = np.asarray(value)
            if tuple(variable.shape) != value.shape:
                raise ValueError(f"weight shape {tuple(variable.shape)} is not compatible with {value.shape}")
            variable.assign(value)  # the mistake: earlier weights are already overwritten when a later one fails




@register_serializable(package="mutants")
class SetWeightsReshapesToFit(MyDenseLayer):
    """Overrides set_weights to reshape each array that has the right size to its weight's shape, so a transposed kernel loads scrambled."""

    KILLED_BY = ("bad_input",)

    def set_weights(self, weights):
        fitted = []
        for variable, value in zip(self.weights, weights):
            value = np.asarray(value)
            if value.size == int(np.prod(variable.shape)):
                value = value.reshape(tuple(variable.shape))  # the mistake: "import PyTorch's (out, in) kernel as is"
            fitted.append(value)
        super().set_weights(fitted + list(weights[len(fitted):]))


#: The dtypes OpsDtypeWhitelist takes: the float, signed int and bool ones, as a hasty list would have it.
_TAKEN_DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "bool")


@register_serializable(package="mutants")
class OpsDtypeWhitelist(OpsBase):
    """keras.ops only: refuses every input dtype outside a list that forgets unsigned ints, so uint8 images fail."""

    KILLED_BY = ("bad_input",)
    GENERATIONS = (3,)  # keras.ops

    def call(self, inputs):
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        if dtype not in _TAKEN_DTYPES:  # the mistake: meant to refuse strings, refuses uint8 as well
            raise TypeError(f"{type(self).__name__} expects numeric inputs; received a tensor of dtype {dtype}.")
        return activate(self, affine(self, inputs))


@register_serializable(package="mutants")
class ScaleNeverValidated(ScaledBase):
    """Keeps any ``kernel_scale``, infinity included, so its outputs become inf or NaN."""

    KILLED_BY = ("bad_input",)

    def __init__(self, units, kernel_scale=1.0, **kwargs):
        super().__init__(units, **kwargs)
        self.kernel_scale = float(kernel_scale)  # the mistake: no check before storing it
