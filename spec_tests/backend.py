"""Every difference between Keras 3's backends that a clause needs, in one place.

``generation.py`` holds the Keras 2 / Keras 3 differences; this module holds
the backend's: TensorFlow, JAX, PyTorch or NumPy, chosen as Keras chooses it
(``KERAS_BACKEND``, else ``~/.keras/keras.json``; legacy Keras 2 always runs on
TensorFlow). A clause states its rule once and asks this module for the
mechanism, never ``if backend == ...``:

* :func:`gradients` / :func:`value_and_gradients`: TensorFlow's ``GradientTape``;
  on JAX ``jax.value_and_grad`` over the function with the variables' values
  passed in (``keras.StatelessScope``, what ``layer.stateless_call`` does); on
  torch autograd. A gradient is None where the loss has no path to the value.
* :func:`compiled`: ``tf.function`` (``jit_compile=True`` for XLA), ``jax.jit``
  or ``torch.compile``.
* :func:`apply_gradients`, :func:`scale_loss`: an optimizer step, loss-scaled
  steps included (JAX needs ``stateless_apply`` for a ``LossScaleOptimizer``).
* :class:`DataParallel`: two replicas; ``MirroredStrategy`` over two logical CPUs,
  or ``keras.distribution.DataParallel`` over two JAX host devices.
* :func:`require`: a mechanism only some backends have (a TensorFlow checkpoint,
  a backing ``tf.Variable`` name) skips the clause elsewhere, with the reason.

Which backends a layer runs on (its ``layer_spec_backends``, or a probe for
TensorFlow ops) is the harness's question: ``spec_tests/harness/portable.py``.
"""

from __future__ import annotations

import itertools
import types

import numpy as np
import pytest
import tensorflow as tf

from spec_tests import devices
from spec_tests.generation import BACKEND, BACKEND_VERSION, LEGACY, keras

ALL_BACKENDS = ("tensorflow", "jax", "torch", "numpy")
#: Words an error about string data names it by: torch and numpy tensors hold no strings, and Keras there calls them
#: by numpy's names ("Invalid dtype: object" for a string tensor, "str32" for a numpy array of str).
STRING_DTYPE_WORDS = ("string", "str", "object") if BACKEND in ("torch", "numpy") else ("string",)
#: What a backend's ops raise on bad operands: TensorFlow's OpError, JAX's TypeError, torch's RuntimeError, ...
OP_ERRORS = (TypeError, ValueError, RuntimeError, tf.errors.OpError)

if BACKEND == "jax":
    import jax

    # float64 layers need 64-bit arrays, which JAX turns off by default (a float64 Dense would compute in float32).
    jax.config.update("jax_enable_x64", True)

#: Mechanism -> (backends that have it, why a clause that needs it is skipped elsewhere).
MECHANISMS = {
    "gradients": (("tensorflow", "jax", "torch"), "the {backend} backend has no automatic differentiation"),
    "compiled": (("tensorflow", "jax", "torch"), "the {backend} backend has no compiler"),
    "xla": (("tensorflow", "jax"), "the {backend} backend has no XLA compiler"),
    "float64_math": (("tensorflow", "jax"), "Keras on {backend} computes a float64 matmul in float32 "
                     "(keras.backend.result_type maps float64 to float32 off TensorFlow; JAX runs float64 because "
                     "the spec turns on jax_enable_x64), so keras.layers.Dense's float64 outputs carry float32 precision"),
    "trace_counting": (("tensorflow", "jax"), "torch.compile replays a compiled function's Python side effects on "
                       "every call, so Python cannot count its traces"),
    "float64_activations": (("tensorflow",), "Keras on {backend} computes an activation of a float64 tensor in "
                            "float32 (keras.backend.result_type maps float64 to float32 off TensorFlow, as JAX does "
                            "by default), so keras.layers.Dense does too"),
    "batch_polymorphic_trace": (("tensorflow",), "{backend} traces one program per input shape: it has no "
                                "tf.function(reduce_retracing=True) or input_signature with a None batch"),
    "distribution": (("tensorflow", "jax"), "data parallelism in one process is TensorFlow's MirroredStrategy or "
                     "JAX's keras.distribution.DataParallel; the {backend} backend has neither"),
    "backing_variable_names": (("tensorflow",), "only TensorFlow backs a Keras variable by a named tf.Variable "
                               "(<layer>/kernel:0); on {backend} the value is an unnamed array, and variable.path "
                               "carries the scoped name (the path clauses)"),
    "tf_checkpoint": (("tensorflow",), "tf.train.Checkpoint tracks TensorFlow objects, and a Keras model on "
                      "{backend} is not one (.keras and .weights.h5 files are checked on every backend)"),
    "saved_model_export": (("tensorflow", "jax"), "Keras exports a TensorFlow SavedModel from TensorFlow and JAX "
                           "(jax2tf) only, not from {backend}"),
}


