"""The spec states Keras's behaviour: the generation's own ``Dense`` must pass every dense-profile clause, SHOULD included.

That includes the clauses of every capability the catalogue says ``Dense`` has on this generation and backend:
``Dense`` claims them (``spec_tests.harness.selection.claimed_capabilities``), so they run and must pass.
"""

from __future__ import annotations

import json
import re

from spec_tests.harness import capabilities
from tests.support import DENSE_SPEC, run_spec, tail


def test_keras_dense_passes_every_dense_profile_clause(tmp_path):
    """``pytest --pyargs spec_tests --impl <generation's Dense> --spec-strict`` is green (no failure, no error, no
    advisory), and the clauses of every capability Dense has here ran and passed."""
    proc = run_spec("--impl", DENSE_SPEC, "-q", "--spec-strict", "--spec-report", "report.json", cwd=tmp_path)
    assert proc.returncode == 0, f"the spec rejects {DENSE_SPEC}: a clause states our implementation, not Keras\n" + tail(proc.output, 80)
    summary = proc.output.strip().splitlines()
    passed = [int(m.group(1)) for line in summary for m in [re.search(r"(\d+) passed", line)] if m]
    assert passed and passed[-1] > 0, tail(proc.output)
    assert not re.search(r"\b[1-9]\d* (failed|errors?)\b", proc.output), tail(proc.output)
    assert "DOES NOT CONFORM" not in proc.output and "CONFORMS" in proc.output, tail(proc.output)
    # --spec-strict already turns an advisory into a failure; the headline must not even mention one.
    assert "CONFORMS with" not in proc.output, (
        f"a SHOULD clause that {DENSE_SPEC} does not meet states our wish, not Keras's behaviour\n" + tail(proc.output))
    rows = {row["capability"]: row for row in json.loads((tmp_path / "report.json").read_text())["capabilities"]}
    has = capabilities.dense_capabilities(*capabilities.runtime())
    passing = {name for name, row in rows.items() if row["status"] == "passed" and row["passed"] and not row["failed"]}
    assert has and passing == set(has), f"capabilities Dense has here: {has}; whose clauses all ran and passed: {rows}"
