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


# --- A clean session per clause, and TensorFlow's eager kernel cache
#
# ``clear_session`` and ``tf.random.set_seed`` also empty TensorFlow's eager kernel cache, and making the kernels
# again was a third of a whole run (some 9 ms for each layer a clause builds and calls). A clause needs the cache
# empty only for TensorFlow's stateful random ops (``tf.random.uniform`` and kin, which Keras 2's initializers call):
# a cached kernel keeps its place in its random stream, so a clause that reused one an earlier clause made would
# draw other numbers than in a fresh process. Such a kernel takes its op seed from TensorFlow's op-seed generator,
# which each clause reseeds; so the cache is emptied when that generator moved: after a clause that drew from it or
# reseeded it, and at the start of a clause when it moved since the last clause ended (the first clause, a module
# fixture, the process around the spec). Not seen that way: an eager stateful random op given its own op seed
# (``tf.random.normal(shape, seed=1)``), whose stream goes on from one clause to the next.

#: TensorFlow's seed state when the last clause ended (nothing yet: the first clause empties the cache).
_seed_state_left: object = None


def _tf_seed_state():
    """TensorFlow's global seed and the state of its op-seed generator."""
    from tensorflow.python.eager import context

    tf_context = context.context()
    rng = getattr(tf_context, "_rng", None)
    return getattr(tf_context, "_seed", None), None if rng is None else rng.getstate()


def _clear_kernel_cache() -> None:
    from tensorflow.python.eager import context

    context.context().clear_kernel_cache()


def _keeping_kernel_cache(action) -> None:
    """``action()``, with TensorFlow's requests to empty its eager kernel cache ignored while it runs."""
    from tensorflow.python import pywrap_tfe

    clear = getattr(pywrap_tfe, "TFE_ContextClearCaches", None)
    if clear is None:  # a TensorFlow without it: let it clear
        action()
        return
    pywrap_tfe.TFE_ContextClearCaches = lambda handle: None
    try:
        action()
    finally:
        pywrap_tfe.TFE_ContextClearCaches = clear


def fresh_session(seed: int):
    """Start a clause: global dtype policy float32, Keras's session cleared (:func:`clear_session`: name counters,
    global state), every random generator seeded with ``seed`` (:func:`set_seed`). Returns what :func:`end_session`
    takes."""
    if _tf_seed_state() != _seed_state_left:
        _clear_kernel_cache()

    def reset():
        keras.mixed_precision.set_global_policy("float32")
        clear_session()
        set_seed(seed)

    _keeping_kernel_cache(reset)
    return _tf_seed_state()


def end_session(started, saved) -> None:
    """End a clause that :func:`fresh_session` started: empty the kernel cache if the clause moved TensorFlow's
    op-seed generator, then put back what :func:`save_global_state` saw."""
    global _seed_state_left
    if _tf_seed_state() != started:
        _clear_kernel_cache()
    restore_global_state(saved)
    _seed_state_left = _tf_seed_state()


def save_global_state():
    """A snapshot of the process-wide state a clause changes: Keras's global state (layer-name counters, dtype
    policy, seed generator; Keras 2: its name counters and policy), and Python's, numpy's and TensorFlow's
    random generators. :func:`restore_global_state` puts it back, so that the spec, run inside someone else's
    process (the in-process API, a project's own tests), leaves it as it found it."""
    import random

    import numpy as np

    if LEGACY:
        from tf_keras.src import backend as legacy_backend

        keras_state = (dict(legacy_backend.get_default_graph_uid_map()), set(legacy_backend.OBSERVED_NAMES),
                       keras.mixed_precision.global_policy())
    else:
        from keras.src.backend.common import global_state

        tracker = vars(global_state.GLOBAL_STATE_TRACKER)
        keras_state = {key: (dict(value) if isinstance(value, dict) else value) for key, value in tracker.items()}
    return keras_state, random.getstate(), np.random.get_state(), _tf_seed_state()


def restore_global_state(saved) -> None:
    """Put back what :func:`save_global_state` saw."""
    import collections
    import random

    import numpy as np
    from tensorflow.python.eager import context

    keras_state, python_random, numpy_random, (tf_seed, tf_rng_state) = saved
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
    if _tf_seed_state() != (tf_seed, tf_rng_state) and hasattr(tf_context, "_rng"):
        # TensorFlow's global seed and its op-seed generator where they were (tf.random.set_seed would start the
        # generator afresh, and empty the kernel cache: end_session does that when the clause needs it)
        tf_context._seed, tf_context._rng = tf_seed, None
        if tf_rng_state is not None:
            tf_context._rng = random.Random()
            tf_context._rng.setstate(tf_rng_state)


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
