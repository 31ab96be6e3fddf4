"""The launcher (``spec_tests/harness/launcher.py``): one rule for every child's import path, an unknown that is never
evidence, and a clause that crashes the process ending in a verdict.

The default tier checks each rule on children that do not import TensorFlow (fractions of a second); the full tier
runs the spec end to end: the simulated platform defect beside a user's ``platform.py`` and ``types.py``, a rerun
that cannot start, ``layer-spec check`` on a layer that aborts the process in one clause, and a pool worker that dies.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import types
from pathlib import Path

import pytest

from spec_tests import environment, platform_probe
from spec_tests.generation import LEGACY
from spec_tests.harness import attribution, launcher, parity, reporter, runs
from spec_tests.harness.bench import backends
from spec_tests.harness.impls import load_impl
from spec_tests.harness.records import ClauseResult, RunResult
from spec_tests.platform_probe import KernelCheck, Probe
from tests.support import REPO, run_spec
from tests.tiers import FULL

#: Modules named like the standard library's, as a user might leave them beside a layer or in the current folder:
#: importing any of them instead of the standard library's fails loudly.
SHADOWS = {f"{name}.py": f'raise ImportError("the user\'s {name}.py shadowed the standard library")\n'
           for name in ("platform", "types", "random", "inspect")}
STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
#: A layer that aborts the process in one clause only: construction::test_positive_int_units_accepted makes units=7.
ABORTING = """import os

from layers import MyDenseLayer


class AbortOnSeven(MyDenseLayer):
    def __init__(self, units, **kwargs):
        if units == 7:
            os.abort()
        super().__init__(units, **kwargs)
"""
CRASHED_CLAUSE = "spec_tests/test_construction.py::test_positive_int_units_accepted"


def _shadowed_folder(tmp_path: Path, name: str = "user", **files: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for file_name, text in {**SHADOWS, **files}.items():
        (folder / file_name).write_text(text)
    return folder


# ---- one import rule


def test_file_implementation_folder_is_appended_after_the_standard_library(tmp_path, monkeypatch):
    """A file implementation's folder goes at the end of sys.path: its neighbours import, its platform.py does not."""
    folder = _shadowed_folder(tmp_path, **{"neighbour.py": "UNITS = 3\n", "layer.py": (
        "from layers import MyDenseLayer\nfrom neighbour import UNITS\n\n\nclass Local(MyDenseLayer):\n    pass\n")})
    monkeypatch.setattr(sys, "path", list(sys.path))
    cls, source = load_impl(f"{folder / 'layer.py'}:Local")
    assert cls.__name__ == "Local" and source == str(folder / "layer.py")
    assert sys.path[-1] == str(folder)
    assert sys.path.index(str(folder)) > max(i for i, p in enumerate(sys.path) if Path(p or ".").resolve() == STDLIB)


