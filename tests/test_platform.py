"""The platform probe and the attribution of failures to a platform defect (``spec_tests/platform_probe.py``,
``spec_tests/harness/attribution.py``).

The real defect (TensorFlow's oneDNN ``tf.einsum('...i,io->...o')`` in float16 on some CPUs) is on some machines
only, so the attribution is exercised with a simulated one (``LAYER_SPEC_SIMULATE_DEFECT=1`` and
``tests/platform_layers.py``), on every machine: a layer wrong only while oneDNN is on gets the ``platform`` outcome,
a layer wrong for its own reason stays ``DOES NOT CONFORM``, and ``--spec-strict`` counts the platform outcome.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from spec_tests import platform_probe
from spec_tests.generation import LEGACY
from spec_tests.harness import attribution, hints, render
from spec_tests.harness.records import CONFORMS, DOES_NOT_CONFORM, ClauseResult, RunResult
from spec_tests.platform_probe import KernelCheck, Probe
from tests.support import REPO, run_spec

SENSITIVE = f"{REPO / 'tests/platform_layers.py'}:OneDnnSensitiveDense"
OWN_BUG = f"{REPO / 'tests/platform_layers.py'}:Float16OffByHalfDense"
FLOAT16_CLAUSES = ("spec_tests/test_dtypes.py", "-k", "mixed_precision_outputs and mixed_float16")
SIMULATED = {"LAYER_SPEC_SIMULATE_DEFECT": "1", "TF_ENABLE_ONEDNN_OPTS": "1"}


def _probe(*defects: KernelCheck, reference=None) -> Probe:
    ok = KernelCheck("matmul", "float32", "eager", 1e-7, 1e-6, "float32")
    return Probe("tensorflow", "Test CPU", True, [ok, *defects], [], 0.1,
                 {"TF_ENABLE_ONEDNN_OPTS": "0"} if reference is None else reference)


FLOAT16_DEFECT = KernelCheck("einsum_ellipsis", "float16", "eager", 2.8, 0.03, "float16")


def _failed(clause_id: str, message: str = "SpecFailure: values: expected 1, seen 2", level: str = "MUST"):
    return ClauseResult(clause_id, "dtypes", "rule", outcome="failed", message=message, level=level)


# ---- the probe


def test_probe_finds_this_machines_float32_and_float64_matmul_right():
    """Every machine computes float32 and float64 matmul within rounding: the probe's bounds are not too tight."""
    probe = platform_probe.probe()
    assert not probe.error, probe.error
    right = {(c.kernel, c.dtype, c.mode) for c in probe.checks if c.ok}
    for dtype in ("float32", "float64"):
        assert ("matmul", dtype, "eager") in right, "\n".join(probe.table_lines())
    assert {c.dtype for c in probe.checks} == set(platform_probe.DTYPES)
    assert {c.kernel for c in probe.checks} == set(platform_probe.KERNELS)


def test_rounding_bound_separates_rounding_from_a_defect():
    """The bound admits float16 rounding of an 8-term dot product and rejects an error of a tenth of the result."""
    rng = np.random.default_rng(0)
    x, w = rng.uniform(-1, 1, (6, 8)), rng.uniform(-1, 1, (8, 3))
    exact = x.astype(np.float16).astype(np.float64) @ w.astype(np.float16).astype(np.float64)
    rounded = (x.astype(np.float16) @ w.astype(np.float16)).astype(np.float64)
    bound = platform_probe.rounding_bound("float16", 8, np.abs(x) @ np.abs(w))
    assert np.abs(rounded - exact).max() <= bound < 0.1 * np.abs(exact).max()


def test_header_names_each_defect_its_error_and_the_switch():
    """A defective kernel is named in the header with its measured error and the switch that fixes it."""
    lines = "\n".join(_probe(FLOAT16_DEFECT).header_lines())
    assert "einsum '...i,io->...o' float16 eager: max error 2.8" in lines
    assert "TF_ENABLE_ONEDNN_OPTS=0 fixes them" in lines
    assert "all right" in "\n".join(_probe().header_lines())


def test_limitation_is_a_result_dtype_other_than_the_operands():
    """A kernel that returns float32 for float64 operands (torch's matmul) is recorded as a limitation."""
    checks = [KernelCheck("matmul", "float64", "eager", 0.0, 1e-12, "float32")]
    (limitation,) = platform_probe._limitations(checks)
    assert limitation.what == "matmul (rank 2) of two float64 tensors returns float32"


# ---- which failures are rerun, and what becomes of them


def test_candidates_are_failed_must_clauses_naming_a_defective_dtype():
    """Only failed MUST clauses whose case or message names the defective dtype are rerun (not bfloat16 for float16)."""
    clauses = [_failed("spec_tests/test_dtypes.py::test_out[mixed_float16-via-dtype-arg]"),
               _failed("spec_tests/test_dtypes.py::test_out[mixed_bfloat16-via-dtype-arg]"),
               _failed("spec_tests/test_bias.py::test_bias[x]", "SpecFailure: float16 output: expected 1, seen 2"),
               _failed("spec_tests/test_bias.py::test_other[x]"),
               _failed("spec_tests/test_dtypes.py::test_should[float16]", level="SHOULD")]
    chosen = [c.id for c in attribution.candidates(clauses, _probe(FLOAT16_DEFECT))]
    assert chosen == [clauses[0].id, clauses[2].id]
    float32 = KernelCheck("matmul", "float32", "eager", 1.0, 1e-6, "float32")
    assert len(attribution.candidates(clauses, _probe(float32))) == 4