def describe() -> str:
    """``backend jax 0.10.2``: the backend this process runs, and its version."""
    return f"backend {BACKEND} {BACKEND_VERSION}"


def has(mechanism: str) -> bool:
    return BACKEND in MECHANISMS[mechanism][0]


def require(mechanism: str) -> None:
    """Skip the running clause, with the reason, when this backend lacks ``mechanism``."""
    if not has(mechanism):
        pytest.skip(f"not on backend {BACKEND}: " + MECHANISMS[mechanism][1].format(backend=BACKEND))


# --- tensors: in, out, dtypes


if LEGACY:  # pragma: no cover - exercised by the legacy CI leg
    #: The few ``keras.ops`` the clauses use, for legacy Keras 2 (TensorFlow's own ops under the same names).
    ops = types.SimpleNamespace(sum=tf.reduce_sum, multiply=tf.multiply, cast=tf.cast, square=tf.square,
                                subtract=tf.subtract, clip=tf.clip_by_value, relu=tf.nn.relu,
                                convert_to_tensor=tf.convert_to_tensor)
else:
    ops = keras.ops


def tensor(array) -> object:
    """``array`` as a tensor of the running backend."""
    return ops.convert_to_tensor(array)


def to_numpy(value) -> np.ndarray:
    """A numpy copy of a tensor or variable of any backend (torch tensors that need a gradient included)."""
    if hasattr(value, "detach"):
        value = value.detach()
    if not LEGACY and not isinstance(value, np.ndarray):
        return np.asarray(keras.ops.convert_to_numpy(value))
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def dtype_name(dtype) -> str:
    """``tf.float32``, ``"float32"``, ``np.float32``, ``jnp.float32`` and ``torch.float32`` all become ``"float32"``."""
    if not LEGACY:
        return keras.backend.standardize_dtype(dtype)
    return tf.as_dtype(dtype).name


# --- gradients


def value_and_gradients(fn, inputs, variables):
    """``fn(x) -> (loss, aux)``: returns ``(loss, aux, dloss/dx, [dloss/dv for v in variables])``.

    A gradient is None where ``loss`` has no path to the value (unused, or used through a stop-gradient).
    ``variables`` are Keras variables (``layer.kernel``); ``fn`` may call layers and models freely.
    """
    require("gradients")
    return _GRADIENTS[BACKEND](fn, inputs, list(variables))


def gradients(layer, inputs, upstream, variables):
    """``(output, dL/dx, [dL/dv])`` for ``output = layer(inputs)`` and ``L = sum(output * upstream)``."""

    def loss(x):
        y = layer(x)
        return ops.sum(ops.multiply(y, ops.cast(upstream, dtype_name(y.dtype)))), y

    _, y, dx, grads = value_and_gradients(loss, inputs, variables)
    return y, dx, grads


def _tf_gradients(fn, inputs, variables):
    x = tf.convert_to_tensor(inputs)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss, aux = fn(x)
    grads = tape.gradient(loss, [x] + variables)
    return loss, aux, grads[0], grads[1:]