def test_child_environment_hands_import_locations_over_to_append(tmp_path, monkeypatch):
    """PYTHONPATH holds at most the spec's own folder; the parent's locations and its cwd go to LAYER_SPEC_IMPORT_PATH."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv(environment.IMPL, "x.py:C")
    env = launcher.child_environment({"EXTRA": "1"}, paths=[REPO / "tests"])
    assert env.get("PYTHONPATH", str(launcher.PACKAGE_PARENT)) == str(launcher.PACKAGE_PARENT)
    handed = env[environment.IMPORT_PATH].split(os.pathsep)
    assert str(tmp_path) in handed and str(REPO / "tests") in handed
    assert environment.IMPL not in env and env["EXTRA"] == "1"
    command = launcher.python_command("pytest", "-q")
    assert command[1:3] == ["-P", "-c"] and command[4:] == ["pytest", "-p", "spec_tests.harness.launcher", "-q"]


def test_child_beside_shadowing_modules_imports_the_standard_library(tmp_path, monkeypatch):
    """A child started in a folder holding platform.py, types.py, random.py and inspect.py, with that folder among the
    parent's import locations, imports the standard library's, and still imports a module of that folder."""
    folder = _shadowed_folder(tmp_path, **{"probe_mod.py": (
        "import inspect, json, platform, random, types\n"
        "print(json.dumps([m.__file__ for m in (inspect, platform, random, types)]))\n")})
    monkeypatch.chdir(folder)
    child = launcher.run_child(launcher.python_command("module", "probe_mod"), launcher.child_environment(),
                               cwd=folder, timeout=120)
    assert child.returncode == 0 and not child.unknown, child.output
    files = json.loads(child.output.strip().splitlines()[-1])
    assert all(Path(f).resolve().parent == STDLIB for f in files), files


# ---- an unknown is never evidence


def test_child_that_cannot_start_dies_or_hangs_is_an_explicit_unknown(tmp_path, monkeypatch):
    """No exception and no exit status to misread: each way a child gives no answer is named."""
    monkeypatch.setenv(environment.CHILD_PYTHON, str(tmp_path / "no-such-python"))
    missing = launcher.run_child(launcher.python_command("module", "json.tool"), launcher.child_environment())
    assert missing.returncode is None and missing.unknown.startswith("could not start")
    monkeypatch.delenv(environment.CHILD_PYTHON)
    (tmp_path / "dies.py").write_text("import os\nos.abort()\n")
    (tmp_path / "hangs.py").write_text("import time\ntime.sleep(600)\n")
    monkeypatch.chdir(tmp_path)
    died = launcher.run_child(launcher.python_command("module", "dies"), launcher.child_environment(), timeout=120)
    assert died.unknown == "the process died: SIGABRT (signal 6)", died
    hung = launcher.run_child(launcher.python_command("module", "hangs"), launcher.child_environment(), timeout=1)
    assert hung.unknown.startswith("killed after 1 s"), hung


def _defect_probe() -> Probe:
    ok = KernelCheck("matmul", "float32", "eager", 1e-7, 1e-6, "float32")
    bad = KernelCheck("einsum_ellipsis", "float16", "eager", 2.8, 0.03, "float16")
    return Probe("tensorflow", "Test CPU", True, [ok, bad], [], 0.1, {"TF_ENABLE_ONEDNN_OPTS": "0"})


class _Terminal:
    def __init__(self):
        self.lines = []

    def write_sep(self, sep, title="", **_):
        self.lines.append(f"{sep * 3} {title}")

    def write_line(self, line, **_):
        self.lines.append(line)


def test_rerun_that_cannot_start_leaves_its_clauses_not_attributed(tmp_path, monkeypatch):
    """A rerun whose child cannot start: the clause stays failed, labelled "not attributed" with the reason, and the
    summary never calls it the layer's own failure."""
    probe = _defect_probe()
    monkeypatch.setattr(platform_probe, "probe", lambda: probe)
    monkeypatch.setenv(environment.CHILD_PYTHON, str(tmp_path / "no-such-python"))
    clause = ClauseResult("spec_tests/test_dtypes.py::test_out[mixed_float16]", "dtypes", "rule", outcome="failed",
                          message="SpecFailure: float16 output: expected 1, seen 2", level="MUST")
    state = types.SimpleNamespace(spec="layer.py:C", choice="layer.py:C", capabilities=frozenset())
    done = attribution.attribute([clause], state, probe, str(tmp_path))
    assert clause.outcome == "failed" and attribution.not_attributed(clause)
    assert clause.platform.startswith("not attributed: the rerun with TF_ENABLE_ONEDNN_OPTS=0 could not run: could "
                                      "not start"), clause.platform
    assert done["not_attributed"] == 1 and done["platform"] == 0 and done["error"]
    result = RunResult({"spec": "layer.py:C", "class": "C", "file": "f"}, {"name": "dense"}, {}, clauses=[clause],
                       attribution=done)
    terminal = _Terminal()
    reporter._write_platform(terminal, result, "")
    text = "\n".join(terminal.lines)
    assert "1 failed clause(s) not attributed" in text and "own failure" not in text, text


