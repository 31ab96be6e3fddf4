"""Attribution by re-execution: tell a platform defect from the layer's own, by rerunning the failure without it.

When the platform probe (``spec_tests/platform_probe.py``) found a defective kernel on this machine, the failed
MUST clauses that could have met it (those whose case or message names a defective dtype; every one when float32
itself is defective) are rerun, in one child process per implementation, under the platform's reference
configuration (for TensorFlow on CPU: ``TF_ENABLE_ONEDNN_OPTS=0``). A clause that passes there gets the outcome
``platform``: it is not held against the layer (``--spec-strict`` counts it), and the summary says what is wrong,
on which kernel, what the layer's users will see on this machine and how to avoid it. A clause that fails there too
stays a failure, with that evidence: attribution never launders a real bug.

Nothing is rerun when the probe found no defect, when the backend has no reference configuration, or in the child
itself (``LAYER_SPEC_PLATFORM_CHILD``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spec_tests.harness.catalogue import MUST, SPEC_DIR
from spec_tests.harness.impls import importable

#: The outcome of a clause that fails only because of the platform.
PLATFORM = "platform"
#: The hint table's entry for a value failure in a dtype the probe found wrong (harness/hints.py).
PLATFORM_PITFALL = "platform_kernel_defect"
#: At most this long for one implementation's rerun.
TIMEOUT_S = 600
#: Environment variables the child must not inherit: they would change what or how it runs.
_DROPPED_ENV = ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_CURRENT_TEST")


def names_dtype(text: str, dtype: str) -> bool:
    """``float16`` in ``mixed_float16-via-dtype-arg`` or ``float16 output``, not in ``bfloat16``."""
    return re.search(rf"(?<![A-Za-z0-9]){dtype}(?![0-9])", text) is not None


def candidates(clauses, probe) -> list:
    """The failed MUST clauses a defect of ``probe`` could explain."""
    dtypes = probe.defective_dtypes
    failed = [clause for clause in clauses if clause.outcome == "failed" and clause.level == MUST]
    if "float32" in dtypes:  # every clause computes in float32 somewhere
        return failed
    return [clause for clause in failed
            if any(names_dtype(f"{clause.id}\n{clause.message}", dtype) for dtype in dtypes)]


def node_id(clause_id: str) -> str:
    """A clause's canonical id (``spec_tests/test_dtypes.py::test_x[case]``) as a node id any directory can run."""
    module, _, name = clause_id.partition("::")
    return f"{SPEC_DIR / Path(module).name}::{name}"


def child_command(state, clause_ids, report_path) -> list[str]:
    command = [sys.executable, "-m", "pytest", *(node_id(clause_id) for clause_id in clause_ids),
               f"--impl={state.choice}", "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:xdist",
               "-o", "addopts=", "-q", f"--spec-report={report_path}"]
    if state.capabilities:
        command.append(f"--capabilities={','.join(sorted(state.capabilities))}")
    return command


def child_environment(probe) -> dict:
    from spec_tests import environment

    env = {key: value for key, value in os.environ.items() if key not in _DROPPED_ENV}
    env.update(probe.reference)
    env[environment.PLATFORM_CHILD] = "1"
    paths = [path for path in sys.path if path and os.path.isdir(path)]  # what this process can import, the child too
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([*paths, *filter(None, env.get("PYTHONPATH", "").split(
        os.pathsep))]))
    return env


def rerun(state, clause_ids, probe, cwd) -> tuple[dict, str, float]:
    """Rerun ``clause_ids`` of ``state`` under the reference configuration: ({clause id: outcome}, error, seconds)."""
    start = time.perf_counter()
    if not importable(state.spec):
        return {}, "a class handed over as an object cannot be imported by a child process", 0.0
    with tempfile.TemporaryDirectory(prefix="layer-spec-platform-") as tmp:
        report = Path(tmp, "rerun.json")
        try:
            done = subprocess.run(child_command(state, clause_ids, report), cwd=cwd, env=child_environment(probe),
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {}, f"the rerun did not finish: {exc}", time.perf_counter() - start
        if not report.exists():
            tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-3:])
            return {}, f"the rerun wrote no report (exit {done.returncode}): {tail}", time.perf_counter() - start
        data = json.loads(report.read_text(encoding="utf-8"))
    outcomes = {clause["id"]: clause["outcome"] for clause in data.get("clauses", [])}
    return outcomes, "", time.perf_counter() - start


def evidence(probe) -> str:
    """The defects as one line: ``einsum '...i,io->...o' float16 eager: max error 2.84, rounding allows 0.031; ...``."""
    return "; ".join(check.describe() for check in probe.defects)


def attribute(clauses, state, probe, cwd) -> dict:
    """Rerun the candidates among ``clauses`` (ClauseResult, changed in place); return what was done, for the
    summary: ``{"rerun": n, "platform": n, "seconds": s, "error": str}``."""
    chosen = candidates(clauses, probe) if probe.can_attribute() else []
    if not chosen:
        return {"rerun": 0, "platform": 0, "seconds": 0.0, "error": ""}
    outcomes, error, seconds = rerun(state, [clause.id for clause in chosen], probe, cwd)
    switch, moved = probe.switch(), 0
    for clause in chosen:
        seen = outcomes.get(clause.id)
        if error:
            clause.platform = f"could not be rerun with {switch}: {error}"
        elif seen == "passed":
            clause.outcome, moved = PLATFORM, moved + 1
            clause.platform = f"passes with {switch}; wrong on this machine: {evidence(probe)}"
        else:
            clause.platform = (f"fails with {switch} too ({seen or 'not run'} there): the layer's own failure, not "
                               f"the platform's")
            if clause.pitfall_name == PLATFORM_PITFALL:  # the hint guessed the platform; the rerun says otherwise
                clause.hint, clause.pitfall, clause.pitfall_name = clause.platform, None, None
    return {"rerun": len(chosen), "platform": moved, "seconds": seconds, "error": error}


def workarounds(probe) -> list[str]:
    """What the layer's users will see on such a machine, and how to avoid it."""
    kernels = sorted({check.kernel for check in probe.defects})
    lines = [f"on this machine the layer's users get the wrong values too, from {', '.join(kernels)}"
             f" ({', '.join(sorted(probe.defective_dtypes))}); the same code is right with {probe.switch()}"]
    if any(kernel.startswith("einsum") for kernel in kernels):
        lines.append("workarounds: an explicit einsum equation ('abc,cd->abd' rather than '...i,io->...o'), "
                     "tf.matmul / keras.ops.matmul or tf.tensordot, or run with " + probe.switch())
    elif probe.reference:
        lines.append(f"workaround: run with {probe.switch()}")
    return lines


__all__ = ["PLATFORM", "attribute", "candidates", "child_command", "evidence", "names_dtype", "node_id", "rerun",
           "workarounds"]