def _jax_gradients(fn, inputs, variables):
    x = jax.numpy.asarray(inputs)
    differentiable_x = jax.numpy.issubdtype(x.dtype, jax.numpy.floating)

    def pure(values, x):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn(x)

    values = [variable.value for variable in variables]
    argnums = (0, 1) if differentiable_x else (0,)
    (loss, aux), grads = jax.value_and_grad(pure, argnums=argnums, has_aux=True)(values, x)
    reached = _jax_reached(lambda v, x: pure(v, x)[0], values, x)
    grad_values = [g if seen else None for g, seen in zip(grads[0], reached[:-1])]
    dx = grads[1] if differentiable_x and reached[-1] else None
    return loss, aux, dx, grad_values


def _jax_reached(loss, values, x) -> list[bool]:
    """For each of ``values`` then ``x``: whether the loss depends on it other than through a stop_gradient."""
    jaxpr = jax.make_jaxpr(loss)(values, x).jaxpr

    def variables_of(atoms):
        return [atom for atom in atoms if type(atom).__name__ != "Literal"]

    needed = set(variables_of(jaxpr.outvars))
    for equation in reversed(jaxpr.eqns):
        if equation.primitive.name != "stop_gradient" and any(out in needed for out in equation.outvars):
            needed.update(variables_of(equation.invars))
    return [var in needed for var in jaxpr.invars]


def _torch_gradients(fn, inputs, variables):
    import torch

    x = inputs if isinstance(inputs, torch.Tensor) else torch.as_tensor(np.asarray(inputs))
    x = x.detach().clone().requires_grad_(x.is_floating_point())
    loss, aux = fn(x)
    values = [variable.value for variable in variables]
    wanted = [(i, value) for i, value in enumerate([x] + values) if getattr(value, "requires_grad", False)]
    found = torch.autograd.grad(loss, [value for _, value in wanted], allow_unused=True) if wanted else ()
    grads = [None] * (1 + len(values))
    for (i, _), grad in zip(wanted, found):
        grads[i] = grad
    return loss, aux, grads[0], grads[1:]


_GRADIENTS = {"tensorflow": _tf_gradients, "jax": _jax_gradients, "torch": _torch_gradients}


# --- compiled calls


def compiled(fn, xla: bool = False, batch_polymorphic: str | None = None, input_dim: int | None = None):
    """``fn`` compiled: ``tf.function`` (``jit_compile=True`` for ``xla``), ``jax.jit`` (always XLA) or ``torch.compile``.

    ``batch_polymorphic`` (TensorFlow only): ``"reduce_retracing"`` or ``"input_signature"`` (one
    ``(None, input_dim)`` float32 input), so that one trace serves every batch size.
    """
    require("xla" if xla else "compiled")
    if batch_polymorphic is not None:
        require("batch_polymorphic_trace")
    if BACKEND == "tensorflow":
        options = {"reduce_retracing": dict(reduce_retracing=True),
                   "input_signature": dict(input_signature=[tf.TensorSpec((None, input_dim), tf.float32)]),
                   None: {}}[batch_polymorphic]
        return tf.function(fn, jit_compile=xla, **options)
    if BACKEND == "jax":
        return jax.jit(fn)
    import torch

    return torch.compile(fn, dynamic=False)


# --- optimizer steps, loss scaling


def scale_loss(optimizer, loss):
    """``loss`` multiplied by a ``LossScaleOptimizer``'s current scale (Keras 2: ``get_scaled_loss``)."""
    return optimizer.get_scaled_loss(loss) if LEGACY else optimizer.scale_loss(loss)


