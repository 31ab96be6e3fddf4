"""Mutants the construction clauses reject: mistakes made in ``__init__``.

Each class is the reference ``MyDenseLayer`` with one realistic mistake; the
first line of its docstring names it.
"""

from __future__ import annotations

from layers import MyDenseLayer
from layers._compat import LEGACY, keras, register_serializable
from mutants._minimal import MinimalDense


@register_serializable(package="mutants")
class WeightsCreatedInInit(MyDenseLayer):
    """Creates its weights in __init__ for a fixed input dimension, before any input is seen."""

    KILLED_BY = ("construction", "build")

    def __init__(self, units, input_dim=4, **kwargs):
        super().__init__(units, **kwargs)
        self.input_dim = input_dim
        # The mistake: the input size is guessed here instead of read from the input in build().
        self.kernel = self.add_weight(
            name="kernel", shape=(input_dim, self.units), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )
        self.bias = (
            self.add_weight(
                name="bias", shape=(self.units,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )
            if self.use_bias
            else None
        )

    def build(self, input_shape):
        self.built = True  # the weights already exist

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim}


@register_serializable(package="mutants")
class UnitsCastWithInt(MyDenseLayer):
    """Casts ``units`` with int() instead of validating it, so 0, -3, 2.5 and "64" are accepted."""

    KILLED_BY = ("construction",)
    # Keras 2's own Dense casts units with int() too, so there only the timing differs: -3 is refused at build.
    ADVISORY_ONLY = LEGACY

    def __init__(self, units, **kwargs):
        super().__init__(1, **kwargs)  # the reference's own check only ever sees a placeholder
        self.units = int(units)  # the mistake: a cast is not a check


@register_serializable(package="mutants")
class UnitsValidatedWithAssert(MyDenseLayer):
    """Validates ``units`` with assert, which raises AssertionError (and vanishes under python -O)."""

    KILLED_BY = ("construction",)
    # refused with AssertionError instead of ValueError; the python -O hazard cannot be seen in a normal run
    ADVISORY_ONLY = True

    def __init__(self, units, **kwargs):
        assert isinstance(units, int) and units > 0, "units must be a positive int"
        super().__init__(units, **kwargs)


@register_serializable(package="mutants")
class UnitsRefusedWithTypeError(MyDenseLayer):
    """Refuses a non-int ``units`` with TypeError where Keras 3 raises ValueError."""

    KILLED_BY = ("construction",)
    # refused, with another exception class: only the form is wrong
    ADVISORY_ONLY = True
    # Keras 2 only promises to refuse negative units (with ValueError), which this layer still does.
    GENERATIONS = (3,)

    def __init__(self, units, **kwargs):
        if not isinstance(units, int):
            raise TypeError(f"units must be an int, not {type(units).__name__}")
        super().__init__(units, **kwargs)


@register_serializable(package="mutants")
class ActivationResolvedInCall(MyDenseLayer):
    """Keeps the activation identifier and resolves it in call, so an unknown name only fails at the first call."""

    KILLED_BY = ("construction",)
    # an unknown name is still refused, at the first call instead of at construction
    ADVISORY_ONLY = True

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(units, **kwargs)
        self.activation_identifier = activation  # the mistake: not resolved with keras.activations.get here

    def call(self, inputs):
        self.activation = keras.activations.get(self.activation_identifier)
        return super().call(inputs)

    def get_config(self):
        config = super().get_config()
        config["activation"] = keras.activations.serialize(keras.activations.get(self.activation_identifier))
        return config


@register_serializable(package="mutants")
class InitializerResolvedInBuild(MyDenseLayer):
    """Keeps initializer identifiers as given and lets add_weight resolve them, so an unknown name fails only at build."""

    KILLED_BY = ("construction",)
    # an unknown name is still refused, at build instead of at construction
    ADVISORY_ONLY = True

    def __init__(self, units, kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(units, **kwargs)
        # The mistake: no keras.initializers.get(...) here; build() passes the raw identifiers on.
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer

    def get_config(self):
        config = super().get_config()
        for key in ("kernel_initializer", "bias_initializer"):
            config[key] = keras.initializers.serialize(keras.initializers.get(getattr(self, key)))
        return config


@register_serializable(package="mutants")
class BaseKwargsDropped(MyDenseLayer):
    """Accepts ``**kwargs`` but never passes them to the base Layer, so name, dtype and trainable are ignored."""

    KILLED_BY = ("construction",)

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
        super().__init__(  # the mistake: **kwargs is missing here
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )


@register_serializable(package="mutants")
class MinimalDenseUnitsUnchecked(MinimalDense):
    """A minimal custom layer that keeps any ``units`` (0, -1, 2.5) and builds a layer of that width."""

    KILLED_BY = ("construction",)
    PROFILE = "custom"
    GENERATIONS = (3,)

    @staticmethod
    def checked_units(units):
        return units
