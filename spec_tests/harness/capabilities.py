"""Capabilities in a run: which ones Keras's ``Dense`` has here, which the layer claims, and how their clauses ended.

The catalogue (:data:`~spec_tests.harness.catalogue.CAPABILITIES`) says what
each capability means and where Keras's ``Dense`` has it; the selection part
(:func:`~spec_tests.harness.selection.claimed_capabilities`) says which ones
the layer under test claims. This module puts the two together:

* :func:`skip_reason`: why a capability's clauses do not run here (not claimed,
  or ``Dense`` has no such capability on this generation and backend, so there
  is nothing to check against), or None when they run;
* :func:`rows`: the capability table of a finished run, plain data for
  ``RunResult.capabilities``;
* :func:`terminal_lines` and :func:`render_capabilities`: that table for the
  end-of-run summary and for the Markdown report.

A capability the layer does not claim is neither passed nor failed: its
clauses end as ``not_claimed``, apart from the skipped ones.
"""

from __future__ import annotations

from spec_tests import environment
from spec_tests.harness.catalogue import CAPABILITIES

#: The outcome of a clause whose capability the layer does not claim: neither passed, failed nor skipped.
NOT_CLAIMED = "not_claimed"
#: How to claim a capability, for skip reasons and the report.
HOW_TO_CLAIM = f"claim it with the class attribute layer_spec_capabilities, --capabilities or {environment.CAPABILITIES}"


def runtime() -> tuple[int, str]:
    """This process's Keras generation and backend: ``(3, "tensorflow")``; legacy Keras 2 runs on TensorFlow only."""
    from spec_tests import generation

    if generation.LEGACY:
        return 2, "tensorflow"
    return 3, generation.keras.config.backend()


def runtime_label(generation: int, backend: str) -> str:
    return f"Keras {generation}, {backend}"


def dense_capabilities(generation: int, backend: str) -> tuple[str, ...]:
    """The capabilities Keras's own ``Dense`` has on this generation and backend, in catalogue order."""
    return tuple(name for name, cap in CAPABILITIES.items() if cap.dense_has(generation, backend))


def skip_reason(name: str, claimed, generation: int, backend: str) -> str | None:
    """Why the clauses of capability ``name`` do not run for a layer claiming ``claimed``; None when they run."""
    if name not in claimed:
        return f"not claimed: {name} ({HOW_TO_CLAIM})"
    if not CAPABILITIES[name].dense_has(generation, backend):
        return (f"claimed, but not checked on {runtime_label(generation, backend)}: keras Dense has no {name} here "
                f"(it has it on {CAPABILITIES[name].where()}), so there is nothing to check against")
    return None


def rows(claimed, outcomes: dict, generation: int, backend: str) -> list[dict]:
    """The capability table: one row per capability, or none when no capability clause was collected.

    ``outcomes`` maps a capability to the outcomes of its clause cases in this run.
    """
    if not any(outcomes.values()):
        return []
    table = []
    for name, cap in CAPABILITIES.items():
        ended = list(outcomes.get(name, ()))
        counts = {key: sum(1 for outcome in ended if outcome == key)
                  for key in ("passed", "failed", "advisory", "skipped", NOT_CLAIMED)}
        counts["passed"] += sum(1 for outcome in ended if outcome == "xpassed")
        has_it = cap.dense_has(generation, backend)
        if name not in claimed:
            status = "not claimed"
        elif not has_it:
            status = "not checked here"
        elif counts["failed"]:
            status = "failed"
        elif counts["passed"]:
            status = "passed"
        else:
            status = "not run"
        table.append({"capability": name, "meaning": cap.meaning, "runtime": runtime_label(generation, backend),
                      "dense": has_it, "dense_where": cap.where(), "claimed": name in claimed, "status": status,
                      **counts})
    return table


def _dense_cell(row: dict) -> str:
    return "yes" if row["dense"] else f"no (has it on {row['dense_where']})"


def _impl_cell(row: dict) -> str:
    status = row["status"]
    if status == "not claimed":
        return "not claimed" + (f" ({row[NOT_CLAIMED]} clause case(s) not run)" if row[NOT_CLAIMED] else "")
    if status == "not checked here":
        return "claimed; not checked here (keras Dense has no such capability to check against)"
    if status == "failed":
        return f"claimed; FAILED ({row['failed']} of {row['failed'] + row['passed']} clause case(s) failed)"
    if status == "passed":
        advisories = f", {row['advisory']} advisory(ies)" if row["advisory"] else ""
        return f"claimed; passed ({row['passed']} clause case(s){advisories})"
    return "claimed; no clause ran"


def terminal_lines(table: list[dict]) -> list[str]:
    """The capability table as aligned text lines for the end-of-run summary ([] when there is none)."""
    if not table:
        return []
    header = ("capability", f"keras Dense ({table[0]['runtime']})", "this implementation")
    cells = [header] + [(row["capability"], _dense_cell(row), _impl_cell(row)) for row in table]
    widths = [max(len(cell[i]) for cell in cells) + 2 for i in range(2)]
    return [cell[0].ljust(widths[0]) + cell[1].ljust(widths[1]) + cell[2] for cell in cells]


def render_capabilities(table: list[dict]) -> list[str]:
    """The capability table as a Markdown section ([] when there is none)."""
    if not table:
        return []
    where = f" ({table[0]['runtime']})"
    out = ["## Capabilities", "",
           "What keras.layers.Dense does beyond the core contract. A claimed capability that fails is a failure; "
           f"one that is not claimed is neither passed nor failed ({HOW_TO_CLAIM}).", "",
           f"| capability | keras Dense{where} | this implementation | what it means |", "|---|---|---|---|"]
    out += [f"| `{row['capability']}` | {_dense_cell(row)} | {_impl_cell(row)} | {row['meaning']} |" for row in table]
    return out + [""]


__all__ = ["HOW_TO_CLAIM", "NOT_CLAIMED", "dense_capabilities", "render_capabilities", "rows", "runtime",
           "runtime_label", "skip_reason", "terminal_lines"]
