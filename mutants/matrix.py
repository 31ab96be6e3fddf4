"""The kill matrix: every mutant against every spec area, as a Markdown table.

    python -m mutants.matrix --kill-matrix docs/kill-matrix.md [--areas all] [--workers 2] [--json out.json]

Rows are mutants (with the mistake they make), columns are spec areas, and a
cell is the number of that area's MUST clauses that fail for that mutant, then
in parentheses its advisories (failed SHOULD clauses), e.g. ``3 (2a)``. Cells
of areas the mutant lists in ``KILLED_BY`` are bold; such a cell with no
failing MUST clause is a meta-test failure and shows as ``MISSED``, except for
an advisory-only mutant (its only mistake is the form of a refusal), whose
listed cells need an advisory. Two control rows, the reference layer and the
generation's own ``Dense``, must stay empty.

The whole spec runs once per mutant, so this takes a while (minutes); the
Keras generation is the one this process runs (``TF_USE_LEGACY_KERAS=1`` for Keras 2).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time

from mutants import all_mutants, spec_areas
from spec_tests.harness.runs import Job, WorkerPool, default_workers
from spec_tests.harness.records import RunResult

EMPTY = "·"


def controls(generation: int, backend: str = "tensorflow") -> list[tuple[str, str]]:
    """Implementations that must pass everything: (spec, description). Off TensorFlow the reference layer, which
    is TensorFlow-only, gives way to its keras.ops twin."""
    dense = "tf_keras.layers:Dense" if generation == 2 else "keras.layers:Dense"
    reference = ("layers:MyDenseLayer", "control: the reference layer") if backend == "tensorflow" else (
        "layers:OpsDense", "control: the reference layer in keras.ops")
    return [reference, (dense, "control: the generation's own Dense")]


def _areas_for(choice: str, mutant_killed_by: tuple[str, ...], every_area: list[str]) -> tuple[str, ...]:
    if choice == "all":
        return tuple(every_area)
    if choice == "killed-by":
        return tuple(mutant_killed_by)
    chosen = [area.strip() for area in choice.split(",") if area.strip()]
    unknown = [area for area in chosen if area not in every_area]
    if unknown:
        raise SystemExit(f"--areas: unknown area(s) {unknown}; areas: {', '.join(every_area)}")
    return tuple(chosen)


def _counts(result: RunResult, area: str) -> str:
    failed, advised = len(result.failed_in(area)), len(result.advisories_in(area))
    return " ".join(part for part in (str(failed) if failed else "", f"({advised}a)" if advised else "") if part)


def _rejected(result: RunResult, area: str, advisory_only: bool) -> bool:
    """Whether ``area`` rejects the mutant as the meta test demands: a MUST failure, or an advisory if advisory-only."""
    return bool(result.advisories_in(area)) if advisory_only else result.killed_by(area)


def _cell(result: RunResult | None, area: str, listed: bool, advisory_only: bool = False) -> str:
    if result is None:
        return ""
    if result.error and not result.clauses:
        return "err"
    if area not in result.areas():
        return ""
    counts = _counts(result, area)
    if not listed:
        return counts or EMPTY
    if _rejected(result, area, advisory_only):
        return f"**{counts}**"
    return "**MISSED**" + (f" {counts}" if counts else "")


HEADER = f"""# Kill matrix

