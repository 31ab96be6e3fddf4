"""Attribution by re-execution: tell a platform defect from the layer's own, by rerunning the failure without it.

When the platform probe (``spec_tests/platform_probe.py``) found a defective kernel on this machine, the failed
MUST clauses that could have met it (those whose case or message names a defective dtype; every one when float32
itself is defective) are rerun, in one child process per implementation, under the platform's reference
configuration (for TensorFlow on CPU: ``TF_ENABLE_ONEDNN_OPTS=0``). A clause that passes there gets the outcome
``platform``: it is not held against the layer (``--spec-strict`` counts it), and the summary says what is wrong,
on which kernel, what the layer's users will see on this machine and how to avoid it. A clause that fails there too
stays a failure, with that evidence: attribution never launders a real bug. A rerun that could not run (it failed to
start, died, ran past its time limit or wrote no report), or that did not run a clause, is no evidence either way: the
clause stays a failure of the run, labelled :data:`NOT_ATTRIBUTED` with the reason, never "the layer's own".

The child is started by the launcher (:mod:`~spec_tests.harness.launcher`), with its one rule for the import path: a
``platform.py`` beside the layer cannot shadow the standard library there.

Nothing is rerun when the probe found no defect, when the backend has no reference configuration, or in the child
itself (``LAYER_SPEC_PLATFORM_CHILD``).
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from spec_tests import environment
from spec_tests.harness import launcher
from spec_tests.harness.catalogue import MUST, SPEC_DIR
from spec_tests.harness.impls import importable

#: The outcome of a clause that fails only because of the platform.
PLATFORM = "platform"
#: The hint table's entry for a value failure in a dtype the probe found wrong (harness/hints.py).
PLATFORM_PITFALL = "platform_kernel_defect"
#: The label of a failed clause the rerun gave no evidence about: it stays a failure, neither the layer's own nor the
#: platform's.
NOT_ATTRIBUTED = "not attributed"
#: At most this long for one implementation's rerun.
TIMEOUT_S = 600


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


def child_args(state, clause_ids, report_path) -> list[str]:
    """The rerun's pytest arguments."""
    args = [*(node_id(clause_id) for clause_id in clause_ids), f"--impl={state.choice}", "-p", "no:randomly",
            "-p", "no:cacheprovider", "-p", "no:xdist", "-o", "addopts=", "-q", f"--spec-report={report_path}"]
    if state.capabilities:
        args.append(f"--capabilities={','.join(sorted(state.capabilities))}")
    return args


def rerun(state, clause_ids, probe, cwd) -> tuple[dict, str, float]:
    """Rerun ``clause_ids`` of ``state`` under the reference configuration: ({clause id: outcome}, why the rerun
    could not run or "", seconds)."""
    if not importable(state.spec):
        return {}, "a class handed over as an object cannot be imported by a child process", 0.0
    env = launcher.child_environment({**probe.reference, environment.PLATFORM_CHILD: "1"})
    with tempfile.TemporaryDirectory(prefix="layer-spec-platform-") as tmp:
        report = Path(tmp, "rerun.json")
        child = launcher.run_child(launcher.python_command("pytest", *child_args(state, clause_ids, report)), env,
                                   cwd=cwd, timeout=TIMEOUT_S)
        if child.unknown:
            return {}, child.unknown + (f": {child.tail()}" if child.tail() else ""), child.seconds
        if not report.exists():
            return {}, f"it wrote no report ({launcher.how_it_ended(child.returncode)}): {child.tail()}", child.seconds
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except ValueError as exc:
            return {}, f"its report is not JSON: {exc}", child.seconds
    outcomes = {clause["id"]: clause["outcome"] for clause in data.get("clauses", [])}
    return outcomes, "", child.seconds


def evidence(probe) -> str:
    """The defects as one line: ``einsum '...i,io->...o' float16 eager: max error 2.84, rounding allows 0.031; ...``."""
    return "; ".join(check.describe() for check in probe.defects)


def attribute(clauses, state, probe, cwd) -> dict:
    """Rerun the candidates among ``clauses`` (ClauseResult, changed in place); return what was done, for the
    summary: ``{"rerun": n, "platform": n, "not_attributed": n, "seconds": s, "error": str}``.

    A clause that passes there becomes ``platform``; one that fails there too stays failed, the layer's own; one the
    rerun gave no answer for (it could not run, or did not run that clause) stays failed, :data:`NOT_ATTRIBUTED`."""
    chosen = candidates(clauses, probe) if probe.can_attribute() else []
    if not chosen:
        return {"rerun": 0, "platform": 0, "not_attributed": 0, "seconds": 0.0, "error": ""}
    outcomes, error, seconds = rerun(state, [clause.id for clause in chosen], probe, cwd)
    switch, moved, unknown = probe.switch(), 0, 0
    for clause in chosen:
        seen = outcomes.get(clause.id)
        if error or seen not in ("passed", "failed", "advisory"):
            why = f"the rerun with {switch} could not run: {error}" if error else (
                f"the rerun with {switch} did not run it ({seen or 'absent from its report'})")
            clause.platform, unknown = f"{NOT_ATTRIBUTED}: {why}", unknown + 1
        elif seen == "passed":
            clause.outcome, moved = PLATFORM, moved + 1
            clause.platform = f"passes with {switch}; wrong on this machine: {evidence(probe)}"
        else:
            clause.platform = (f"fails with {switch} too ({seen} there): the layer's own failure, not "
                               f"the platform's")
            if clause.pitfall_name == PLATFORM_PITFALL:  # the hint guessed the platform; the rerun says otherwise
                clause.hint, clause.pitfall, clause.pitfall_name = clause.platform, None, None
    return {"rerun": len(chosen), "platform": moved, "not_attributed": unknown, "seconds": seconds, "error": error}


def not_attributed(clause) -> bool:
    """Whether the rerun gave no evidence about this failed clause."""
    return (clause.platform or "").startswith(NOT_ATTRIBUTED)


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


__all__ = ["NOT_ATTRIBUTED", "PLATFORM", "attribute", "candidates", "child_args", "evidence", "names_dtype", "node_id",
           "not_attributed", "rerun", "workarounds"]
