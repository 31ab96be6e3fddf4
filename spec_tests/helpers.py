"""Shared helpers for the clauses: assertions that explain themselves, weight access, data.

Every assertion here fails with a message of the form
``<what>: expected <expected>, seen <seen>`` and, where a known pitfall fits,
a ``hint:`` line on how to fix it.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from spec_tests.generation import keras


class SpecFailure(AssertionError):
    """A clause's assertion: what was expected, what was seen, and how to fix it."""


def fail(what: str, expected, seen, hint: str | None = None):
    message = f"{what}: expected {expected}, seen {seen}"
    if hint:
        message += f"\nhint: {hint}"
    raise SpecFailure(message)


def check(condition: bool, what: str, expected, seen, hint: str | None = None) -> None:
    if not condition:
        fail(what, expected, seen, hint)


def to_numpy(value) -> np.ndarray:
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


def assert_close(seen, expected, what: str, rtol: float = 1e-5, atol: float = 1e-6, hint: str | None = None):
    """Element-wise closeness with a message naming the worst element."""
    seen_np = to_numpy(seen).astype(np.float64)
    expected_np = np.asarray(to_numpy(expected), dtype=np.float64)
    if seen_np.shape != expected_np.shape:
        fail(f"{what} shape", expected_np.shape, seen_np.shape, hint)
    if seen_np.size == 0:
        return
    close = np.isclose(seen_np, expected_np, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        idx = np.unravel_index(np.argmin(close) if close.ndim else 0, close.shape) if close.ndim else ()
        bad = int((~close).sum())
        fail(
            what,
            f"{expected_np[idx]!r} at index {tuple(int(i) for i in idx)} (rtol={rtol}, atol={atol})",
            f"{seen_np[idx]!r} ({bad} of {close.size} elements differ; max abs diff "
            f"{np.nanmax(np.abs(seen_np - expected_np)):.3g})",
            hint,
        )


def assert_shape(tensor, expected: tuple, what: str = "output shape", hint: str | None = None):
    seen = tuple(tensor.shape)
    check(seen == tuple(expected), what, tuple(expected), seen, hint)


def weight_values(layer) -> list[np.ndarray]:
    """Copies of every weight's value, in ``layer.weights`` order."""
    return [np.array(to_numpy(w), copy=True) for w in layer.weights]


def assert_weights_unchanged(layer, before: list[np.ndarray], what: str = "weights after the failed call"):
    """Every weight is bit-identical to ``before``, and no weight appeared or vanished."""
    after = weight_values(layer)
    check(len(after) == len(before), f"{what}: number of weights", len(before), len(after))
    for i, (b, a) in enumerate(zip(before, after)):
        check(
            b.shape == a.shape and b.dtype == a.dtype and b.tobytes() == a.tobytes(),
            f"{what}: weight {i} ({layer.weights[i].name})",
            "bit-identical values",
            "changed values",
            "validate the input before assigning to any variable",
        )


def set_dense_weights(layer, kernel, bias=None) -> None:
    """Assign ``kernel`` (and ``bias``) through the public ``kernel``/``bias`` attributes."""
    layer.kernel.assign(np.asarray(kernel, dtype=dtype_name(layer.kernel.dtype)))
    if bias is not None:
        layer.bias.assign(np.asarray(bias, dtype=dtype_name(layer.bias.dtype)))


def random_inputs(shape, seed: int = 0, dtype="float32") -> tf.Tensor:
    rng = np.random.default_rng(seed)
    return tf.constant(rng.standard_normal(shape).astype(dtype))


def dtype_name(dtype) -> str:
    """``tf.float32``, ``"float32"`` and ``np.float32`` all become ``"float32"``."""
    return tf.as_dtype(dtype).name


def weight_names(layer) -> list[str]:
    from spec_tests.generation import short_name

    return [short_name(w) for w in layer.weights]


__all__ = [
    "SpecFailure",
    "assert_close",
    "assert_shape",
    "assert_weights_unchanged",
    "check",
    "dtype_name",
    "fail",
    "keras",
    "random_inputs",
    "set_dense_weights",
    "to_numpy",
    "weight_names",
    "weight_values",
]
