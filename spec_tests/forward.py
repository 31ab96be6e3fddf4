"""The forward contract: what a layer's outputs and gradients are compared with.

By default a dense layer computes ``activation(inputs @ kernel + bias)`` with its own ``kernel`` and ``bias``, and
its gradients are that formula's. A layer whose forward pass is ``Dense`` applied to *transformed* weights (a
quantizer, a scale, a pruning mask) declares how, with ``layer_spec_*`` attributes, on its class or,
for a layer that cannot be edited, on the factory or adapter that ``--impl`` names (which wins):

``layer_spec_effective_weights(layer) -> (kernel, bias)``
    the weights its forward pass computes with (``bias`` None when it has none), read from the layer's state as
    it is now. The value clauses then compare with ``activation(inputs @ effective_kernel + effective_bias)``.
``layer_spec_weight_gradient``
    how the gradient reaches the stored ``kernel`` and ``bias``: ``"straight_through"`` (the default: the
    straight-through estimator, ``dL/dW = dL/dW_effective``) or a callable ``(layer) -> (kernel_factor,
    bias_factor)``, the element-wise derivative of the effective weight with respect to the stored one (a clipped
    estimator: ``abs(kernel) <= 1``; a scale ``s``: ``s``; a factor None is 1). Finite differences across a
    quantization step mean nothing, so the finite-difference clause checks the input gradient only.
``layer_spec_weights(layer) -> (kernel, bias)``
    where a layer that does not keep them as ``layer.kernel`` and ``layer.bias`` keeps its kernel and bias
    variables (``bias`` None when it has none): a wrapper around ``Dense`` (``lambda w: (w.layer.kernel,
    w.layer.bias)``). Every clause reads and writes the weights through it.
``layer_spec_extra_weights``
    the short names of the weights it owns beside ``kernel`` and ``bias`` (quantizer state, scales, masks): the
    naming, ``trainable_variables`` and count clauses leave these out and still reject any other weight.

The run's header names the contract (:func:`describe`). The clauses read it through :func:`current`, which the
autouse fixture sets for every clause (:func:`use`). A layer that declares nothing gets exactly the old
comparisons: every function here returns what it was given.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

EFFECTIVE_WEIGHTS = "layer_spec_effective_weights"
WEIGHT_GRADIENT = "layer_spec_weight_gradient"
EXTRA_WEIGHTS = "layer_spec_extra_weights"
WEIGHTS = "layer_spec_weights"
STRAIGHT_THROUGH = "straight_through"


@dataclasses.dataclass(frozen=True)
class Forward:
    """One implementation's forward contract (:mod:`spec_tests.forward`); the default is ``Dense``'s formula."""

    effective: Callable | None = None
    gradient: Any = STRAIGHT_THROUGH
    extra: tuple = ()  # short names of the declared extra weights
    where: Callable | None = None  # layer_spec_weights: where the kernel and bias variables are

    @property
    def declared(self) -> bool:
        return self.effective is not None

    def weights(self, layer, kernel=None, bias=None):
        """``(kernel, bias)`` as numpy that the forward pass computes with. Declared: the hook's, read from the
        layer; else ``kernel``/``bias`` as given (a clause's own values), else read from the layer."""
        from spec_tests import backend  # imported late: the plugin reads this module before TensorFlow starts

        if not self.declared:
            if kernel is None:
                kernel, bias = (None if v is None else backend.to_numpy(v) for v in self.variables(layer))
            return np.asarray(kernel), None if bias is None else np.asarray(bias)
        found_kernel, found_bias = self.effective(layer)
        return (np.asarray(backend.to_numpy(found_kernel)),
                None if found_bias is None else np.asarray(backend.to_numpy(found_bias)))

    def chain(self, layer, gradients: dict) -> dict:
        """Closed-form gradients with respect to the *effective* weights turned into those with respect to the
        stored ``kernel``/``bias``, by the declared gradient (identity for the straight-through estimator)."""
        if not self.declared or not callable(self.gradient):
            return gradients
        from spec_tests import backend

        factors = dict(zip(("kernel", "bias"), self.gradient(layer)))
        return {role: value if factors.get(role) is None
                else np.asarray(value) * np.asarray(backend.to_numpy(factors[role]), np.float64)
                for role, value in gradients.items()}

    def variables(self, layer) -> tuple:
        """``(kernel, bias)``: the layer's kernel and bias variables (``bias`` None when it has none)."""
        if self.where is not None:
            return tuple(self.where(layer))
        return layer.kernel, getattr(layer, "bias", None)

    def core(self, variables) -> list:
        """``variables`` without the declared extra weights: the kernel and bias, and any undeclared weight."""
        from spec_tests.generation import short_name

        return [variable for variable in variables if short_name(variable) not in self.extra]

    @property
    def gradient_label(self) -> str:
        """Which gradient the gradient clauses check, for their messages."""
        if not self.declared:
            return "Dense's"
        name = self.gradient if isinstance(self.gradient, str) else getattr(self.gradient, "__name__", "declared")
        return f"the declared {name} gradient through the effective weights"


def of(state) -> Forward:
    """The contract ``state`` (a :class:`~spec_tests.harness.impls.SpecState`) declares; an invalid declaration
    is a ValueError naming it."""
    effective = state.declared(EFFECTIVE_WEIGHTS)
    gradient = state.declared(WEIGHT_GRADIENT, STRAIGHT_THROUGH)
    if effective is not None and not callable(effective):
        raise ValueError(f"{EFFECTIVE_WEIGHTS} must be a callable (layer) -> (kernel, bias), got {effective!r}")
    where = state.declared(WEIGHTS)
    if where is not None and not callable(where):
        raise ValueError(f"{WEIGHTS} must be a callable (layer) -> (kernel, bias), got {where!r}")
    extra = state.declared(EXTRA_WEIGHTS, ())
    extra = (extra,) if isinstance(extra, str) else tuple(extra)
    if not all(isinstance(name, str) and name for name in extra):
        raise ValueError(f"{EXTRA_WEIGHTS} must be weight names (strings), got {extra!r}")
    if not (gradient == STRAIGHT_THROUGH or callable(gradient)):
        raise ValueError(f"{WEIGHT_GRADIENT} must be {STRAIGHT_THROUGH!r} or a callable (layer) -> "
                         f"(kernel_factor, bias_factor), got {gradient!r}")
    return Forward(effective, gradient, extra, where)


def describe(contract: Forward) -> str:
    """One header line: the formula the value clauses use, and what was declared."""
    extra = f"; declared extra weights: {', '.join(contract.extra)}" if contract.extra else ""
    if not contract.declared:
        return f"forward contract: Dense's, activation(inputs @ kernel + bias){extra}"
    hook = getattr(contract.effective, "__qualname__", repr(contract.effective))
    return (f"forward contract: declared, activation(inputs @ effective kernel + effective bias) with {hook}; "
            f"gradient: {contract.gradient_label}{extra}")


_CURRENT: list = [Forward()]


def use(contract: Forward) -> None:
    """Make ``contract`` the one :func:`current` returns (the autouse fixture does, for every clause)."""
    _CURRENT[0] = contract


def current() -> Forward:
    """The forward contract of the implementation the running clause checks."""
    return _CURRENT[0]


_DIAGNOSES: dict = {}


def diagnosis(state) -> str | None:
    """Whether ``state``'s layer, declaring no contract, computes ``inputs @ K' + b'`` with weights other than its
    own: a sentence saying how (for the hint table), or None (it computes with its own weights, is not affine in
    its inputs, or could not be probed). Measured once per implementation on a fresh ``4 -> 2`` layer with random
    weights: ``b' = layer(0)``, ``K' = layer(I) - b'``, and the layer must reproduce ``x @ K' + b'`` on random ``x``."""
    if state is None or of(state).declared:
        return None
    if state.spec not in _DIAGNOSES:
        _DIAGNOSES[state.spec] = _probe(state)
    return _DIAGNOSES[state.spec]


def _probe(state) -> str | None:
    from spec_tests import backend, generation

    rng = np.random.default_rng(1)
    kernel, x = rng.standard_normal((4, 2)), rng.standard_normal((6, 4)).astype("float32")
    saved = generation.save_global_state()
    try:
        started = generation.fresh_session(0)
        try:
            layer = state.make(2)
            layer.build((None, 4))
            kernel_variable, bias_variable = of(state).variables(layer)
            kernel_variable.assign(kernel.astype(backend.dtype_name(kernel_variable.dtype)))
            bias = None if bias_variable is None else rng.standard_normal(2)
            if bias is not None:
                bias_variable.assign(bias.astype(backend.dtype_name(bias_variable.dtype)))
            offset = backend.to_numpy(layer(np.zeros((1, 4), "float32"))).astype(np.float64)[0]
            seen_kernel = backend.to_numpy(layer(np.eye(4, dtype="float32"))).astype(np.float64) - offset
            affine = np.allclose(backend.to_numpy(layer(x)), x @ seen_kernel + offset, rtol=1e-4, atol=1e-4)
        finally:
            generation.end_session(started, saved)
    except Exception:  # noqa: BLE001 - a layer the probe cannot drive: no diagnosis
        return None
    stored_bias = np.zeros(2) if bias is None else bias
    differ = [f"{name} in {int((~np.isclose(seen, mine, rtol=1e-4, atol=1e-4)).sum())} of {np.size(mine)} entries"
              for name, seen, mine in (("kernel", seen_kernel, kernel), ("bias", offset, stored_bias))
              if not np.allclose(seen, mine, rtol=1e-4, atol=1e-4)]
    if not affine or not differ:
        return None
    return f"its outputs are inputs @ K' + b' with K', b' other than its kernel and bias ({'; '.join(differ)})"


def effective_weights(layer, kernel=None, bias=None):
    """:meth:`Forward.weights` of the running clause's contract."""
    return current().weights(layer, kernel, bias)


__all__ = ["EFFECTIVE_WEIGHTS", "EXTRA_WEIGHTS", "WEIGHTS", "Forward", "STRAIGHT_THROUGH", "WEIGHT_GRADIENT",
           "current", "describe", "diagnosis", "effective_weights", "of", "use"]