def test_nothing_is_rerun_without_a_reference_configuration():
    """A defect on a backend with no known reference configuration leaves failures as failures."""
    assert not _probe(FLOAT16_DEFECT, reference={}).can_attribute()
    assert not _probe().can_attribute()


def test_platform_outcome_does_not_decide_the_verdict_unless_strict():
    """A platform outcome leaves the verdict CONFORMS, with a note; --spec-strict makes it DOES NOT CONFORM."""
    clauses = [ClauseResult("spec_tests/test_bias.py::test_a", "bias", "r", outcome="passed"),
               ClauseResult("spec_tests/test_dtypes.py::test_b[mixed_float16]", "dtypes", "r", outcome="platform")]
    result = RunResult({"spec": "m:C", "class": "m.C", "file": "f"}, {"name": "dense", "contract": "c"},
                       {"runtime": "r", "python": "3", "pytest": "9", "layer_spec": "0"}, clauses=clauses,
                       probe=_probe(FLOAT16_DEFECT).as_dict())
    assert result.verdict()[0] == CONFORMS
    assert result.headline() == 'CONFORMS (1 clause fails on this machine because of a TensorFlow defect: see "platform")'
    assert "platform" in result.columns()
    result.strict = True
    assert result.verdict()[0] == DOES_NOT_CONFORM
    report = render.render_markdown(result.to_dict())
    assert "## Platform" in report and "WRONG: einsum_ellipsis float16 eager" in report


def test_float16_value_failure_gets_the_platform_hint_only_where_the_probe_found_a_defect(monkeypatch):
    """The hint table names the platform for a float16 value failure on a machine with a float16 defect, not elsewhere."""
    message = "float16 output against float64 numpy: expected 1.0 at index (0, 0), seen 2.0"
    monkeypatch.setattr(platform_probe, "probe", lambda: _probe(FLOAT16_DEFECT))
    assert hints.find_hint("SpecFailure", message).name == attribution.PLATFORM_PITFALL
    assert hints.find_hint("SpecFailure", message.replace("float16", "float32")) is None
    monkeypatch.setattr(platform_probe, "probe", lambda: _probe())
    assert hints.find_hint("SpecFailure", message) is None


# ---- end to end, with the simulated defect


@pytest.fixture(scope="module")
def simulated_run(tmp_path_factory):
    if LEGACY:
        pytest.skip("the simulated layers subclass the reference layer; one generation is enough for the mechanism")
    report = tmp_path_factory.mktemp("platform") / "report.json"
    proc = run_spec(*FLOAT16_CLAUSES, f"--impl={SENSITIVE}", f"--impl={OWN_BUG}", f"--spec-report={report}",
                    env=SIMULATED, timeout=600)
    return proc, json.loads(report.read_text())


def test_simulated_platform_defect_gets_the_platform_outcome(simulated_run):
    """A layer wrong in float16 only while oneDNN is on conforms, its float16 failures reported as 'platform'."""
    proc, data = simulated_run
    sensitive = data["implementations"][0]
    assert sensitive["conforms"], proc.output[-3000:]
    assert sensitive["totals"]["platform"] == 2 and sensitive["totals"]["failed"] == 0
    assert sensitive["verdict"].startswith("CONFORMS (2 clauses fail on this machine because of a TensorFlow defect")
    assert all("passes with TF_ENABLE_ONEDNN_OPTS=0" in c["platform"] for c in sensitive["platform"])
    assert "layer-spec platform [OneDnnSensitiveDense]" in proc.output


def test_own_float16_bug_is_still_rejected_with_the_reruns_evidence(simulated_run):
    """A layer wrong in float16 everywhere stays DOES NOT CONFORM: the rerun with oneDNN off fails too."""
    proc, data = simulated_run
    own = data["implementations"][1]
    assert not own["conforms"] and own["totals"]["failed"] == 2 and own["totals"]["platform"] == 0
    assert all("fails with TF_ENABLE_ONEDNN_OPTS=0 too" in c["platform"] for c in own["failed"])
    assert attribution.PLATFORM_PITFALL not in [cause["cause"] for cause in own["causes"]], own["causes"]
    assert proc.returncode == 1


@pytest.mark.full
def test_platform_outcome_alone_exits_zero_and_strict_counts_it(tmp_path):
    """Only platform outcomes: exit status 0 (pytest's own counts keep them as failed: they failed in this process,
    and its lastfailed cache and junitxml say so alike); --spec-strict: exit status 1."""
    if LEGACY:
        pytest.skip("the simulated layers subclass the reference layer; one generation is enough for the mechanism")
    lenient = run_spec(*FLOAT16_CLAUSES, f"--impl={SENSITIVE}", env=SIMULATED)
    assert lenient.returncode == 0, lenient.output[-3000:]
    assert "2 failed" in lenient.stdout.splitlines()[-1]
    assert "CONFORMS (2 clauses fail on this machine because of a TensorFlow defect" in lenient.output
    strict = run_spec(*FLOAT16_CLAUSES, f"--impl={SENSITIVE}", "--spec-strict", env=SIMULATED)
    assert strict.returncode == 1, strict.output[-3000:]
    assert "DOES NOT CONFORM (2 clauses fail on this machine because of a TensorFlow defect" in strict.output