def test_parity_and_bench_runs_that_cannot_start_say_so(tmp_path, monkeypatch):
    """A backend whose child cannot start is a "could not run" row in parity and in the benchmarks, not a crash."""
    monkeypatch.setenv(environment.CHILD_PYTHON, str(tmp_path / "no-such-python"))
    monkeypatch.chdir(tmp_path)
    args = types.SimpleNamespace(area=["build"], impls=["layers:OpsDense"], profile="dense", report=None,
                                 xfail_file=None, xfail_write=None, strict=False, cause=[], verbose=False,
                                 impl="layers:OpsDense", legacy=False)
    run = parity.run_spec(args, "jax", tmp_path, [])
    assert run["result"] is None and run["message"].startswith("could not run: could not start"), run
    assert "could not run" in "\n".join(parity.spec_table([run]))
    why = backends.run_backend("jax", "layers:OpsDense", tmp_path / "jax.json")
    assert why.startswith("could not start"), why


def test_pool_whose_workers_cannot_start_answers_every_job_with_the_reason(tmp_path, monkeypatch):
    """A pool whose worker cannot start gives each job an error result naming why, and keeps serving jobs."""
    monkeypatch.setenv(environment.CHILD_PYTHON, str(tmp_path / "no-such-python"))
    with runs.WorkerPool(1) as pool:
        results = [pool.submit(runs.Job("layers:MyDenseLayer", (area,))).result() for area in ("bias", "build")]
    for result in results:
        assert result.error.startswith("the worker could not run: could not start"), result.error
        assert result.verdict()[0] != "CONFORMS"


# ---- a crash in a clause


def test_clause_log_names_the_clause_a_process_died_in(tmp_path):
    """The clause that started and did not finish is the one the process died in; a half-written line is skipped."""
    log = tmp_path / "clauses.jsonl"
    log.write_text("\n".join(json.dumps(r) for r in (
        {"start": "a"}, {"report": {"nodeid": "a", "when": "call"}}, {"finish": "a"}, {"start": "b"},
        {"report": {"nodeid": "b", "when": "setup"}})) + '\n{"report": {"nodeid": "b", "wh')
    done, running, ended = launcher.read_log(log)
    assert done == {"a": [{"nodeid": "a", "when": "call"}]} and running == "b" and not ended
    crashed: dict = {}
    assert launcher.resume_after(log, crashed, "SIGSEGV (signal 11)") == "b"
    assert crashed["b"].startswith("the process died in this clause: SIGSEGV (signal 11)")
    assert launcher.resume_after(log, crashed, "SIGSEGV (signal 11)") is None  # the same clause again: no loop
    assert launcher.resume_data(log, crashed) == {"done": done, "crashed": crashed}
    assert launcher.how_it_ended(-6) == "SIGABRT (signal 6)" and launcher.how_it_ended(3) == "exit code 3"


# ---- end to end (full tier)


def _needs_keras3_reference():
    if LEGACY:
        pytest.skip("the layers subclass the Keras 3 reference layer; one generation is enough for the mechanism")


@FULL
def test_simulated_defect_beside_platform_py_and_types_py_gets_the_platform_outcome(tmp_path):
    """The simulated-defect layer, copied beside a user's platform.py and types.py, conforms with 2 platform outcomes:
    the rerun child imports the standard library's modules, not the user's."""
    _needs_keras3_reference()
    folder = _shadowed_folder(tmp_path)
    shutil.copy(REPO / "tests" / "platform_layers.py", folder / "platform_layers.py")
    report = tmp_path / "report.json"
    proc = run_spec("spec_tests/test_dtypes.py", "-k", "mixed_precision_outputs and mixed_float16",
                    f"--impl={folder / 'platform_layers.py'}:OneDnnSensitiveDense", f"--spec-report={report}",
                    env={environment.SIMULATE_DEFECT: "1", environment.ONEDNN_OPTS: "1"})
    data = json.loads(report.read_text())
    assert proc.returncode == 0 and data["conforms"], proc.output[-3000:]
    assert data["totals"]["platform"] == 2 and data["totals"]["failed"] == 0, data["totals"]


