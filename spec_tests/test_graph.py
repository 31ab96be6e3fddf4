"""Graph and XLA: the layer computes in a traced graph what it computes eagerly, traces rarely, and compiles with XLA.

The compiled call is the backend's (``spec_tests/backend.py``): ``tf.function`` (XLA with
``jit_compile=True``), ``jax.jit`` (always XLA) or ``torch.compile``. Every clause builds the layer eagerly
first: a tf.function that creates variables on its first trace traces twice by design, and that is not the
layer's doing.
"""

from __future__ import annotations

import numpy as np
import pytest

from spec_tests import backend
from spec_tests.generation import keras
from spec_tests.helpers import (
    assert_close,
    expect_that,
    fail,
    random_array,
    random_inputs,
    to_numpy,
    weight_values,
)

INPUT_DIM = 4
UNITS = 3

GRAPH_HINT = (
    "call runs in a traced graph under tf.function, jax.jit, model.fit and XLA: use only keras.ops (or TensorFlow) "
    "operations on tensors (no .numpy(), no Python `if` on a tensor value: use keras.ops.cond or keras.ops.where), "
    "create variables only in build, and read dynamic sizes with keras.ops.shape(inputs), not inputs.shape"
)
XLA_HINT = GRAPH_HINT + "; XLA also refuses tf.py_function/tf.numpy_function"


def _built_layer(make_layer):
    layer = make_layer(UNITS)
    layer(random_inputs((2, INPUT_DIM)))
    return layer


def _run(fn, *args, what: str, hint: str = GRAPH_HINT):
    """``fn(*args)``, turning an exception into a clause failure that names where it happened."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - the failure is the finding
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        fail(what, "a result", f"{type(exc).__name__}: {first[:300]}", hint)


def _assert_same_results(seen, expected, what: str, rtol: float, atol: float, hint: str):
    """Output, input gradient and weight gradients of a traced run equal the eager ones."""
    (y_seen, dx_seen, dw_seen), (y_eager, dx_eager, dw_eager) = seen, expected
    assert_close(y_seen, y_eager, f"{what}: output", rtol=rtol, atol=atol, hint=hint)
    pairs = [("inputs", dx_seen, dx_eager)] + [(f"weight {i}", s, e) for i, (s, e) in enumerate(zip(dw_seen, dw_eager))]
    for name, s, e in pairs:
        if s is None or e is None:
            expect_that(s is None and e is None, f"{what}: gradient w.r.t. {name}", "None" if e is None else "a tensor",
                        "None" if s is None else "a tensor", hint)
            continue
        assert_close(s, e, f"{what}: gradient w.r.t. {name}", rtol=rtol, atol=atol, hint=hint)


def _eager_and_traced(make_layer, xla=False):
    layer = _built_layer(make_layer)
    x = random_inputs((5, INPUT_DIM), seed=1)
    upstream = random_inputs((5, UNITS), seed=2)
    variables = layer.trainable_variables
    eager = backend.gradients(layer, x, upstream, variables)
    traced = backend.compiled(lambda a, b: backend.gradients(layer, a, b, variables), xla=xla)
    return eager, traced, (x, upstream)


@pytest.mark.seed
def test_compiled_forward_and_backward_equal_eager(make_layer):
    """Compiled (``tf.function``, ``jax.jit``, ``torch.compile``) the output and the gradients (w.r.t. inputs and weights) equal the eager ones."""
    eager, traced, args = _eager_and_traced(make_layer)
    seen = _run(traced, *args, what=f"output and gradients compiled on {backend.BACKEND}")
    _assert_same_results(seen, eager, "compiled vs eager", rtol=1e-6, atol=1e-7, hint=GRAPH_HINT)


@pytest.mark.seed
def test_xla_forward_and_backward_equal_eager(make_layer):
    """Compiled with XLA (``tf.function(jit_compile=True)``, ``jax.jit``) the output and the gradients equal the eager ones within float32 rounding."""
    eager, traced, args = _eager_and_traced(make_layer, xla=True)
    seen = _run(traced, *args, what=f"output and gradients compiled with XLA on {backend.BACKEND}", hint=XLA_HINT)
    _assert_same_results(seen, eager, "XLA vs eager", rtol=1e-5, atol=1e-6, hint=XLA_HINT)


def _counting_function(layer, **options):
    """The layer's call compiled, and the list it appends to each time Python runs its body, i.e. on each trace."""
    backend.require("trace_counting")
    traces = []

    def forward(x):
        traces.append(tuple(x.shape))
        return layer(x)

    return backend.compiled(forward, **options), traces


