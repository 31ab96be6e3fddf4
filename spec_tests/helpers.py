"""Shared helpers for the clauses: assertions that explain themselves, data, weight access, closed forms.

Every assertion here fails with a message of the form
``<what>: expected <expected>, seen <seen>`` and, where a known pitfall fits,
a ``hint:`` line on how to fix it. Each sets ``__tracebackhide__``: pytest's
traceback shows the clause's line and the message, not the helper's frames.
"""

from __future__ import annotations

import numpy as np
import pytest

from spec_tests import backend, forward
from spec_tests.generation import keras, short_name
from spec_tests.harness.text import strip_ansi


# --- Failures that teach: every assertion says what was expected, what was seen, and how to fix it


class SpecFailure(AssertionError):
    """A clause's assertion: what was expected, what was seen, and how to fix it."""


def fail(what: str, expected, seen, hint: str | None = None):
    __tracebackhide__ = True  # pytest shows the clause's line and this message, not the helper
    message = f"{what}: expected {expected}, seen {seen}"
    if hint:
        message += f"\nhint: {hint}"
    raise SpecFailure(message)


def expect_that(condition: bool, what: str, expected, seen, hint: str | None = None) -> None:
    """Unless ``condition`` holds, the clause fails: ``<what>: expected <expected>, seen <seen>``."""
    __tracebackhide__ = True  # pytest shows the clause's line and this message, not the helper
    if not condition:
        fail(what, expected, seen, hint)


#: How a skipped clause says that it needs something the layer does not offer (the custom profile): the report
#: counts these apart, as "not offered", neither passed nor failed.
NOT_OFFERED = "not offered"


def each_configuration(declared_configurations: dict, attribute: str = "layer_spec_configurations"):
    """``(name, options)`` of every configuration the layer declares (the ``declared_configurations`` fixture, or
    another declaration named by ``attribute``); the running clause is skipped when it declares none."""
    if not declared_configurations:
        pytest.skip(f"no configurations declared ({attribute}: the layer's own options, docs/forward-contract.md)")
    return declared_configurations.items()


def require_effective_weights(what: str) -> None:
    """Skip the running clause unless the layer declares its effective weights: without them its own options have
    no reference to compare values with (a scale may change the outputs on purpose)."""
    if not forward.current().declared:
        pytest.skip(f"{what}: the layer declares no effective weights (layer_spec_effective_weights), so its own "
                    "options' values have no reference (docs/forward-contract.md)")


def skip_not_offered(what: str):
    """Skip the running clause: it needs ``what``, which the layer does not offer."""
    pytest.skip(f"{NOT_OFFERED}: {what}")


# --- Data: seeded inputs and conversions


def random_array(shape, seed: int = 0, dtype="float32", scale: float = 1.0) -> np.ndarray:
    """A seeded standard-normal numpy array (times ``scale``)."""
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def random_inputs(shape, seed: int = 0, dtype="float32"):
    """:func:`random_array` as a tensor of the running backend."""
    return backend.tensor(random_array(shape, seed, dtype))


to_numpy = backend.to_numpy
dtype_name = backend.dtype_name


# --- Comparisons


def assert_close(seen, expected, what: str, rtol: float = 1e-5, atol: float = 1e-6, hint: str | None = None):
    """Element-wise closeness with a message naming the worst element."""
    __tracebackhide__ = True  # pytest shows the clause's line and this message, not the helper
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
    __tracebackhide__ = True  # pytest shows the clause's line and this message, not the helper
    seen = tuple(tensor.shape)
    expect_that(seen == tuple(expected), what, tuple(expected), seen, hint)


def assert_bit_identical(seen, expected, what: str, hint: str | None = None) -> None:
    """``seen`` has the shape, dtype and exact bytes of ``expected`` (no tolerance)."""
    __tracebackhide__ = True  # pytest shows the clause's line and this message, not the helper
    seen_np, expected_np = to_numpy(seen), to_numpy(expected)
    if seen_np.shape != expected_np.shape or seen_np.dtype != expected_np.dtype:
        fail(what, f"shape {expected_np.shape} {expected_np.dtype}", f"shape {seen_np.shape} {seen_np.dtype}", hint)
    if seen_np.tobytes() != expected_np.tobytes():
        diff = np.abs(seen_np.astype(np.float64) - expected_np.astype(np.float64))
        fail(what, "bit-identical values",
             f"{int((seen_np != expected_np).sum())} of {seen_np.size} elements differ (max abs diff {np.nanmax(diff):.3g})",
             hint)


