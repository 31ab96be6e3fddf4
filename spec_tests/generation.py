"""Every difference between Keras 3 and legacy Keras 2 that a clause needs, in one place.

Clauses never write ``if legacy:``. They ask this module for the generation's
Keras, its ``Dense``, and the few facts that differ between generations: how a
variable is named, whether ``units`` validation is strict, which errors bad
input raises. What differs between Keras 3's backends (TensorFlow, JAX, torch),
and how a model is exported or a loss-scaled step applied, is ``backend.py``'s.
"""

from __future__ import annotations

import importlib
import os
import re

import tensorflow as tf

from spec_tests import environment
from spec_tests.devices import request_host_devices

request_host_devices()  # before Keras (and so JAX) starts: two host devices for the distribution clauses

#: The variable TensorFlow reads, at its first import, to choose legacy Keras 2 (the tf-keras package).
LEGACY_ENV = environment.LEGACY_KERAS


def legacy_requested(environ=os.environ) -> bool:
    """Whether ``environ`` asks for legacy Keras 2, as TensorFlow reads it (``1``, ``true`` or ``yes``)."""
    return environ.get(LEGACY_ENV, "").strip().lower() in ("1", "true", "yes")


LEGACY = legacy_requested()

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


def save_global_state():
    """A snapshot of the process-wide state a clause changes: Keras's global state (layer-name counters, dtype
    policy, seed generator; Keras 2: its name counters and policy), and Python's, numpy's and TensorFlow's
    random generators. :func:`restore_global_state` puts it back, so that the spec, run inside someone else's
    process (the in-process API, a project's own tests), leaves it as it found it."""
    import random

    import numpy as np
    from tensorflow.python.eager import context

    tf_context = context.context()
    if LEGACY:
        from tf_keras.src import backend as legacy_backend

        keras_state = (dict(legacy_backend.get_default_graph_uid_map()), set(legacy_backend.OBSERVED_NAMES),
                       keras.mixed_precision.global_policy())
    else:
        from keras.src.backend.common import global_state

        tracker = vars(global_state.GLOBAL_STATE_TRACKER)
        keras_state = {key: (dict(value) if isinstance(value, dict) else value) for key, value in tracker.items()}
    return keras_state, random.getstate(), np.random.get_state(), getattr(tf_context, "_seed", None)


def restore_global_state(saved) -> None:
    """Put back what :func:`save_global_state` saw."""
    import collections
    import random

    import numpy as np
    from tensorflow.python.eager import context

    keras_state, python_random, numpy_random, tf_seed = saved
    if LEGACY:
        from tf_keras.src import backend as legacy_backend

        uids, observed, policy = keras_state
        current = legacy_backend.get_default_graph_uid_map()
        current.clear()
        current.update(uids)
        legacy_backend.OBSERVED_NAMES.clear()
        legacy_backend.OBSERVED_NAMES.update(observed)
        keras.mixed_precision.set_global_policy(policy)
    else:
        from keras.src.backend.common import global_state

        tracker = vars(global_state.GLOBAL_STATE_TRACKER)
        tracker.clear()
        for key, value in keras_state.items():
            tracker[key] = collections.defaultdict(int, value) if key == "object_name_uids" else value
    random.setstate(python_random)
    np.random.set_state(numpy_random)
    tf_context = context.context()
    if getattr(tf_context, "_seed", None) != tf_seed and hasattr(tf_context, "_set_global_seed"):
        if tf_seed is None:
            tf_context._seed, tf_context._rng = None, None  # TensorFlow's own "no global seed" state
        else:
            tf_context._set_global_seed(tf_seed)


def snake_case(class_name: str) -> str:
    """The automatic layer name Keras derives from a class name (``MyDenseLayer`` -> ``my_dense_layer``).

    Keras 2 prefixes the name of a private class with ``private`` (``_FusedDense`` -> ``private__fused_dense``:
    a name scope cannot start with ``_``); Keras 3 keeps ``__fused_dense`` (measured: Keras 3.15, tf-keras 2.21).
    """
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return "private" + name if LEGACY and name.startswith("_") else name


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


#: The backend this process runs, chosen as Keras chooses it (legacy Keras 2 always runs on TensorFlow), and its
#: version; ``backend.py`` holds what differs between backends.
BACKEND = "tensorflow" if LEGACY else keras.backend.backend()
BACKEND_VERSION = importlib.import_module(BACKEND).__version__


def describe() -> str:
    """The generation, its Keras and the backend it runs on: ``TensorFlow 2.21.0, keras 3.15.1 (Keras 3), backend jax 0.10.2``."""
    return f"TensorFlow {tf.__version__}, {KERAS_DISTRIBUTION} {KERAS_VERSION} (Keras {GENERATION}), backend " \
           f"{BACKEND} {BACKEND_VERSION}"


# --- bad input (robustness clauses) ---
#: Keras 3 resolves regularizer identifiers in the constructor (ValueError naming the identifier); Keras 2's
#: regularizers.get passes an unknown string through, and the layer fails only at build ("'str' object is not callable").
REGULARIZER_CHECKED_AT_CONSTRUCTION = not LEGACY
#: Keras 3 refuses a layer name containing "/" (ValueError); Keras 2 accepts it and keeps it.
NAME_MAY_CONTAIN_SLASH = LEGACY
#: What a bad base-layer argument raises (a nonsense dtype policy such as "float17", a name that is not a str,
#: a trainable that is not a bool, an unknown keyword): Keras 3 ValueError, Keras 2 TypeError; both name it.
BASE_ARGUMENT_ERROR = TypeError if LEGACY else ValueError
#: What a string tensor passed to call may raise: a layer's own dtype check (TypeError) or Keras 3's type
#: promotion in ops.matmul (ValueError); Keras 2's Dense casts it and TensorFlow raises UnimplementedError
#: ("Cast string to float is not supported"). Every one names the dtype "string".
NON_NUMERIC_INPUT_ERRORS = (TypeError, ValueError, tf.errors.UnimplementedError) if LEGACY else (TypeError, ValueError)
#: Keras 2's Layer.set_weights checks every shape before assigning any weight; Keras 3's checks and assigns weight
#: by weight, so a wrong bias shape raises after the kernel was already overwritten (measured on Keras 3.15.1).
SET_WEIGHTS_ATOMIC = LEGACY
