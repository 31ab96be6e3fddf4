"""Calibration of the interleaved benchmarks on this (shared, noisy) machine: real timings, checked loosely.

* A/A: ``keras.layers.Dense`` timed as ``impl`` next to itself as ``keras_dense``
  must come out at ``impl/Dense = 1`` within :data:`AA_TOLERANCE`.
* A deliberately slow layer (``tests/slow_layers.py``: its matmul done twice) must be
  flagged by the ratio comparison against a run of ``Dense``, while another process
  keeps a core busy; and through pytest itself (``--benchmark-autosave``, then
  ``--benchmark-compare --bench-ratio-fail``), the way a team tracks its layer.

Tolerances come from measurements (docs/benchmarks.md, "Calibration"), with margin:
these tests must pass on a 2-core machine running other test suites.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from spec_tests import generation
from spec_tests.harness.bench.cases import SHAPES
from spec_tests.harness.bench.contenders import row_builder
from spec_tests.harness.bench.paired import measure_row
from spec_tests.harness.bench.table import build_table
from spec_tests.harness.bench.track import compare_tables, regressions
from tests.slow_layers import TwiceMatmulDense
from tests.support import DENSE_SPEC, REPO, run_spec, tail
from tests.tiers import FULL

pytestmark = FULL  # the full tier (tests/tiers.py): real timings on a loaded machine, and spec runs in new processes

#: A/A ``eager small`` (3 s cap) deviated from 1 by at most 0.024 in 14 measurements at load 8-10 with a busy
#: process on top (Keras 3 on TensorFlow and JAX, legacy Keras 2); 4x that, rounded up.
AA_TOLERANCE = 0.10
#: The slow layer's ratios were 1.85-2.5 (medium shape, every backend); a run of Dense wandered up to +-0.16
#: with a 4 s cap at load 10. A 10% threshold has room on both sides.
THRESHOLD = 0.10
SLOW_SPEC = "tests/slow_layers.py:TwiceMatmulDense"


def measure(layer_cls, mode: str, shape: str, cap: float):
    """One interleaved row of ``layer_cls``, in this process, capped at ``cap`` seconds."""
    row_shape = dataclasses.replace(SHAPES[shape], cap=cap)
    row = measure_row(row_builder(layer_cls, "dense", mode, row_shape), mode, row_shape)
    assert not row.errors, row.errors
    return row


def as_table(row, mode: str, shape: str):
    """The row as the table sees it (impl's record carries the paired ratios)."""
    records = []
    for contender, times in row.times.items():
        info = {"suite": "layer-spec", "mode": mode, "shape": shape, "contender": contender, **row.info(contender)}
        records.append({"extra_info": info, "stats": {"median": sorted(times)[len(times) // 2]}})
    return build_table(records)


@pytest.fixture
def busy_core():
    """Another process spinning on one core for the length of the test."""
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    yield process
    process.kill()
    process.wait()


def test_aa_ratio_is_one_within_tolerance():
    """Dense against itself: the paired impl/Dense of the most order-sensitive row (eager, small) is 1."""
    info = measure(generation.Dense, "eager", "small", cap=3.0).info("impl")
    deviation = info["ratio_to_keras_dense"] - 1
    assert abs(deviation) <= AA_TOLERANCE, (
        f"A/A impl/Dense: expected 1 +- {AA_TOLERANCE}, seen {info['ratio_to_keras_dense']:.3f} "
        f"over {info['paired_rounds']} rounds (spread {info['ratio_spread']['to_keras_dense']})")


def test_slow_variant_is_flagged_by_the_ratio_comparison_on_a_loaded_machine(busy_core):
    """The layer whose matmul runs twice is a ratio regression against Dense, with a core kept busy throughout."""
    saved = as_table(measure(generation.Dense, "xla", "medium", cap=4.0), "xla", "medium")
    slow = as_table(measure(TwiceMatmulDense, "xla", "medium", cap=4.0), "xla", "medium")
    assert busy_core.poll() is None, "the load process ran throughout"
    changes = compare_tables(saved, slow)
    (row,) = regressions(changes, THRESHOLD) or [[]]
    assert {c.baseline for c in row} == {"raw", "keras_dense"}, [c.describe() for c in changes]
    assert all(c.change > 0.3 for c in row), [c.describe() for c in row]


def test_pytest_run_fails_on_a_ratio_regression_against_a_saved_run(tmp_path):
    """``--benchmark-autosave``, then ``--benchmark-compare --bench-ratio-fail=10%`` with the slow layer: exit 1."""
    storage = f"--benchmark-storage=file://{tmp_path / 'storage'}"
    common = ("spec_tests/test_benchmarks.py", "--benchmark-only", "-k", "xla and medium", "--bench-scale=0.3", storage)
    saved = run_spec(*common, f"--impl={DENSE_SPEC}", "--benchmark-autosave", timeout=300)
    assert saved.returncode == 0, tail(saved.output)
    (path,) = (tmp_path / "storage").rglob("0001_*.json")
    records = json.loads(path.read_text())["benchmarks"]
    impl = next(r for r in records if r["extra_info"]["contender"] == "impl")
    assert {"ratio_to_raw", "ratio_to_keras_dense", "ratio_spread"} <= set(impl["extra_info"])
    assert impl["stats"]["rounds"] == impl["extra_info"]["paired_rounds"], "pytest-benchmark holds the paired rounds"
    slow = run_spec(*common, f"--impl={REPO / SLOW_SPEC}", "--benchmark-compare=0001", "--bench-ratio-fail=10%",
                    timeout=300)
    assert slow.returncode == 1, tail(slow.output)
    assert "RATIO REGRESSION xla medium: impl/raw" in slow.output, tail(slow.output)