def assert_all_bit_identical(seen: list, expected: list, what: str, hint: str | None = None) -> None:
    """Two lists of arrays (e.g. ``get_weights()``) have the same length and bit-identical items."""
    __tracebackhide__ = True  # pytest shows the clause's line and this message, not the helper
    expect_that(len(seen) == len(expected), f"{what}: number of arrays", len(expected), len(seen), hint)
    for i, (s, e) in enumerate(zip(seen, expected)):
        assert_bit_identical(s, e, f"{what}: array {i}", hint)


# --- Weights, read and written through the public kernel/bias attributes


def weight_values(layer) -> list[np.ndarray]:
    """Copies of every weight's value, in ``layer.weights`` order."""
    return [np.array(to_numpy(w), copy=True) for w in layer.weights]


def weight_names(layer) -> list[str]:
    """The short names of the layer's weights, but the extra ones it declares (``spec_tests/forward.py``)."""
    return [short_name(w) for w in core(layer.weights)]


def core(variables) -> list:
    """``variables`` without the extra weights the layer declares (``layer_spec_extra_weights``)."""
    return forward.current().core(variables)


def with_extras(layer, arrays: list) -> list:
    """A ``set_weights`` list for ``layer`` made of ``arrays`` for its kernel and bias (in their order) and the
    current values of the extra weights it declares, in their places; ``arrays`` itself for a layer without."""
    kept, given, out = core(layer.weights), list(arrays), []
    for weight in layer.weights:
        if contains_variable(kept, weight):
            if given:
                out.append(given.pop(0))
        else:
            out.append(to_numpy(weight))
    return out + given


def assert_weights_unchanged(layer, before: list[np.ndarray], what: str = "weights after the failed call"):
    """Every weight is bit-identical to ``before``, and no weight appeared or vanished."""
    __tracebackhide__ = True  # pytest shows the clause's line and this message, not the helper
    after = weight_values(layer)
    expect_that(len(after) == len(before), f"{what}: number of weights", len(before), len(after))
    for i, (b, a) in enumerate(zip(before, after)):
        expect_that(
            b.shape == a.shape and b.dtype == a.dtype and b.tobytes() == a.tobytes(),
            f"{what}: weight {i} ({layer.weights[i].name})",
            "bit-identical values",
            "changed values",
            "validate the input before assigning to any variable",
        )


def set_dense_weights(layer, kernel, bias=None) -> None:
    """Assign ``kernel`` (and ``bias``) through the public ``kernel``/``bias`` attributes."""
    kernel_variable, bias_variable = forward.current().variables(layer)
    kernel_variable.assign(np.asarray(kernel, dtype=dtype_name(kernel_variable.dtype)))
    if bias is not None:
        bias_variable.assign(np.asarray(bias, dtype=dtype_name(bias_variable.dtype)))


def kernel_of(layer):
    """``layer.kernel`` (or where the layer declares its kernel is: ``layer_spec_weights``, a wrapper's)."""
    return forward.current().variables(layer)[0]


def layer_bias(layer):
    """``layer.bias`` (or the declared place), or None when the class has none (the seed profile's need none)."""
    try:
        return forward.current().variables(layer)[1]
    except AttributeError:  # a layer with no kernel yet (unbuilt) or none at all: no bias to speak of either
        return getattr(layer, "bias", None)


def kernel_and_bias(layer) -> list:
    """``[layer.kernel, layer.bias]``, or ``[layer.kernel]`` when the class has no bias (seed profile, use_bias=False)."""
    bias = layer_bias(layer)
    return [kernel_of(layer)] if bias is None else [kernel_of(layer), bias]


def contains_variable(variables, variable) -> bool:
    """Whether ``variable`` is one of ``variables`` (by identity, not by value)."""
    return any(v is variable for v in variables)


def variable_labels(variables) -> list[str]:
    return [f"{short_name(v)}{tuple(v.shape)}" for v in variables]


def variable_table(layer) -> list[tuple]:
    """``(name, dtype, shape, trainable)`` of every weight, sorted: what a quantized or LoRA-adapted layer holds."""
    return sorted((short_name(w), dtype_name(w.dtype), tuple(w.shape), bool(w.trainable)) for w in layer.weights)


