"""Factories and the declared forward contract (docs/forward-contract.md, ``spec_tests/forward.py``).

In-process: a factory is loaded and named, its declarations win over its class's, a bad declaration is one
usage error, and the contract's arithmetic (effective weights, the declared gradient, extra weights). In new
processes (the full tier): ``EinsumDense`` through a factory, qkeras-v3's ``QDense`` with 4-bit quantizers and
larq's ``QuantDense`` (Keras 2) through their adapters in ``tests/adapters/``, declared and undeclared.
"""

from __future__ import annotations

import importlib
import json
import os

import numpy as np
import pytest

from spec_tests import forward
from spec_tests.generation import LEGACY, keras
from spec_tests.harness import options
from spec_tests.harness.catalogue import area_module
from spec_tests.harness.impls import SpecState, is_factory, load_impl, made_class
from tests.support import REPO, run_spec, tail
from tests.tiers import FULL

EINSUM = f"{REPO / 'tests' / 'adapters' / 'einsum_dense.py'}:einsum_dense"
QKERAS = REPO / "tests" / "adapters" / "qkeras_qdense.py"
LARQ = REPO / "tests" / "adapters" / "larq_quantdense.py"
#: Areas whose clauses compare outputs with the closed form (the forward contract's reach) and read no stored value
#: that a quantizing library may change on its own (qkeras clips initial biases; larq leaks its quantized scope).
VALUE_AREAS = {"shapes", "masking", "training"}


def _state(maker) -> SpecState:
    return SpecState(spec="test", cls=made_class(maker), profile="custom", source="",
                     factory=maker if is_factory(maker) else None)


def test_a_factory_is_loaded_and_names_the_class_it_returns():
    """``--impl file.py:function``: the function is a factory; the run names it and the class it returns."""
    maker, source = load_impl(EINSUM)
    assert is_factory(maker) and source.endswith("einsum_dense.py")
    state = _state(maker)
    assert state.cls is keras.layers.EinsumDense
    assert state.label.startswith("factory einsum_dense.einsum_dense returning ") and "EinsumDense" in state.label
    assert isinstance(state.make(3), keras.layers.EinsumDense)


def test_a_factory_offers_what_its_signature_and_class_take():
    """A factory's own parameters give their defaults; through ``**options`` its class's signature gives the rest."""
    maker, _ = load_impl(EINSUM)
    offered = options.offer(maker, cls=made_class(maker))
    assert offered.defaults["use_bias"] is True
    assert "kernel_initializer" in offered.options and "activation" in offered.options


def test_declarations_on_the_factory_win_over_the_class():
    """An adapter declares for a class it cannot edit: the factory's attribute is read first."""

    class Declared(keras.layers.Dense):
        layer_spec_weight_gradient = "straight_through"

    def factory(units, **kwargs):
        return Declared(units, **kwargs)

    factory.layer_spec_effective_weights = lambda layer: (np.ones((4, 3)), None)
    factory.layer_spec_weight_gradient = lambda layer: (np.full((4, 3), 2.0), None)
    contract = forward.of(_state(factory))
    assert contract.declared and callable(contract.gradient)
    assert forward.describe(contract).startswith("forward contract: declared")


@pytest.mark.parametrize("name, value, words", [
    ("layer_spec_effective_weights", 3, ["layer_spec_effective_weights", "callable"]),
    ("layer_spec_weight_gradient", "identity", ["layer_spec_weight_gradient", "straight_through"]),
    ("layer_spec_extra_weights", [1], ["layer_spec_extra_weights", "names"]),
])
def test_a_bad_declaration_is_refused_naming_it(name, value, words):
    """A declaration of the wrong kind is a ValueError naming the attribute and what it must be."""

    def factory(units, **kwargs):
        return keras.layers.Dense(units, **kwargs)

    setattr(factory, name, value)
    with pytest.raises(ValueError) as info:
        forward.of(_state(factory))
    for word in words:
        assert word in str(info.value), str(info.value)