@FULL
def test_rerun_that_cannot_start_is_not_attributed_end_to_end(tmp_path):
    """A real run whose rerun cannot start: DOES NOT CONFORM (the failures stay), said to be not attributed."""
    _needs_keras3_reference()
    report = tmp_path / "report.json"
    proc = run_spec("spec_tests/test_dtypes.py", "-k", "mixed_precision_outputs and mixed_float16",
                    f"--impl={REPO / 'tests/platform_layers.py'}:OneDnnSensitiveDense", f"--spec-report={report}",
                    env={environment.SIMULATE_DEFECT: "1", environment.ONEDNN_OPTS: "1",
                         environment.CHILD_PYTHON: str(tmp_path / "no-such-python")})
    data = json.loads(report.read_text())
    assert proc.returncode == 1 and not data["conforms"], proc.output[-3000:]
    assert data["totals"]["failed"] == 2 and data["totals"]["platform"] == 0
    assert all(c["platform"].startswith("not attributed: the rerun") for c in data["failed"]), data["failed"]
    assert "2 failed clause(s) not attributed" in proc.output and "layer's own failures" not in proc.output


@FULL
def test_check_of_a_layer_that_aborts_in_one_clause_ends_in_a_verdict(tmp_path):
    """layer-spec check, from a folder that also holds platform.py and types.py, on a layer that calls os.abort() in
    one clause: DOES NOT CONFORM, that clause failed as crashed with SIGABRT, every other clause run."""
    _needs_keras3_reference()
    folder = _shadowed_folder(tmp_path, **{"aborting.py": ABORTING})
    report = tmp_path / "report.json"
    env = {key: value for key, value in os.environ.items() if key not in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    proc = subprocess.run([sys.executable, "-P", "-m", "spec_tests.harness.cli", "check", "aborting.py:AbortOnSeven",
                           "--area", "construction", "--report", str(report)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=900)
    output = proc.stdout + proc.stderr
    data = json.loads(report.read_text())
    assert proc.returncode == 1 and "DOES NOT CONFORM" in output, output[-3000:]
    (crashed,) = data["failed"]
    assert crashed["id"] == CRASHED_CLAUSE and "the process died in this clause: SIGABRT" in crashed["message"]
    assert data["totals"]["failed"] == 1 and data["totals"]["passed"] >= 20, data["totals"]
    assert f"the process died in {CRASHED_CLAUSE} (SIGABRT" in output
    assert "PytestAssertRewriteWarning" not in output  # the children import nothing of the harness before pytest


@FULL
def test_pool_worker_that_dies_resumes_the_job_and_serves_the_next(tmp_path):
    """A worker that dies in a clause: the job resumes in a new worker without it (failed, crashed), and the next job
    still runs."""
    _needs_keras3_reference()
    (tmp_path / "aborting.py").write_text(ABORTING)
    with runs.WorkerPool(1) as pool:
        crashed = pool.submit(runs.Job(f"{tmp_path / 'aborting.py'}:AbortOnSeven", ("construction",))).result()
        after = pool.submit(runs.Job("layers:MyDenseLayer", ("construction",))).result()
    assert not crashed.error, crashed.error
    (failed,) = crashed.of("failed")
    assert failed.id == CRASHED_CLAUSE and "SIGABRT" in failed.message
    assert crashed.totals()["passed"] >= 20
    assert not after.error and after.verdict()[0] == "CONFORMS", after.error


@FULL
def test_plain_pytest_with_one_xdist_worker_gives_the_crash_its_verdict(tmp_path):
    """Plain pytest users get crash isolation from pytest-xdist (-n 1): the clause whose worker died is a failed MUST
    clause in the spec's summary, and the verdict is DOES NOT CONFORM (without the crash tags it read CONFORMS)."""
    _needs_keras3_reference()
    (tmp_path / "aborting.py").write_text(ABORTING)
    report = tmp_path / "report.json"
    proc = run_spec("spec_tests/test_construction.py", f"--impl={tmp_path / 'aborting.py'}:AbortOnSeven", "-n", "1",
                    f"--spec-report={report}")
    data = json.loads(report.read_text())
    assert proc.returncode == 1 and not data["conforms"], proc.output[-3000:]
    (crashed,) = data["failed"]
    assert crashed["id"] == CRASHED_CLAUSE and "crashed while running" in crashed["message"]
    assert data["totals"]["failed"] == 1 and data["totals"]["passed"] >= 20, data["totals"]
