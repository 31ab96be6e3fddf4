"""The benchmark contenders under Keras 3's JAX backend (``KERAS_BACKEND=jax``): same roles, same checks.

``raw`` is ``jnp.matmul(x, kernel) + bias`` on jax arrays, under ``jax.jit``
(in eager mode op by op, as TensorFlow's raw ops run eagerly there). Keras layers
are compiled the way JAX code compiles a Keras layer: ``jax.jit`` of its
``stateless_call``. Every timed call waits for its result
(``block_until_ready``): JAX dispatches asynchronously, and an unwaited call
would time only the dispatch.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from spec_tests import generation
from spec_tests.harness.bench.cases import PEAK_N, Shape
from spec_tests.harness.bench.checks import LEARNING_RATE, check_peak

as_input = jnp.asarray


class RawJnp:
    """``x @ kernel + bias`` on two jax arrays: the floor any dense layer can reach under JAX."""

    def __init__(self, units_in: int, units_out: int, use_bias: bool):
        limit = np.sqrt(6.0 / (units_in + units_out))
        rng = np.random.default_rng(0)
        self.kernel = jnp.asarray(rng.uniform(-limit, limit, (units_in, units_out)).astype("float32"))
        self.bias = jnp.zeros((units_out,), "float32") if use_bias else None

    @property
    def params(self) -> list:
        return [self.kernel] + ([] if self.bias is None else [self.bias])

    @staticmethod
    def apply(params, x):
        y = jnp.matmul(x, params[0])
        return y + params[1] if len(params) > 1 else y

    def __call__(self, x):
        return self.apply(self.params, x)


def make_contender(contender: str, layer_cls, profile: str, shape: Shape, x):
    """A built contender: a :class:`RawJnp`, or a Keras layer built by a first call on ``x``."""
    use_bias = profile != "seed"
    if contender == "raw":
        return RawJnp(shape.units_in, shape.units_out, use_bias)
    layer = layer_cls(shape.units_out) if contender == "impl" else generation.Dense(shape.units_out, use_bias=use_bias)
    layer(x)
    return layer


def _stateless(model):
    """``(apply(params, x), params)``: the contender as a pure function of its trainable values, and those values."""
    if isinstance(model, RawJnp):
        return RawJnp.apply, model.params
    non_trainable = [v.value for v in model.non_trainable_variables]

    def apply(params, x):
        return model.stateless_call(params, non_trainable, x)[0]

    return apply, [v.value for v in model.trainable_variables]


def _train_step(model, x):
    apply, params = _stateless(model)

    def loss(params, x):
        return jnp.mean(jnp.square(apply(params, x)))

    @jax.jit
    def step(params, x):
        value, grads = jax.value_and_grad(loss)(params, x)
        return [p - LEARNING_RATE * g for p, g in zip(params, grads)], value

    state = {"params": params}

    def call():
        state["params"], value = step(state["params"], x)
        return value.block_until_ready()

    return call


def _predict(contender: str, model, shape: Shape, x):
    data = np.concatenate([np.asarray(x)] * shape.predict_batches)
    if contender == "raw":
        forward = jax.jit(RawJnp.apply)
        params = model.params
        batches = [jnp.asarray(data[i:i + shape.batch[0]]) for i in range(0, len(data), shape.batch[0])]
        return lambda: np.concatenate([np.asarray(forward(params, b)) for b in batches])
    inputs = generation.keras.Input(shape=shape.input_shape[1:])
    keras_model = generation.keras.Model(inputs, model(inputs))
    return lambda: keras_model.predict(data, batch_size=shape.batch[0], verbose=0)


def timed_fn(mode: str, contender: str, model, shape: Shape, x):
    if mode == "eager":
        return lambda: jax.block_until_ready(model(x))
    if mode == "xla":
        apply, params = _stateless(model)
        forward = jax.jit(apply)
        return lambda: forward(params, x).block_until_ready()
    if mode == "train_step":
        return _train_step(model, x)
    if mode == "predict":
        return _predict(contender, model, shape, x)
    raise AssertionError(f"mode {mode!r} is not timed under JAX")


def peak_call():
    """One ``PEAK_N``-square matmul under ``jax.jit``, ready to time, and its check."""
    a = jnp.full((PEAK_N, PEAK_N), 0.5, "float32")
    b = jnp.full((PEAK_N, PEAK_N), 0.25, "float32")
    matmul = jax.jit(jnp.matmul)
    return (lambda: matmul(a, b).block_until_ready()), check_peak


__all__ = ["RawJnp", "as_input", "make_contender", "peak_call", "timed_fn"]