def test_an_undeclared_contract_returns_what_it_was_given():
    """Without a declaration the clauses keep Dense's closed form: their own weights, Dense's gradient."""
    contract = forward.Forward()
    kernel, bias = np.arange(12.0).reshape(4, 3), np.arange(3.0)
    seen_kernel, seen_bias = contract.weights(None, kernel, bias)
    assert seen_kernel is not None and np.array_equal(seen_kernel, kernel) and np.array_equal(seen_bias, bias)
    gradients = {"kernel": np.ones((4, 3)), "bias": np.ones(3), "inputs": np.ones((2, 4))}
    assert contract.chain(None, gradients) is gradients
    assert contract.gradient_label == "Dense's"


def test_a_declared_gradient_carries_the_closed_form_to_the_stored_weights():
    """``layer_spec_weight_gradient(layer) -> (kernel_factor, bias_factor)`` multiplies the closed form element-wise;
    a factor None leaves that gradient as it is, and the input's gradient is never changed."""
    contract = forward.Forward(effective=lambda layer: (np.zeros((4, 3)), None),
                               gradient=lambda layer: (np.full((4, 3), 0.5), None))
    carried = contract.chain(None, {"kernel": np.ones((4, 3)), "bias": np.ones(3), "inputs": np.ones((2, 4))})
    assert np.array_equal(carried["kernel"], np.full((4, 3), 0.5))
    assert np.array_equal(carried["bias"], np.ones(3)) and np.array_equal(carried["inputs"], np.ones((2, 4)))


def test_declared_extra_weights_are_left_out_of_the_core_list():
    """``layer_spec_extra_weights``: the naming and count clauses see the other weights only."""
    class WithStep(keras.layers.Dense):
        def build(self, input_shape):
            super().build(input_shape)
            self.step = self.add_weight(name="step", shape=(), trainable=False)

    layer = WithStep(3)
    layer.build((None, 4))
    step = layer.step
    contract = forward.Forward(extra=("step",))
    assert [w is step for w in layer.weights].count(True) == 1
    assert all(w is not step for w in contract.core(layer.weights)) and len(contract.core(layer.weights)) == 2


def _require(package: str) -> None:
    """Skip where ``package`` is not installed, but under CI (``CI`` set), whose sessions install it
    (``noxfile.py``): a missing install there fails instead of hiding the test."""
    if os.environ.get("CI"):
        importlib.import_module(package)
    else:
        pytest.importorskip(package)


def _report(tmp_path, *args, env=None) -> dict:
    report = tmp_path / "report.json"
    proc = run_spec(*args, "--spec-report", str(report), env=env)
    assert report.exists(), tail(proc.output)
    data = json.loads(report.read_text())
    data["output"] = proc.output
    return data


def _areas(*areas: str) -> list[str]:
    """The spec modules of ``areas``, in a stable order: a declared layer's run needs only the areas its test reads."""
    return [area_module(area) for area in sorted(areas)]


def _failed_areas(data: dict) -> set:
    return {clause["area"] for clause in data["clauses"] if clause["outcome"] == "failed"}


@FULL
def test_einsum_dense_factory_conforms_under_the_seed_profile(tmp_path):
    """``EinsumDense("...i,io->...o")`` through a factory conforms to the tutorial's contract, named as a factory."""
    data = _report(tmp_path, "--impl", f"{EINSUM}@seed")
    assert data["totals"]["failed"] == 0 and data["totals"]["passed"] >= 50, tail(data["output"])
    assert "factory einsum_dense.einsum_dense returning" in data["output"], tail(data["output"])


@FULL
def test_declared_qkeras_qdense_fails_no_value_clause(tmp_path):
    """qkeras-v3 ``QDense`` with 4-bit quantizers, declared in its adapter: no output clause (differential included)
    fails, no cause is the undeclared-weights one (the run holds those areas; in the others what fails is qkeras's
    own choices, docs/forward-contract.md)."""
    if LEGACY:
        pytest.skip("qkeras-v3 is a Keras 3 package")
    _require("qkeras")
    data = _report(tmp_path, *_areas(*VALUE_AREAS, "differential"), "--impl", f"{QKERAS}:qdense_4bit", "--profile",
                   "custom")
    assert "forward contract: declared" in data["output"], tail(data["output"])
    assert data["totals"]["passed"] and not _failed_areas(data), (_failed_areas(data), tail(data["output"]))
    assert "computes_with_other_weights" not in [cause["cause"] for cause in data["causes"]], data["causes"]


