"""No false alarms: correct layers written in other styles conform, and advisories do not decide the verdict.

Each layer of ``tests/correct_layers/`` (keras.ops only, einsum, a Dense subclass, hand-written input checks,
flatten-matmul-reshape, Keras 2 style, and ten more) runs through the whole spec on the generations it is
written for, and under ``KERAS_BACKEND=jax`` when it declares jax in ``layer_spec_backends``, in the worker pool
the mutant zoo uses. It must have no failing MUST clause; its advisories (failed SHOULD
clauses: the form of its refusals) are printed (``pytest -rA`` or ``-s`` shows them).
"""

from __future__ import annotations

import re

import pytest

from layers._compat import GENERATION
from mutants import DEFAULT_BACKENDS
from spec_tests.backend import BACKEND
from spec_tests.harness.impls import load_impl
from spec_tests.harness.portable import ATTRIBUTE, declared_backends
from tests.correct_layers import CORRECT_LAYERS, PROFILES
from tests.pool_runs import pool_runs, register, whole_spec
from tests.support import REPO, run_spec, tail
from tests.tiers import CORRECT_SAMPLE, FULL, full_unless

CONFORMANCE_TEST = "test_correct_layer_conforms"
#: The layer the advisory mechanics are shown on: it refuses a wrong width with tf.debugging's
#: InvalidArgumentError, an advisory on both generations.
ADVISED = "tests.correct_layers.hand_checked:HandCheckedDense"
ADVISED_AREAS = ("spec_tests.test_build", "spec_tests.test_bad_input")


def _backends(spec: str) -> tuple[str, ...]:
    """The backends a correct layer declares (``layer_spec_backends``); undeclared: TensorFlow only, as for a mutant."""
    cls, _ = load_impl(spec)
    return declared_backends(cls) if hasattr(cls, ATTRIBUTE) else DEFAULT_BACKENDS


def _runs_here(spec: str) -> bool:
    return GENERATION in CORRECT_LAYERS[spec] and (BACKEND == "tensorflow" or BACKEND in _backends(spec))


register(CONFORMANCE_TEST, "spec", lambda spec: whole_spec(spec, PROFILES.get(spec, "dense")), _runs_here)


@pytest.fixture(scope="module")
def conformance_runs(request):
    """``run(spec) -> RunResult`` of the whole spec, answered by the session's worker processes."""
    with pool_runs(request, CONFORMANCE_TEST) as run:
        yield run


def test_correct_layers_cover_both_generations():
    """At least five correct layers run on each generation, and five on JAX, so each meets several styles."""
    for generation in (2, 3):
        count = sum(generation in generations for generations in CORRECT_LAYERS.values())
        assert count >= 5, f"correct layers for Keras {generation}: expected >= 5, seen {count}"
    if GENERATION == 3:  # the Keras 3 layers import only there
        on_jax = [spec for spec, gens in CORRECT_LAYERS.items() if 3 in gens and "jax" in _backends(spec)]
        assert len(on_jax) >= 5, f"correct layers declaring jax in layer_spec_backends: expected >= 5, seen {on_jax}"


@pytest.mark.parametrize("spec", [pytest.param(spec, marks=full_unless(spec in CORRECT_SAMPLE))
                                  for spec in sorted(CORRECT_LAYERS)])
def test_correct_layer_conforms(spec, conformance_runs):
    """A correct layer in another style has no failing MUST clause in any area; its advisories are only printed.

    The default tier runs the sample ``tests.tiers.CORRECT_SAMPLE``; ``--full`` every correct layer."""
    if GENERATION not in CORRECT_LAYERS[spec]:
        pytest.skip(f"{spec} is written for Keras {'/'.join(map(str, CORRECT_LAYERS[spec]))}; "
                    f"this run is Keras {GENERATION}")
    if not _runs_here(spec):
        pytest.skip(f"{spec} runs on {', '.join(_backends(spec))}; this run's backend is {BACKEND}")
    result = conformance_runs(spec)
    assert result.error is None, f"{spec}: the spec run itself failed: {result.error}"
    advisories = result.of("advisory")
    print(f"{spec}: {result.headline()} ({result.seconds:.1f} s)")
    for clause in advisories:
        print(f"  advisory {clause.id}: {clause.first_line}")
    failed = [f"{clause.id}: {clause.first_line}" for clause in result.of("failed")]
    assert not failed, f"{spec} is correct, so no MUST clause may fail; seen:\n" + "\n".join(failed)
    assert result.conforms and result.totals()["passed"] > 0, f"{spec}: {result.verdict()}"


@FULL  # two spec runs in new processes
def test_advisories_do_not_decide_the_verdict_unless_strict(tmp_path):
    """On a correct layer with advisories, a run ends ``CONFORMS with N advisories`` with exit status 0; ``--spec-strict`` makes it exit 1."""
    if BACKEND != "tensorflow":
        pytest.skip(f"{ADVISED} uses TensorFlow ops; this run's backend is {BACKEND}")
    importable = {"PYTHONPATH": str(REPO)}  # the layer lives in this checkout's tests package
    proc = run_spec("--impl", ADVISED, *ADVISED_AREAS, "-q", cwd=tmp_path, env=importable)
    assert proc.returncode == 0, f"exit status: expected 0 (advisories only), seen {proc.returncode}\n{tail(proc.output)}"
    found = re.search(r"CONFORMS with (\d+) advisor(?:y|ies)", proc.output)
    assert found and int(found.group(1)) >= 1, f"expected 'CONFORMS with N advisories'\n{tail(proc.output)}"
    assert "advisories are failed SHOULD clauses" in proc.output, tail(proc.output)  # the advisories' causes

    strict = run_spec("--impl", ADVISED, *ADVISED_AREAS, "-q", "--spec-strict", cwd=tmp_path, env=importable)
    assert strict.returncode == 1, f"exit status with --spec-strict: expected 1, seen {strict.returncode}\n{tail(strict.output)}"
    assert "DOES NOT CONFORM" in strict.output, tail(strict.output)
    failed = re.search(r"(\d+) failed", strict.output)
    assert failed and int(failed.group(1)) == int(found.group(1)), (
        f"--spec-strict: expected the {found.group(1)} advisories counted as failures\n{tail(strict.output)}")
