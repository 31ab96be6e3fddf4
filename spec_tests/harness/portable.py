"""Portable: which Keras backends a layer runs on, and the one message for a layer run where it cannot.

A layer class may say which backends it runs on with a class attribute,
``layer_spec_backends = ("tensorflow",)`` (the reference ``layers.MyDenseLayer``
does: it calls TensorFlow ops). Run on another backend, it is refused before
any clause runs, with one message and the fix, instead of a traceback per
clause. A class that says nothing is probed once on a backend other than
TensorFlow: it is refused when its call returns a ``tf.Tensor`` or fails in
TensorFlow's code or in a function of its own that names TensorFlow.
:func:`refusal` is what :mod:`~spec_tests.harness.selection` asks.
"""

from __future__ import annotations

import inspect
import traceback

import numpy as np
import tensorflow as tf

from spec_tests.backend import ALL_BACKENDS, BACKEND, compiled, has

#: The fix named whenever a layer's TensorFlow ops meet another backend.
TF_ONLY_FIX = "use keras.ops, or run with KERAS_BACKEND=tensorflow"
#: The attribute a layer class declares its backends with.
ATTRIBUTE = "layer_spec_backends"


def declared_backends(cls) -> tuple[str, ...]:
    """The backends a layer class says it runs on (``layer_spec_backends``); every backend when it says nothing."""
    declared = getattr(cls, ATTRIBUTE, None)
    if declared is None:
        return ALL_BACKENDS
    return (declared,) if isinstance(declared, str) else tuple(declared)


def refusal(cls) -> str | None:
    """Why ``cls`` cannot be checked on this backend, in one message with the fix, or None when it can.

    A class that declares ``layer_spec_backends`` without this backend is refused outright. Otherwise, on
    a backend other than TensorFlow, one instance is called once, eagerly and compiled, on a numpy input:
    it is refused when that returns a ``tf.Tensor``, or fails in TensorFlow's code or in a function (of the
    layer's, on the failing call's traceback) that names TensorFlow. Any other failure is left to the
    clauses, which explain it.
    """
    label = f"{cls.__module__}.{cls.__qualname__}"
    declared = declared_backends(cls)
    if BACKEND not in declared:
        return (f"{label} declares layer_spec_backends = {declared!r}, and this run's backend is {BACKEND}: "
                f"{TF_ONLY_FIX.replace('tensorflow', declared[0])}" if declared else f"{label} declares no backend")
    evidence = None if BACKEND == "tensorflow" else _tensorflow_evidence(cls)
    if evidence is None:
        return None
    return (f"{label} calls TensorFlow ops ({evidence}), so it cannot run on backend {BACKEND}: {TF_ONLY_FIX}. "
            f"A layer that is TensorFlow-only by design can say so with layer_spec_backends = ('tensorflow',)")


def _tensorflow_evidence(cls) -> str | None:
    x = np.zeros((2, 4), "float32")
    try:
        layer = cls(3)
    except Exception:  # noqa: BLE001 - a constructor problem is the construction clauses' to explain
        return None
    calls = [("eagerly", lambda: layer(x))]
    if has("compiled"):
        calls.append(("compiled", lambda: compiled(lambda a: layer(a))(x)))
    for how, run in calls:
        try:
            output = run()
        except Exception as exc:  # noqa: BLE001 - inspected below
            where = _tensorflow_in_traceback(exc)
            if where is None:
                return None  # failed for another reason: the clauses explain it
            return f"{where}; called {how} on {BACKEND} it raised {type(exc).__name__}: {_first_line(exc)}"
        if isinstance(output, tf.Tensor):
            return f"called {how} on {BACKEND} it returned a tf.Tensor"
    return None


def _first_line(exc) -> str:
    from spec_tests.harness.text import strip_ansi

    lines = [line.strip() for line in strip_ansi(str(exc)).splitlines() if line.strip()]
    return next((line for line in lines if not line.startswith("Exception encountered")), "")[:200]


#: Packages whose frames say nothing about the layer's own ops (the probe's own frames are spec_tests').
_LIBRARY_PACKAGES = ("keras", "tf_keras", "jax", "jaxlib", "torch", "numpy", "optree", "spec_tests")


def _tensorflow_in_traceback(exc) -> str | None:
    """Where an exception met TensorFlow: TensorFlow's own code, or a function of the layer that names ``tf``."""
    from spec_tests.harness.text import exception_chain

    for link in exception_chain(exc):
        if isinstance(link, tf.errors.OpError):
            return "TensorFlow raised it"
        for frame, _ in traceback.walk_tb(link.__traceback__):
            module = frame.f_globals.get("__name__", "")
            if module.split(".")[0] == "tensorflow":
                return "TensorFlow's code raised it"
            if module.split(".")[0] in _LIBRARY_PACKAGES:
                continue
            for name in sorted(_global_names(frame.f_code)):
                value = frame.f_globals.get(name)
                owner = value.__name__ if inspect.ismodule(value) else getattr(value, "__module__", "") or ""
                if owner.split(".")[0] == "tensorflow":
                    return f"{frame.f_code.co_qualname} uses {name} ({owner})"
    return None


def _global_names(code) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _global_names(const)
    return names


__all__ = ["ATTRIBUTE", "TF_ONLY_FIX", "declared_backends", "refusal"]