def weight_named(layer, name: str, hint: str | None = None):
    """The layer's one weight with this short name (``kernel`` is the variable, whatever ``layer.kernel`` returns)."""
    __tracebackhide__ = True  # pytest shows the clause's line and this message, not the helper
    found = [w for w in layer.weights if short_name(w) == name]
    if len(found) != 1:
        fail(f"weights named {name!r}", "exactly one", [short_name(w) for w in layer.weights], hint)
    return found[0]


# --- Closed forms in float64 numpy: what a dense layer must compute


#: Activations by Keras identifier, as numpy closed forms: name -> (f(z), f'(z) given z).
NUMPY_ACTIVATIONS = {
    None: (lambda z: z, lambda z: np.ones_like(z)),
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(z.dtype)),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda z: np.exp(-z) / (1.0 + np.exp(-z)) ** 2),
}


def dense_closed_form(x, kernel, bias=None, activation=None) -> np.ndarray:
    """``activation(x @ kernel + bias)`` in float64 numpy, over the last axis of ``x`` (any rank >= 2)."""
    z = np.tensordot(np.asarray(x, np.float64), np.asarray(kernel, np.float64), axes=[[-1], [0]])
    if bias is not None:
        z = z + np.asarray(bias, np.float64)
    return NUMPY_ACTIVATIONS[activation][0](z)


def dense_closed_form_gradients(x, kernel, upstream, bias=None, activation=None) -> dict:
    """Closed-form gradients of ``L = sum(y * upstream)`` for ``y = activation(x @ W + b)``.

    With ``g = upstream * activation'(z)``: ``dL/dW = x^T g``, ``dL/db = sum g`` over every
    leading axis, ``dL/dx = g W^T``. Leading axes of a rank > 2 input are flattened into the batch.
    """
    x64 = np.asarray(x, np.float64)
    w64 = np.asarray(kernel, np.float64)
    z = np.tensordot(x64, w64, axes=[[-1], [0]])
    if bias is not None:
        z = z + np.asarray(bias, np.float64)
    g = np.asarray(upstream, np.float64) * NUMPY_ACTIVATIONS[activation][1](z)
    flat_x = x64.reshape(-1, w64.shape[0])
    flat_g = g.reshape(-1, w64.shape[1])
    return {"kernel": flat_x.T @ flat_g, "bias": flat_g.sum(axis=0), "inputs": g @ w64.T}


def expected_output(layer, x, activation=None, kernel=None, bias=None) -> np.ndarray:
    """:func:`dense_closed_form` with the weights the layer's forward pass uses: ``kernel``/``bias`` as given (or
    the layer's own), unless the layer declares effective weights (``spec_tests/forward.py``), read from it now."""
    return dense_closed_form(x, *forward.effective_weights(layer, kernel, bias), activation)


def expected_gradients(layer, x, upstream, activation=None, kernel=None, bias=None) -> dict:
    """:func:`dense_closed_form_gradients` with the weights the forward pass uses, carried to the stored weights
    by the layer's declared gradient (``spec_tests/forward.py``); Dense's own closed form when it declares none."""
    kernel, bias = forward.effective_weights(layer, kernel, bias)
    return forward.current().chain(layer, dense_closed_form_gradients(x, kernel, upstream, bias, activation))


def activity_l2_penalty(outputs, l2: float) -> float:
    """What ``activity_regularizer=L2(l2)`` adds to the losses for one call: ``l2 * sum(y**2) / batch size``.

    Both generations divide an activity penalty by the batch size (measured: Keras 3.15, tf-keras 2.21).
    """
    y = np.asarray(to_numpy(outputs), np.float64)
    return float(l2 * np.sum(y**2) / y.shape[0])


# --- Gradients (computed by backend.gradients: a tape, jax.grad or autograd)


#: How to honour a dtype policy (the dtypes clauses, and the serialization clauses on the layer as first made).
COMPUTE_DTYPE_HINT = (
    "compute in self.compute_dtype: create weights with add_weight and no dtype (they take the policy's "
    "variable dtype), use them in call as Keras hands them (autocast to the compute dtype) or via "
    "keras.ops.cast(w, self.compute_dtype), and never cast the inputs to a hard-coded float32"
)


def gradient_hint(name: str) -> str:
    return (f"the gradient must see {name} used in call: use the variable itself (not a numpy copy, "
            f"a stop_gradient, or a value read in build), and keep it trainable")


# --- Refusals: errors that must name the problem


def error_text(exc: BaseException) -> str:
    """``str(exc)`` without the ANSI bold codes Keras 3 puts around its messages."""
    return strip_ansi(str(exc))


def _word_label(word) -> str:
    return " or ".join(repr(w) for w in word) if isinstance(word, tuple) else repr(word)