def apply_gradients(optimizer, grads, variables) -> None:
    """One optimizer step: update ``variables`` by ``grads`` (a loss-scaled step unscales them, skips non-finite ones).

    Keras 2 wants the unscaling done first; JAX updates through ``stateless_apply``, since a
    ``LossScaleOptimizer``'s eager ``apply_gradients`` leaks tracers there.
    """
    variables = list(variables)
    grads = [tensor(g) if isinstance(g, np.ndarray) else g for g in grads]  # torch's optimizers take tensors only
    if LEGACY and hasattr(optimizer, "get_unscaled_gradients"):  # pragma: no cover - legacy CI leg
        grads = optimizer.get_unscaled_gradients(grads)
    if BACKEND != "jax":
        optimizer.apply_gradients(zip(grads, variables))
        return
    if not optimizer.built:
        optimizer.build(variables)
    new_values, new_state = optimizer.stateless_apply([v.value for v in optimizer.variables], list(grads),
                                                      [v.value for v in variables])
    for variable, value in zip(list(variables) + list(optimizer.variables), list(new_values) + list(new_state)):
        variable.assign(value)


def train_step(layer, optimizer, loss, x, y, variables) -> float:
    """One step on one device: ``loss(layer(x), y)``, its gradients w.r.t. ``variables``, the optimizer's update."""
    value, _, _, grads = value_and_gradients(lambda xb: (loss(layer(xb), y), None), x, variables)
    apply_gradients(optimizer, grads, variables)
    return float(to_numpy(value))


# --- two replicas


#: How many ``MirroredStrategy`` objects this process has made (:func:`_mirrored_strategy`).
_STRATEGIES = itertools.count(1)
#: Collective group keys each strategy may use: it takes one per set of devices, so one or two.
_KEYS_PER_STRATEGY = 1000


def _mirrored_strategy(devices_) -> tf.distribute.MirroredStrategy:
    """A ``MirroredStrategy`` over ``devices_`` whose collective ops share no key with another strategy's.

    Every ``MirroredStrategy`` numbers its collective groups and instances from the same start (the class's
    ``_collective_key_base``), and TensorFlow's runtime fixes an instance's dtype and shape at its first all-reduce
    for the life of the process. A second strategy whose all-reduces differ (a third variable, float64) then fails
    its steps ("Shape mismatch in the collective instance", ``CancelledError``): a false failure, within one
    layer's distribution area and between the layers of one process (several ``--impl``, the pool). Each strategy
    made here gets a base of its own, as TensorFlow's own multi-worker tests do; the class keeps its own value, so
    a strategy the caller makes (base 0) shares keys with none of these."""
    cls = tf.distribute.MirroredStrategy
    if not hasattr(cls, "_collective_key_base"):  # another TensorFlow: nothing to set apart
        return cls(devices_)
    before = cls._collective_key_base
    cls._collective_key_base = next(_STRATEGIES) * _KEYS_PER_STRATEGY
    try:
        return cls(devices_)  # the keys are taken here, from the base
    finally:
        cls._collective_key_base = before


