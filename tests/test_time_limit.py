"""The time limit per clause (``spec_tests/harness/reporter.py``, pytest-timeout): a layer that hangs in one case
fails the clauses that reach it, each named with the layer's call it hung in, and the run goes on to a verdict."""

from __future__ import annotations

import json

import pytest

from spec_tests.harness import reporter
from tests.support import MECHANICS, run_spec, tail
from tests.tiers import FULL

pytest_plugins = ["pytester"]


@FULL  # the build area against a layer that hangs, in a new process (about 30 s)
@MECHANICS
def test_a_layer_that_hangs_in_one_case_ends_in_a_verdict(tmp_path):
    """build() loops forever when units == 3: those clauses fail after the limit, every other clause runs."""
    report = tmp_path / "report.json"
    proc = run_spec("spec_tests.test_build", "--impl", "tests/hanging_layer.py:HangsOnThreeUnits",
                    "--clause-timeout", "2", "--spec-report", str(report), timeout=300)
    assert proc.returncode == 1, tail(proc.output)
    data = json.loads(report.read_text())
    assert data["verdict"] == "DOES NOT CONFORM", tail(proc.output)
    clauses = data["clauses"]
    collected = int(next(line for line in proc.stdout.splitlines() if line.startswith("collected ")).split()[1])
    assert len(clauses) == collected and all(clause["outcome"] for clause in clauses)  # every clause ran
    assert any(clause["outcome"] == "passed" for clause in clauses)  # the clauses that never build with 3 units
    timed_out = data["failed"] + data["advisories"]
    assert timed_out and all("did not finish in 2 s, in tests/hanging_layer.py:16 in build" in clause["message"]
                             for clause in timed_out), timed_out
    assert [cause["cause"] for cause in data["causes"]] == ["did_not_finish"]
    assert "--clause-timeout" in data["causes"][0]["fix"]
    assert f"FAILED {timed_out[0]['id']}" in proc.stdout  # pytest's own short summary names it too


def test_the_limit_comes_from_the_flag_the_environment_or_the_ini(pytester, monkeypatch):
    """--clause-timeout, else LAYER_SPEC_CLAUSE_TIMEOUT, else the ini key, else pytest-timeout's own, else 300 s."""
    config = pytester.parseconfig()
    monkeypatch.delenv("LAYER_SPEC_CLAUSE_TIMEOUT", raising=False)
    monkeypatch.delenv("PYTEST_TIMEOUT", raising=False)
    assert reporter.clause_timeout(config) == reporter.DEFAULT_CLAUSE_TIMEOUT == 300
    monkeypatch.setenv("LAYER_SPEC_CLAUSE_TIMEOUT", "7")
    assert reporter.clause_timeout(config) == 7
    assert reporter.clause_timeout(pytester.parseconfig(
                                                        "--clause-timeout", "0")) == 0
    monkeypatch.setenv("LAYER_SPEC_CLAUSE_TIMEOUT", "soon")
    with pytest.raises(pytest.UsageError, match="number of seconds"):
        reporter.clause_timeout(config)
    monkeypatch.delenv("LAYER_SPEC_CLAUSE_TIMEOUT")
    assert reporter.clause_timeout(pytester.parseconfig("--timeout", "9")) is None