@pytest.mark.seed
def test_repeated_calls_with_the_same_shape_trace_once(make_layer):
    """Calling the compiled layer again with new values of the same shape does not trace it again."""
    layer = _built_layer(make_layer)
    forward, traces = _counting_function(layer)
    for seed in range(3):
        x = random_inputs((5, INPUT_DIM), seed=seed)
        assert_close(_run(forward, x, what=f"compiled call {seed + 1}"), layer(x),
                     f"compiled call {seed + 1} vs eager", rtol=1e-6, atol=1e-7)
    expect_that(len(traces) == 1, "traces over 3 calls with shape (5, 4)", 1, f"{len(traces)}: {traces}",
                "keep Python state that changes between calls (counters, lists, new Python numbers) out of call; "
                "a compiled function retraces when it sees new Python values")


BATCH_SIZES = (1, 2, 3, 5, 8)
RETRACING_OPTIONS = {
    "reduce_retracing=True": dict(batch_polymorphic="reduce_retracing"),
    "input_signature=[TensorSpec((None, 4))]": dict(batch_polymorphic="input_signature", input_dim=INPUT_DIM),
}


@pytest.mark.seed
@pytest.mark.parametrize("options", sorted(RETRACING_OPTIONS))
def test_varying_batch_size_traces_at_most_twice(make_layer, options):
    """With ``reduce_retracing=True`` or an ``input_signature`` with a None batch, five batch sizes trace at most twice and give the eager outputs."""
    layer = _built_layer(make_layer)
    forward, traces = _counting_function(layer, **RETRACING_OPTIONS[options])
    for batch in BATCH_SIZES:
        x = random_inputs((batch, INPUT_DIM), seed=batch)
        assert_close(_run(forward, x, what=f"batch of {batch} under tf.function({options})"), layer(x),
                     f"batch of {batch} under tf.function({options}) vs eager", rtol=1e-6, atol=1e-7, hint=GRAPH_HINT)
    expect_that(len(traces) <= 2, f"traces over batch sizes {BATCH_SIZES}", "at most 2", f"{len(traces)}: {traces}",
                "read the batch size with tf.shape(inputs)[0], never inputs.shape[0], which is None in a generic trace")


@pytest.mark.seed
def test_model_compiled_with_jit_compile_trains(make_layer):
    """A model compiled with ``jit_compile=True`` trains: the loss falls at every one of four steps on one batch."""
    backend.require("gradients")  # fit needs them
    layer = make_layer(2)
    model = keras.Sequential([keras.Input((INPUT_DIM,)), layer])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse", jit_compile=True)
    expect_that(model.jit_compile is True, "model.jit_compile after compile(jit_compile=True)", True, model.jit_compile)
    x = random_array((16, INPUT_DIM), seed=3)
    y = x @ random_array((INPUT_DIM, 2), seed=4)
    before = weight_values(layer)
    losses = [
        float(to_numpy(_run(model.train_on_batch, x, y, what=f"train_on_batch step {step} with jit_compile=True",
                            hint=XLA_HINT)))
        for step in range(4)
    ]
    expect_that(all(b < a for a, b in zip(losses, losses[1:])), "losses of 4 XLA-compiled steps on one batch",
                "strictly decreasing", [round(v, 6) for v in losses],
                "the kernel must get a gradient: use the variable itself in call")
    expect_that(any(not np.array_equal(a, b) for a, b in zip(before, weight_values(layer))), "the layer's weights after 4 steps",
                "moved", "unchanged")