@FULL
def test_undeclared_qkeras_qdense_gets_one_cause_naming_the_hook(tmp_path):
    """The same layer undeclared: its first cause, the most clauses, is that it computes with other weights, and
    its fix names ``layer_spec_effective_weights``."""
    if LEGACY:
        pytest.skip("qkeras-v3 is a Keras 3 package")
    _require("qkeras")
    data = _report(tmp_path, "--impl", f"{QKERAS}:qdense_4bit_undeclared", "--profile", "custom")
    first = data["causes"][0]
    assert first["cause"] == "computes_with_other_weights" and "layer_spec_effective_weights" in first["fix"], first
    assert first["count"] >= 50 and len(data["causes"]) <= 4, [(c["cause"], c["count"]) for c in data["causes"]]


@FULL
def test_declared_larq_quantdense_fails_no_value_clause(tmp_path):
    """larq ``QuantDense`` with ``ste_sign`` (Keras 2), declared with the clipped straight-through gradient: no output
    clause fails and no cause is the undeclared-weights one (the run holds those areas; its failures elsewhere are
    larq's: after a call that raises, larq.context.quantized_scope stays on for the process, so later clauses read a
    binarized kernel)."""
    if not LEGACY:
        pytest.skip("larq runs on legacy Keras 2 (tf.keras)")
    _require("larq")
    data = _report(tmp_path, *_areas(*VALUE_AREAS), "--impl", f"{LARQ}:quant_dense", "--profile", "custom")
    assert "forward contract: declared" in data["output"], tail(data["output"])
    assert data["totals"]["passed"] and not _failed_areas(data), (_failed_areas(data), tail(data["output"]))
    assert "computes_with_other_weights" not in [cause["cause"] for cause in data["causes"]], data["causes"]


def test_a_wrapper_says_where_its_kernel_and_bias_are():
    """``layer_spec_weights(layer) -> (kernel, bias)``: the clauses read and write a wrapper's weights where it keeps
    them (here an inner ``Dense``); without it they are ``layer.kernel`` and ``layer.bias``."""
    inner = keras.layers.Dense(3)
    inner.build((None, 4))

    class Wrapper:
        layer = inner

    contract = forward.Forward(where=lambda wrapper: (wrapper.layer.kernel, wrapper.layer.bias))
    kernel, bias = contract.variables(Wrapper())
    assert kernel is inner.kernel and bias is inner.bias
    assert forward.Forward().variables(inner)[0] is inner.kernel


@FULL
def test_declared_pruning_wrapper_is_judged_through_its_adapter(tmp_path):
    """tensorflow-model-optimization's ``prune_low_magnitude(Dense)`` (Keras 2), declared in its adapter (where its
    kernel and bias are, kernel * mask, its three weights): the bias, shape, variable and initializer clauses pass (the
    run holds those areas; what fails elsewhere is the wrapper's own behaviour, listed in docs/forward-contract.md)."""
    if not LEGACY:
        pytest.skip("prune_low_magnitude wraps tf_keras layers (legacy Keras 2)")
    _require("tensorflow_model_optimization")
    judged = ("bias", "shapes", "trainable_variables", "initializers")
    adapter = f"{REPO / 'tests' / 'adapters' / 'pruned_dense.py'}:pruned_dense"
    data = _report(tmp_path, *_areas(*judged), "--impl", adapter, "--profile", "custom")
    assert "factory pruned_dense.pruned_dense returning" in data["output"], tail(data["output"])
    assert data["totals"]["passed"] and not _failed_areas(data), (
        _failed_areas(data), tail(data["output"]))
