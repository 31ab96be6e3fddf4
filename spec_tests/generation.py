"""Every difference between Keras 3 and legacy Keras 2 that a clause needs, in one place.

Clauses never write ``if legacy:``. They ask this module for the generation's
Keras, its ``Dense``, and the few facts that differ between generations: how a
variable is named, whether ``units`` validation is strict, how a model is saved
and exported.
"""

from __future__ import annotations

import os
import re

import tensorflow as tf

LEGACY = os.environ.get("TF_USE_LEGACY_KERAS", "").strip().lower() in ("1", "true", "yes")

if LEGACY:  # pragma: no cover - exercised by the legacy CI leg
    import tf_keras as keras
else:
    import keras

GENERATION = 2 if LEGACY else 3
KERAS_VERSION = keras.__version__
KERAS_DISTRIBUTION = "tf-keras" if LEGACY else "keras"
Dense = keras.layers.Dense
Layer = keras.layers.Layer

#: Keras 3's Dense rejects every units value that is not a positive int;
#: Keras 2's casts with int() and rejects only negatives.
STRICT_UNITS = not LEGACY
#: Keras 3 variables have a ``path``; Keras 2 variables do not.
HAS_PATH = not LEGACY
#: File suffix for a whole saved model.
MODEL_SUFFIX = ".keras"


def clear_session() -> None:
    """Reset layer-name counters and global state, as Keras's own test case does."""
    if LEGACY:
        keras.backend.clear_session()
    else:
        keras.backend.clear_session(free_memory=False)


def set_seed(seed: int) -> None:
    keras.utils.set_random_seed(seed)


def snake_case(class_name: str) -> str:
    """The automatic layer name Keras derives from a class name (``MyDenseLayer`` -> ``my_dense_layer``)."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def short_name(variable) -> str:
    """The bare weight name: ``kernel``."""
    name = variable.name
    name = name.split("/")[-1]
    return name[:-2] if name.endswith(":0") else name


def scoped_name(variable) -> str:
    """The name with its layer prefix and no ``:0``: ``my_dense_layer_3/kernel``."""
    if HAS_PATH:
        return variable.path
    name = variable.name
    return name[:-2] if name.endswith(":0") else name


def backing_name(variable) -> str:
    """The name of the backing ``tf.Variable``: ``my_dense_layer_3/kernel:0``."""
    if LEGACY:
        return variable.name
    return variable.value.name


def as_tf_variable(variable):
    """The ``tf.Variable`` behind a Keras weight (Keras 3 wraps it; Keras 2 is one)."""
    return variable if LEGACY else variable.value


def describe() -> str:
    return f"TensorFlow {tf.__version__}, {KERAS_DISTRIBUTION} {KERAS_VERSION} (Keras {GENERATION})"