Every mutant of the zoo (`mutants/`) against every area of the spec (`spec_tests/`), written by
`python -m mutants.matrix --kill-matrix PATH`. A cell is the number of the area's clauses that fail for the
mutant: failing MUST clauses, then in parentheses advisories (failing SHOULD clauses, e.g. `(2a)`); **bold** marks an
area the mutant lists in `KILLED_BY`; `{EMPTY}` means every clause of the area passed; **MISSED** is a listed area
that accepted the mutant (the meta test `tests/test_mutants.py` fails on it); `err` is a run that could not
happen. Mutants marked *advisory only* make only the form of a refusal wrong: their listed areas must give them
an advisory, and no MUST clause may fail. The two control rows must stay empty.
"""


def render(rows, areas, generation_line: str, seconds: float, workers: int, command: str) -> str:
    """One section of the matrix. rows: (label, doc, killed_by, RunResult|None, note, advisory_only) tuples."""
    out = [
        f"## {generation_line}",
        "",
        f"`{command}`, {datetime.date.today().isoformat()}: {seconds:.0f} s with {workers} worker process(es).",
        "",
        "| Mutant | Mistake | " + " | ".join(areas) + " |",
        "|---|---|" + "|".join("---:" for _ in areas) + "|",
    ]
    for label, doc, killed_by, result, note, advisory_only in rows:
        cells = ([_cell(result, area, area in killed_by, advisory_only) for area in areas] if result is not None
                 else [note] + [""] * (len(areas) - 1))
        doc = ("*advisory only*: " if advisory_only else "") + doc.replace("|", "/")
        out.append(f"| `{label}` | {doc} | " + " | ".join(cells) + " |")
    out += ["", f"### Summary ({generation_line})", ""]
    mutant_rows = [r for r in rows if not r[0].startswith("control:")]
    run_rows = [r for r in mutant_rows if r[3] is not None]
    killed = [r for r in run_rows if r[3].of("failed")]
    fully = [r for r in run_rows if all(_rejected(r[3], area, r[5]) for area in r[2])]
    errors = [r for r in run_rows if r[3].error]
    out.append(f"- Mutants: {len(mutant_rows)} selected, {len(run_rows)} run here "
               f"({len(mutant_rows) - len(run_rows)} are written for the other generation or another backend).")
    out.append(f"- Killed (at least one failing MUST clause anywhere): {len(killed)} of {len(run_rows)}.")
    out.append(f"- Rejected by every area in their `KILLED_BY`: {len(fully)} of {len(run_rows)} (a MUST failure; "
               "an advisory for the advisory-only ones).")
    advised = [r[0] for r in run_rows if r[5]]
    if advised:
        out.append(f"- Advisory only (only the form of a refusal is wrong): {', '.join(f'`{a}`' for a in advised)}.")
    missed = [f"`{r[0]}` ({', '.join(a for a in r[2] if not _rejected(r[3], a, r[5]))})" for r in run_rows
              if r not in fully]
    if missed:
        out.append(f"- Accepted by a listed area: {'; '.join(missed)}.")
    if errors:
        out.append("- Runs with harness errors: " + "; ".join(f"`{r[0]}`: {r[3].error}" for r in errors) + ".")
    out += ["", "Kills per area (mutants with at least one failing MUST clause; in parentheses, those listing the area):",
            ""]
    for area in areas:
        kills = [r for r in run_rows if r[3].killed_by(area)]
        listed = [r for r in kills if area in r[2]]
        out.append(f"- `{area}`: {len(kills)} ({len(listed)})")
    control_rows = [r for r in rows if r[0].startswith("control:") and r[3] is not None]
    if control_rows:
        out += ["", "Controls (must have no failing clause, SHOULD included):", ""]
    for label, _, _, result, _, _ in control_rows:
        bad = {area: [c.name for c in result.failed_in(area) + result.advisories_in(area)] for area in result.areas()
               if result.killed_by(area) or result.advisories_in(area)}
        verdict = "no failing clause" if not bad and not result.error else f"FAILING: {bad} {result.error or ''}"
        out.append(f"- `{label.removeprefix('control: ')}`: {verdict}.")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutants.matrix", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kill-matrix", metavar="PATH", required=True, help="write the Markdown matrix here")
    parser.add_argument("--areas", default="all",
                        help="'all' (default: the full spec), 'killed-by' (each mutant's own areas) or a,b,c")
    parser.add_argument("--workers", type=int, default=None, help=f"worker processes (default {default_workers()})")
    parser.add_argument("--only", default="", help="run only mutants whose spec contains this text")
    parser.add_argument("--json", metavar="PATH", help="also write every result (failing clauses included) as JSON")
    parser.add_argument("--no-controls", action="store_true", help="skip the reference and Dense control rows")
    parser.add_argument("--append", action="store_true",
                        help="append this generation's section to PATH (e.g. a TF_USE_LEGACY_KERAS=1 run after a Keras 3 one)")
    args = parser.parse_args(argv)

    from layers._compat import GENERATION
    from spec_tests.backend import BACKEND
    from spec_tests import generation

    every_area = spec_areas()
    mutants = [m for m in all_mutants() if args.only in m.spec]
    started = time.perf_counter()
    pool = WorkerPool(args.workers, recycle_after=8)
    jobs: dict[str, Job] = {}
    if not args.no_controls:
        for spec, _ in controls(GENERATION, BACKEND):
            jobs[spec] = Job(spec, _areas_for(args.areas, tuple(every_area), every_area))
    for mutant in mutants:
        if mutant.runs_on(GENERATION, BACKEND):
            jobs[mutant.spec] = Job(mutant.spec, _areas_for(args.areas, mutant.killed_by, every_area), mutant.profile)
    futures = {}
    try:
        for spec, job in jobs.items():
            futures[spec] = pool.submit(job)
        done = 0
        for spec, future in futures.items():
            result = future.result()
            done += 1
            kills = ", ".join(f"{area} {len(result.failed_in(area))}" for area in result.areas()
                              if result.killed_by(area)) or "nothing"
            print(f"[{done}/{len(futures)}] {spec}: {result.seconds:.1f} s; failing: {kills}"
                  + (f"; ERROR {result.error}" if result.error else ""), file=sys.stderr, flush=True)
    finally:
        for future in futures.values():
            future.cancel()
        pool.close()
    seconds = time.perf_counter() - started

    rows = []
    if not args.no_controls:
        for spec, description in controls(GENERATION, BACKEND):
            rows.append((f"control: {spec}", description, (), futures[spec].result(), "", False))
    for mutant in mutants:
        label = mutant.spec.removeprefix("mutants.")
        if mutant.runs_on(GENERATION, BACKEND):
            rows.append((label, mutant.doc, mutant.killed_by, futures[mutant.spec].result(), "", mutant.advisory_only))
        else:
            where = (f"Keras {'/'.join(map(str, mutant.generations))} only" if GENERATION not in mutant.generations
                     else f"runs on {', '.join(mutant.backends)} only")
            rows.append((label, mutant.doc, mutant.killed_by, None, where, mutant.advisory_only))
    shown_areas = sorted({a for job in jobs.values() for a in job.areas}, key=every_area.index)
    command = "python -m mutants.matrix --kill-matrix " + args.kill_matrix + (
        f" --areas {args.areas}" if args.areas != "all" else "")
    if args.append:
        command += " --append"
    if GENERATION == 2:
        command = "TF_USE_LEGACY_KERAS=1 " + command
    elif BACKEND != "tensorflow":
        command = f"KERAS_BACKEND={BACKEND} " + command
    text = render(rows, shown_areas, generation.describe(), seconds, pool.size, command)
    with open(args.kill_matrix, "a" if args.append else "w", encoding="utf-8") as handle:
        handle.write(("\n" if args.append else HEADER + "\n") + text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({spec: future.result().to_dict() for spec, future in futures.items()}, handle, indent=1)
    print(f"wrote {args.kill_matrix} ({len(rows)} rows, {len(shown_areas)} areas) in {seconds:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
