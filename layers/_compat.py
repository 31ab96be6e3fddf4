"""The only place where the reference layers look at which Keras generation runs.

Keras 3 is the default. Legacy Keras 2 (the ``tf-keras`` package) is chosen the
way TensorFlow chooses it: ``TF_USE_LEGACY_KERAS`` set to ``1``/``true`` before
TensorFlow is first imported. Which one runs is decided once, by the spec's
:mod:`spec_tests.generation`, which ships in the same package; this module adds
what layers need to be written once for both generations.
"""

from __future__ import annotations

import tensorflow as tf

from spec_tests.generation import GENERATION, LEGACY, keras

if LEGACY:  # pragma: no cover - exercised by the legacy CI leg
    register_serializable = keras.utils.register_keras_serializable
    InputSpec = keras.layers.InputSpec
else:
    register_serializable = keras.saving.register_keras_serializable
    InputSpec = keras.InputSpec


def validate_units(units):
    """Return ``units`` if it is a positive int; otherwise raise a ValueError naming it.

    Both generations get Keras 3's strict rule: Keras 2's ``int(units)`` cast
    silently turns ``2.5`` into ``2`` and ``"64"`` into ``64``.
    """
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise ValueError(
            "Received an invalid value for `units`, expected a positive integer. "
            f"Received: units={units!r}"
        )
    return units


def missing_names(module: str, reasons: dict):
    """A module ``__getattr__`` that explains names this generation lacks: ``{name: why}``."""

    def __getattr__(name):
        if name in reasons:
            raise AttributeError(reasons[name])
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


def compute_dtype(layer):
    """The dtype the layer computes in (``mixed_float16`` computes in float16)."""
    return tf.as_dtype(layer.compute_dtype)


__all__ = ["GENERATION", "InputSpec", "LEGACY", "keras", "missing_names", "register_serializable", "tf",
           "validate_units"]