class DataParallel:
    """Two replicas on this CPU: ``MirroredStrategy`` over two logical CPUs, or JAX's ``DataParallel`` over two host devices."""

    def __init__(self):
        require("distribution")
        self.replicas = devices.REPLICAS
        if BACKEND == "tensorflow":
            found = devices.logical_cpus()
            if len(found) < self.replicas:
                pytest.skip(f"needs {self.replicas} logical CPU devices, found {found}: TensorFlow started its runtime "
                            "before spec_tests/devices.py:split_cpu() could split the CPU (call it before any TF op)")
            self.strategy = _mirrored_strategy(found[: self.replicas])
        else:
            found = jax.devices("cpu")
            if len(found) < self.replicas:
                pytest.skip(f"needs {self.replicas} JAX CPU devices, found {len(found)}: set XLA_FLAGS="
                            f"{devices.HOST_DEVICES_FLAG}={self.replicas} before JAX starts")
            self.devices = found[: self.replicas]
            self.distribution = keras.distribution.DataParallel(devices=self.devices)
        self._steps = {}

    def scope(self):
        """Inside it, new variables are replicated over the replicas."""
        return self.strategy.scope() if BACKEND == "tensorflow" else self.distribution.scope()

    def copies(self, weight) -> list:
        """The per-replica copies of ``weight`` (one, for a variable that is not distributed)."""
        if BACKEND == "tensorflow":
            variable = _as_tf_variable(weight)
            if not isinstance(variable, tf.distribute.DistributedValues):
                return [variable]
            return list(self.strategy.experimental_local_results(variable))
        return [shard.data for shard in weight.value.addressable_shards]

    def is_distributed(self, weight) -> bool:
        """Whether ``weight`` is a variable of this distribution, with one full copy per replica."""
        if BACKEND == "tensorflow":
            variable = _as_tf_variable(weight)
            return (isinstance(variable, tf.distribute.DistributedValues)
                    and self.strategy.extended.variable_created_in_scope(variable))
        sharding = weight.value.sharding
        return sharding.is_fully_replicated and set(sharding.device_set) == set(self.devices)

    def train_step(self, layer, optimizer, loss, x, y, variables) -> float:
        """One step on the global batch ``x``, ``y`` split over the replicas; returns the summed loss.

        ``loss(output, target)`` must already be scaled by the global batch, so that the replicas' sum is the mean.
        """
        if BACKEND == "jax":
            batch = jax.sharding.NamedSharding(jax.sharding.Mesh(np.array(self.devices), ("batch",)),
                                               jax.sharding.PartitionSpec("batch"))
            with self.scope():
                return train_step(layer, optimizer, loss, jax.device_put(x, batch), jax.device_put(y, batch),
                                  variables)
        key = (id(layer), id(optimizer))
        if key not in self._steps:
            self._steps[key] = self._tf_step(layer, optimizer, loss, variables)
        per_replica = len(x) // self.replicas

        def shard(array):
            return self.strategy.experimental_distribute_values_from_function(
                lambda context: tf.constant(array[context.replica_id_in_sync_group * per_replica:][:per_replica]))

        return float(self._steps[key](shard(x), shard(y)))

    def _tf_step(self, layer, optimizer, loss, variables):
        def replica_step(xb, yb):
            value, _, _, grads = value_and_gradients(lambda x: (loss(layer(x), yb), None), xb, variables)
            optimizer.apply_gradients(zip(grads, variables))
            return value

        @tf.function
        def step(x_shards, y_shards):
            losses = self.strategy.run(replica_step, args=(x_shards, y_shards))
            return self.strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)

        return step


def _as_tf_variable(weight):
    return weight if LEGACY else weight.value


# --- what only TensorFlow has


def backing_name(variable) -> str:
    """The name of the ``tf.Variable`` behind a Keras weight, ``my_dense_layer_3/kernel:0`` (TensorFlow only)."""
    require("backing_variable_names")
    return _as_tf_variable(variable).name


def tf_checkpoint(model):
    """A ``tf.train.Checkpoint`` of ``model`` (TensorFlow only)."""
    require("tf_checkpoint")
    return tf.train.Checkpoint(model=model)


def export_saved_model(model, path) -> None:
    """Write ``model`` as a TensorFlow SavedModel at ``path``: Keras 3's ``model.export``, Keras 2's ``tf.saved_model.save``."""
    require("saved_model_export")
    if LEGACY:  # pragma: no cover - legacy CI leg
        tf.saved_model.save(model, str(path))
    else:
        model.export(str(path), format="tf_saved_model", verbose=False)


def run_exported(path, inputs):
    """Load the SavedModel at ``path`` with ``tf.saved_model.load`` and run it on ``inputs`` (Keras 3: its ``serve``)."""
    reloaded = tf.saved_model.load(str(path))
    inputs = tf.convert_to_tensor(inputs)
    return reloaded(inputs) if LEGACY else reloaded.serve(inputs)


__all__ = [
    "ALL_BACKENDS", "BACKEND", "BACKEND_VERSION", "DataParallel", "MECHANISMS", "OP_ERRORS", "STRING_DTYPE_WORDS", "apply_gradients",
    "backing_name", "run_exported", "compiled", "describe", "dtype_name", "export_saved_model",
    "gradients", "has", "ops", "require", "scale_loss", "tensor", "tf_checkpoint", "to_numpy",
    "train_step", "value_and_gradients",
]