def succeed(action, what: str, expected: str, hint: str | None = None):
    """``action()``'s result; an exception becomes the clause's failure: ``<what>: expected <expected>, seen <error>``."""
    __tracebackhide__ = True  # pytest shows the clause's line and this message, not the helper
    try:
        return action()
    except Exception as exc:  # noqa: BLE001 - the failure is the finding
        fail(what, expected, f"{type(exc).__name__}: {error_text(exc).strip()[:300]}", hint)


def reload_model(model, path, layer_cls, what: str, hint: str | None = None):
    """``model`` saved to the ``.keras`` file ``path`` and loaded back (``layer_cls`` passed as a custom object)."""
    __tracebackhide__ = True  # pytest shows the clause's line and this message, not the helper

    def round_trip():
        model.save(str(path))
        return keras.saving.load_model(str(path), custom_objects={layer_cls.__name__: layer_cls})

    return succeed(round_trip, f"save and load_model of {what}", "the model back", hint)


def raised(action) -> Exception | None:
    """The exception ``action()`` raises, or None: for clauses that only ask whether something was refused."""
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - the caller judges it
        return exc
    return None


def expect_raises(action, what: str = "the call", hint: str | None = None) -> Exception:
    """Run ``action()``: it must raise, whatever the exception (a refusal: the MUST half); returns the exception.

    Which exception, and what its message names, is :func:`expect_raises_naming` (the SHOULD half).
    """
    __tracebackhide__ = True  # pytest shows the clause's line and this message, not the helper
    try:
        result = action()
    except Exception as exc:  # noqa: BLE001 - any exception is a refusal
        return exc
    fail(what, "a refusal (an exception)", f"no error (returned {type(result).__name__})", hint)


def expect_raises_naming(action, raises, names=(), what: str = "the call", hint: str | None = None) -> Exception:
    """Run ``action()``: it must raise ``raises`` (a type or a tuple of types) whose message names the problem.

    ``names`` lists words the message must contain (case-insensitive); a word given as a tuple is a set
    of alternatives, any one of which suffices. Returns the exception.
    """
    __tracebackhide__ = True  # pytest shows the clause's line and this message, not the helper
    types = raises if isinstance(raises, tuple) else (raises,)
    expected = " or ".join(t.__name__ for t in types)
    try:
        result = action()
    except Exception as exc:  # noqa: BLE001 - the type is checked below
        if not isinstance(exc, types):
            fail(what, f"{expected} naming {', '.join(_word_label(w) for w in names) or 'the problem'}",
                 f"{type(exc).__name__}: {error_text(exc)[:300]}", hint)
        text = error_text(exc).lower()
        missing = [w for w in names if not any(alt.lower() in text for alt in (w if isinstance(w, tuple) else (w,)))]
        if missing:
            fail(f"{what}: {type(exc).__name__} message", f"a message naming {', '.join(_word_label(w) for w in missing)}",
                 repr(error_text(exc)[:300]), hint)
        return exc
    fail(what, expected, f"no error (returned {type(result).__name__})", hint)


# --- Masks


def keras_mask(tensor):
    """The mask Keras carries with an eager or symbolic tensor, or None.

    Both generations keep it in ``tensor._keras_mask``, the attribute Keras's masking guide reads; neither has a
    public accessor. It is Keras's attribute, not the layer's.
    """
    return getattr(tensor, "_keras_mask", None)


__all__ = [
    "COMPUTE_DTYPE_HINT",
    "NUMPY_ACTIVATIONS",
    "SpecFailure",
    "activity_l2_penalty",
    "assert_all_bit_identical",
    "assert_bit_identical",
    "assert_close",
    "assert_shape",
    "assert_weights_unchanged",
    "contains_variable",
    "core",
    "dense_closed_form",
    "dense_closed_form_gradients",
    "dtype_name",
    "each_configuration",
    "require_effective_weights",
    "error_text",
    "expected_gradients",
    "expected_output",
    "expect_raises",
    "expect_raises_naming",
    "expect_that",
    "fail",
    "gradient_hint",
    "keras",
    "keras_mask",
    "kernel_and_bias",
    "kernel_of",
    "layer_bias",
    "random_array",
    "random_inputs",
    "raised",
    "reload_model",
    "set_dense_weights",
    "succeed",
    "to_numpy",
    "variable_labels",
    "variable_table",
    "weight_named",
    "weight_names",
    "weight_values",
    "with_extras",
]
