"""``layers/_compat.py`` for the scratch environments of ``tools/make_golden.py`` (copied there under that name).

The real ``layers/_compat.py`` asks the spec (``spec_tests.generation``) which Keras generation runs, and imports
TensorFlow. An older Keras 3 release on JAX has no TensorFlow, and the scratch environment has no spec, so this
stand-in gives ``layers/dense.py`` and ``layers/ops_dense.py`` (copied unchanged) the same names from the
installed Keras alone: legacy Keras 2 (tf_keras) when ``TF_USE_LEGACY_KERAS`` is set, else Keras 3, with
TensorFlow only where it is installed.
"""

import os

LEGACY = os.environ.get("TF_USE_LEGACY_KERAS", "").strip().lower() in ("1", "true", "yes")
try:
    import tensorflow as tf
except ImportError:  # Keras 3 on JAX: OpsDense needs no TensorFlow, MyDenseLayer's call is not used
    tf = None

if LEGACY:
    import tf_keras as keras

    register_serializable = keras.utils.register_keras_serializable
    InputSpec = keras.layers.InputSpec
else:
    import keras

    register_serializable = keras.saving.register_keras_serializable
    InputSpec = keras.InputSpec
GENERATION = 2 if LEGACY else 3


def validate_units(units):
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: units={units!r}")
    return units


def missing_names(module, reasons):
    def __getattr__(name):
        raise AttributeError(reasons.get(name, f"module {module!r} has no attribute {name!r}"))

    return __getattr__
