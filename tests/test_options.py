"""The declared contract (``spec_tests/harness/options.py``, ``--profile custom``): a layer is judged on the options
it offers and its own defaults, and not being a drop-in ``keras.layers.Dense`` is one cause under ``dense``."""

from __future__ import annotations

import json

import pytest

from spec_tests.generation import LEGACY, keras
from spec_tests.harness import options
from tests.support import REPO, run_spec
from tests.tiers import FULL

HE_DENSE = f"{REPO / 'tests/correct_layers/he_default.py'}:HeDense"
BROKEN = f"{REPO / 'tests/options_layers.py'}:BrokenSimpleDense"
keras3_only = pytest.mark.skipif(LEGACY, reason="the minimal layers are written in keras.ops (Keras 3)")


class _TakesTwo(keras.layers.Layer):
    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation = units, activation


class _TakesAllByHand(keras.layers.Layer):
    """Takes Dense's options through **kwargs, by hand: a signature tells nothing, a measurement does."""

    def __init__(self, units, **kwargs):
        self.taken = {name: kwargs.pop(name, None) for name in options.DENSE_OPTIONS if name != "activity_regularizer"}
        super().__init__(**kwargs)
        self.units = units


class _Declared(_TakesTwo):
    layer_spec_options = ("activation", "use_bias")


def test_offered_options_are_measured_not_read_from_the_signature():
    """A constructor that takes Dense's options by hand offers them all; one that forwards them to Layer does not."""
    assert options.offer(_TakesAllByHand).drop_in() == (True, [])
    assert options.offer(_TakesTwo).missing() == ["use_bias", "kernel_initializer", "bias_initializer",
                                                  "kernel_regularizer", "bias_regularizer", "kernel_constraint",
                                                  "bias_constraint"]
    assert options.offer(keras.layers.Dense).drop_in() == (True, [])


def test_declared_options_win_over_the_measurement():
    """``layer_spec_options`` (or --options) says what the layer offers, whatever it refuses."""
    offered = options.offer(_Declared)
    assert offered.source == "declared" and "use_bias" in offered.options and "kernel_initializer" not in offered.options


def test_a_default_other_than_dense_is_named_with_both_values():
    """The signature's default kernel initializer he_normal is named against Dense's glorot_uniform."""
    from tests.correct_layers.he_default import HeDense

    drop_in, reasons = options.offer(HeDense).drop_in()
    assert not drop_in and reasons == ["default kernel_initializer is 'he_normal'; Dense's is 'glorot_uniform'"]
    assert options.same_default("kernel_initializer", "glorot_uniform", keras.initializers.GlorotUniform())
    assert options.same_default("bias_initializer", None, "zeros")  # None: the layer's own choice, checked by values


def _two_profiles(tmp_path, spec, *args, env=None):
    report = tmp_path / "report.json"
    proc = run_spec(*args, f"--impl={spec}", f"--impl={spec}@custom", f"--spec-report={report}", env=env)
    dense, custom = json.loads(report.read_text())["implementations"]
    return proc, dense, custom


@FULL
def test_other_default_is_one_cause_under_dense_and_conforms_under_custom(tmp_path):
    """A Dense subclass defaulting to he_normal: one cause naming the default under dense; it conforms under custom."""
    proc, dense, custom = _two_profiles(tmp_path, HE_DENSE, "spec_tests/test_initializers.py",
                                        "spec_tests/test_tutorial.py")
    assert [cause["cause"] for cause in dense["causes"]] == ["default_differs_from_dense"], proc.output[-3000:]
    assert "he_normal" in dense["causes"][0]["example"]["message"]
    assert custom["conforms"] and custom["totals"]["failed"] == 0, proc.output[-3000:]
    assert "drop-in keras.layers.Dense: no: default kernel_initializer is 'he_normal'" in proc.output


@FULL
@keras3_only
def test_minimal_layer_mistakes_are_few_causes_in_both_profiles(tmp_path):
    """A minimal layer that skips its units check and drops masks: under custom at most 3 causes and 20 failed
    clauses; under dense at most 4 causes, one of them 'not a drop-in Dense'; at most 30 lines of output per failed
    clause (pytest's short traceback and the clause's notes: rule, hint, the layer's frames) and 400 more per profile."""
    # at a terminal (CI unset): under CI pytest repeats each message
    proc, dense, custom = _two_profiles(tmp_path, BROKEN, env={"CI": None})
    assert len(custom["causes"]) <= 3 and custom["totals"]["failed"] <= 20, custom["causes"]
    assert custom["not_offered"] > 0 and not custom["conforms"]
    assert len(dense["causes"]) <= 4 and "not_a_drop_in_dense" in [c["cause"] for c in dense["causes"]]
    failed = dense["totals"]["failed"] + custom["totals"]["failed"]
    assert proc.returncode == 1 and len(proc.stdout.splitlines()) <= 2 * 400 + 30 * failed, (
        len(proc.stdout.splitlines()), failed)
